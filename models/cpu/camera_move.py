"""The CPU family's video backend: the shot's camera verb made real over its keyframe.

A virtual camera crops an eased, moving window out of the keyframe (dolly = zoom, pan/track =
horizontal shift, tilt/crane = vertical shift, orbit = shift + slight zoom, static = a barely
breathing frame), film grain seeded by the attempt's seed makes each attempt distinct, and the
frames are piped as raw RGB into one libx264 encode by the bundled ffmpeg. No diffusion, no invented
motion. A shot the next one continues (its cut is false) dissolves over its last third into the
exact frame the next clip starts on, so the boundary between them is not a cut.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from reel.camera import camera_move, move_vector
from reel.media import CAPTION_KEY, ffmpeg_exe
from reel.schema import Plan, RenderKnobs, Shot
from models.base import BackendBase

MARGIN = 0.02  # extra over-scale so resampling never reaches the keyframe's edge
GRAIN = 2.0  # grain strength in 8-bit levels (more makes x264 spend most of its time on noise)
BREATH = 0.004  # static shots: peak scale change of the "breathing" frame


def _ease(t: float) -> float:
    """Ease-in-out (cosine): a camera starts and stops gently, as a dolly grip would."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


def _cover(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Resize to fill w x h exactly, centre-cropping whatever the aspect ratio leaves over."""
    ih, iw = img.shape[:2]
    k = max(w / iw, h / ih)
    cw, ch = min(iw, round(w / k)), min(ih, round(h / k))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    return cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)


def _read_rgb(path: Path) -> np.ndarray:
    """The picture as RGB, without an animatic caption strip: a caption riding the camera move
    would slide half out of frame, and would be "motion" the critic has to ignore."""
    with Image.open(path) as im:
        strip = int(im.info.get(CAPTION_KEY, 0))
        rgb = np.asarray(im.convert("RGB"))
    return rgb[: rgb.shape[0] - strip] if 0 < strip < rgb.shape[0] // 2 else rgb


def camera_path(move: str, frames: int) -> list[tuple[float, float, float]]:
    """(zoom, dx, dy) per frame. zoom z shows 1/z of the keyframe; dx, dy place the window centre in
    window widths/heights from the keyframe centre. Travel is centred so it stays inside the keyframe."""
    v = move_vector(move)
    base = 1.0 + MARGIN + max(abs(v["dx"]), abs(v["dy"]))  # room for the travel on both sides
    path = []
    for i in range(frames):
        t = i / max(1, frames - 1)
        e = _ease(t)
        if v["zoom"] >= 0:
            z = base * (1 + v["zoom"] * e)
        else:  # pull back: start magnified, end at the base framing
            z = base * (1 - v["zoom"] * (1 - e))
        if move == "static":
            z *= 1 + BREATH * math.sin(math.pi * t)  # one slow breath over the shot
        path.append((z, v["dx"] * (e - 0.5), v["dy"] * (e - 0.5)))
    return path


def _check_size(w: int, h: int) -> None:
    if w % 2 or h % 2:
        raise ValueError(f"render size {w}x{h} must be even for yuv420p")


def continues(plan: Plan, shot: Shot) -> bool:
    """True when the plan's next shot is not a cut: it picks up where this one ends."""
    return shot.index + 1 < len(plan.shots) and not plan.shots[shot.index + 1].cut


def _source(keyframe: Path, path: list[tuple[float, float, float]], w: int, h: int) -> np.ndarray:
    """The keyframe resampled once at the path's largest magnification, so each frame only shrinks it."""
    zmax = max(z for z, _, _ in path)
    return _cover(_read_rgb(keyframe), math.ceil(w * zmax), math.ceil(h * zmax))


def _window(src: np.ndarray, w: int, h: int, zoom: float, dx: float, dy: float) -> np.ndarray:
    """The output frame seen through a camera at (dx, dy) with magnification `zoom` over src."""
    sh, sw = src.shape[:2]
    # zoom z shows 1/z of the keyframe's width; the shift is in window widths/heights, so a pan
    # moves the picture by the same number of output pixels whatever the zoom.
    s = zoom * w / sw  # output pixels per source pixel
    cx = sw / 2 + dx * sw / zoom
    cy = sh / 2 + dy * sh / zoom
    m = np.float32([[s, 0, w / 2 - s * cx], [0, s, h / 2 - s * cy]])
    return cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


class CameraMoveVideo(BackendBase):
    """Animates a keyframe with the camera move its prompt names (VideoModel protocol)."""

    name = "camera-move"
    cpu = True  # no GPU: calls run beside each other, one per core (runtime/host.py)
    reentrant = True  # each render draws from its own arrays and its own ffmpeg
    data_files = ('camera_verbs.json',)
    model_id = "camera-move-animatic-v1"

    def load(self) -> None:  # nothing to load: OpenCV and ffmpeg only
        pass

    def unload(self) -> None:
        pass

    def render(self, plan: Plan, shot: Shot, keyframe: Path, end_frame: Path | None,
               knobs: RenderKnobs, out: Path) -> None:
        _check_size(knobs.width, knobs.height)
        encode_rgb(self.frames(plan, shot, keyframe, end_frame, knobs), knobs.width, knobs.height, knobs.fps, out)

    def frames(self, plan: Plan, shot: Shot, keyframe: Path, end_frame: Path | None,
               knobs: RenderKnobs) -> Iterator[np.ndarray]:
        """The clip's RGB frames, made one at a time (affine warps of one resampled keyframe)."""
        w, h, n = knobs.width, knobs.height, knobs.frames
        _check_size(w, h)
        # knobs.prompt, not shot.prompt: a retry strategy may have rewritten the camera sentence.
        path = camera_path(camera_move(knobs.prompt), n)
        src = _source(keyframe, path, w, h)
        end = None
        if end_frame is not None and continues(plan, shot):
            # The next shot continues this one: end on the very frame its clip starts on (its keyframe
            # seen through its own camera's first position, as planned), so the boundary is seamless.
            next_path = camera_path(camera_move(plan.shots[shot.index + 1].prompt), n)
            end = _window(_source(end_frame, next_path, w, h), w, h, *next_path[0])
        elif end_frame is not None:  # an identity anchor (first-last-frame retry): settle on the keyframe
            end = _cover(_read_rgb(end_frame), w, h)
        fade_from = n - max(1, n // 3)
        rng = np.random.default_rng(knobs.seed)
        for i, (z, dx, dy) in enumerate(path):
            frame = _window(src, w, h, z, dx, dy)
            if end is not None and i >= fade_from:
                a = _ease((i - fade_from + 1) / (n - fade_from))  # reaches 1 on the last frame
                frame = cv2.addWeighted(frame, 1 - a, end, a, 0)
            yield self._grain(frame, rng)

    @staticmethod
    def _grain(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Monochrome grain at half resolution (softer, filmic, and 4x cheaper to draw)."""
        h, w = frame.shape[:2]
        g = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32) * GRAIN
        g = cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.add(frame, cv2.merge([g, g, g]), dtype=cv2.CV_8U)  # saturating, no float copy of the frame


def encode_rgb(frames: Iterable[np.ndarray], w: int, h: int, fps: int, out: Path) -> None:
    """One libx264 encode of raw RGB frames piped to the bundled ffmpeg (no intermediate files)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
           "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
           "-movflags", "+faststart", "-f", "mp4", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg died; its stderr below says why
    except BaseException:
        proc.kill()  # a frame failed to draw: do not leave ffmpeg waiting on its pipe
        proc.wait()
        raise
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed while encoding {out.name}: {err.strip()[-800:]}")
