"""ffmpeg access: the static binary shipped by imageio-ffmpeg, and a probe without ffprobe."""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reel.errors import BackendUnavailable

# PNG text chunk on an animatic keyframe: the height in px of its caption strip at the bottom, which
# the preview video and the measured critic leave out (written by models.cpu.painter).
CAPTION_KEY = "reel:caption_px"


@functools.cache
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 - any failure means the same fix
        raise BackendUnavailable(f"ffmpeg not found ({exc}); run `pip install imageio-ffmpeg`") from exc


def run_ffmpeg(args: list[str], what: str) -> str:
    """Run ffmpeg with args; return its stderr. Raise with the tail of its log on failure."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", *args], capture_output=True, text=True)
    if proc.returncode != 0 and "No space left on device" in proc.stderr:
        from reel.store import disk_full

        # Where: the folder of its (last) output; what it needed: about the size of what it reads (a
        # mux or an encode writes that much again). Its cut-off output is in the run's scratch,
        # which the run removes (ArtifactStore.sweep).
        inputs = [a for flag, a in zip(args, args[1:]) if flag == "-i"]
        outputs = [a for a in args if "/" in a and not a.startswith("-") and a not in inputs and Path(a).parent.is_dir()]
        where = Path(outputs[-1]).parent if outputs else Path.cwd()
        needed = sum(Path(a).stat().st_size for a in inputs if Path(a).is_file())
        raise disk_full(where, needed, f"ffmpeg {what}", at_least=True) from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"ffmpeg failed while {what}:\n{tail}")
    return proc.stderr


@dataclass
class MediaInfo:
    duration: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None


def probe(path: str | Path) -> MediaInfo:
    """Read duration, size and codecs from `ffmpeg -i` (the bundled ffmpeg has no ffprobe)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    err = proc.stderr
    m = re.search(r"Duration: (\d+):(\d+):(\d+\.\d+)", err)
    if not m:
        raise RuntimeError(f"cannot read media info from {path}: {err.strip().splitlines()[-1:]}")
    info = MediaInfo(duration=int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]))
    v = re.search(r"Stream #\S+.*?: Video: (\w+)[^,]*(?:\([^)]*\))?, (\w+)[^,]*(?:\([^)]*\))?, (\d+)x(\d+)", err)
    if v:
        info.video_codec, info.pix_fmt = v[1], v[2]
        info.width, info.height = int(v[3]), int(v[4])
        f = re.search(r"(\d+(?:\.\d+)?) fps", err)
        info.fps = float(f[1]) if f else None
    a = re.search(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz", err)
    if a:
        info.audio_codec, info.sample_rate = a[1], int(a[2])
    return info


def decode_mono(path: str | Path, rate: int = 16000):
    """Mono float32 samples of a media file's audio track."""
    import numpy as np

    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "s16le",
                           "-"], capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"cannot decode audio of {path}: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, dtype=np.int16).astype(np.float32) / 32768.0


def rms_db(samples) -> float:
    """RMS level in dBFS (active samples only, so silences do not drag it down)."""
    import numpy as np

    active = samples[np.abs(samples) > 1e-3]
    if active.size == 0:
        return -120.0
    return float(20 * np.log10(np.sqrt(np.mean(active ** 2)) + 1e-9))


def sample_frames(clip: str | Path, fractions: list[float], out_dir: Path) -> list[Path]:
    """PNG frames at the given fractions of the clip (0 = first, 1 = last frame)."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    frames = []
    ok, frame = cap.read()
    while ok:
        frames.append(frame)
        ok, frame = cap.read()
    cap.release()
    if not frames:
        raise RuntimeError(f"no frames could be read from {clip}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, f in enumerate(fractions):
        path = out_dir / f"frame_{i}.png"
        cv2.imwrite(str(path), frames[round(f * (len(frames) - 1))])
        paths.append(path)
    return paths
