"""Plain measurements of a clip for the tier-1 critic (models.measured.measured_critic): frames in,
numbers out. Motion (tracked corners, ECC or phase correlation in flat frames), keyframe registration (models.measured.registration),
colour (grid deltaE, saturation, hue presence), structure (edge correlation on a grid), scene cuts
(content jumps between consecutive frames), and the band scoring every check shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from models.measured.registration import ecc_refine, plausible, register, small
from reel.media import CAPTION_KEY

# Score of an axis sitting exactly on its label threshold. With every labelled axis weighted
# >= 0.23 in the harmonic mean, one axis at this score pulls overall under 6 on its own.
FAIL_SCORE = 2.5


# ---- measurements (plain functions of frames)

def read_frames(clip: Path, width: int) -> tuple[list[np.ndarray], list[float]]:
    """Every decoded frame downscaled to `width`, and the full-resolution mean abs luma diff of each
    consecutive pair (freeze needs full resolution: x264 leaves only faint residue of grain)."""
    if not clip.exists():
        return [], []
    cap = cv2.VideoCapture(str(clip))
    frames, diffs, prev = [], [], None
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            if prev is not None:
                diffs.append(float(cv2.absdiff(luma, prev).mean()))
            prev = luma
            frames.append(downscale(frame, width))
    finally:
        cap.release()
    return frames, diffs


def downscale(frame: np.ndarray, width: int) -> np.ndarray:
    """Halve by area while still at least `width` wide (OpenCV's fast exact-2x path), then finish bilinear:
    a direct INTER_AREA to an odd ratio costs ~4 ms a frame at 832x480, this ~0.7 ms."""
    while frame.shape[1] >= 2 * width:
        frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    h, w = frame.shape[:2]
    if w > width:
        frame = cv2.resize(frame, (width, max(2, round(h * width / w))), interpolation=cv2.INTER_LINEAR)
    return frame


def read_keyframe(path: Path) -> np.ndarray | None:
    """The keyframe as BGR without an animatic caption strip (PNG text CAPTION_KEY, written by
    models.cpu.painter): the renderer animates only the picture above it."""
    try:
        with Image.open(path) as im:
            strip = int(im.info.get(CAPTION_KEY, 0))
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None
    if 0 < strip < rgb.shape[0] // 2:
        rgb = rgb[: rgb.shape[0] - strip]
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def pair_motion(a: np.ndarray, b: np.ndarray, band: dict) -> np.ndarray:
    """3x3 similarity taking frame a's pixels to frame b's: tracked corners; in flat frames (a soft
    insert has a handful) ECC on the low frequencies (band: the registration table), which sees a
    zoom; else phase correlation (translation only)."""
    pts = cv2.goodFeaturesToTrack(a, maxCorners=120, qualityLevel=0.01, minDistance=8)
    if pts is not None and len(pts) >= 12:
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(15, 15), maxLevel=2)
        ok = status.ravel() == 1
        if ok.sum() >= 12:
            sim, _ = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
            if sim is not None:
                return np.vstack([sim, [0.0, 0.0, 1.0]])
    small_a, small_b, scale = small(a, b, band)
    moved = ecc_refine(small_a, small_b, np.eye(3), scale)
    if moved is not None and plausible(moved, band):
        return moved
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (sx, sy), _ = cv2.phaseCorrelate(np.float32(a), np.float32(b), window)
    return np.array([[1.0, 0.0, sx], [0.0, 1.0, sy], [0.0, 0.0, 1.0]])


def global_motion(gray: list[np.ndarray], lit: list[bool], step: int, band: dict) -> tuple[np.ndarray, int]:
    """Chained similarity from the first frame to the last over every `step`-th frame; black pairs skipped."""
    idx = list(range(0, len(gray), step))
    if idx[-1] != len(gray) - 1:
        idx.append(len(gray) - 1)
    total, measured = np.eye(3), 0
    for i, j in zip(idx, idx[1:]):
        if lit[i] and lit[j]:
            total = pair_motion(gray[i], gray[j], band) @ total
            measured += 1
    return total, measured


def view_move(total: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float]:
    """(zoom, dx, dy) of the camera view, as camera_verbs.json writes them: content moving left = view right."""
    w, h = size
    scale = float(np.sqrt(abs(np.linalg.det(total[:2, :2]))))
    cx, cy, _ = total @ np.array([w / 2, h / 2, 1.0])
    return scale - 1.0, float(-(cx - w / 2) / scale / w), float(-(cy - h / 2) / scale / h)


def one_way(gray: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """How much the picture's shapes run one way (structure-tensor coherence: 0 every way, 1 a horizon
    and nothing else), the unit normal of that way (the only direction a move shows in there: the
    aperture problem) and where the shapes are (gradient-energy centroid, px)."""
    g = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.2)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    energy = gx * gx + gy * gy
    total = float(energy.sum())
    h, w = gray.shape
    if total <= 0:
        return 0.0, np.array([0.0, 1.0]), np.array([w / 2, h / 2])
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # the dominant gradient direction
    ys, xs = np.mgrid[0:h, 0:w]
    centroid = np.array([(xs * energy).sum(), (ys * energy).sum()]) / total
    return float(np.hypot(jxx - jyy, 2 * jxy) / total), np.array([np.cos(angle), np.sin(angle)]), centroid


def view_transform(zoom: float, dx: float, dy: float, size: tuple[int, int]) -> np.ndarray:
    """The 3x3 similarity taking the first frame's pixels to the last's for a camera view move (the
    inverse of view_move: content moves left when the view moves right)."""
    w, h = size
    s = 1.0 + zoom
    return np.array([[s, 0.0, (1 - s) * w / 2 - dx * s * w], [0.0, s, (1 - s) * h / 2 - dy * s * h], [0.0, 0.0, 1.0]])


@dataclass
class KeyView:
    """The keyframe moved to where a frame of the clip should show it; mask = the overlap (None: all)."""
    image: np.ndarray
    mask: np.ndarray | None


def follow_camera(key: np.ndarray, total: np.ndarray, min_overlap: float) -> KeyView:
    """The keyframe warped by `total` (keyframe px -> frame px), masked to where it covers the frame."""
    h, w = key.shape[:2]
    moved = cv2.warpAffine(key, total[:2], (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), total[:2], (w, h), flags=cv2.INTER_NEAREST)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))  # keep away from the resampled border
    if (mask > 0).mean() < min_overlap:
        return KeyView(key, None)  # too little overlap to compare regions: compare whole frames
    return KeyView(moved, mask)


def keyframe_views(key: np.ndarray, first_gray: np.ndarray, motion: np.ndarray, min_overlap: float,
                   m: dict[str, float], registration: dict) -> tuple[KeyView, KeyView]:
    """Where the keyframe sits in the first frame (a renderer may start on a crop or offset of it),
    and where the measured camera move carries it by the last frame."""
    to_first = register(cv2.cvtColor(key, cv2.COLOR_BGR2GRAY), first_gray, registration)
    m["keyframe_to_first_scale"] = float(np.sqrt(abs(np.linalg.det(to_first[:2, :2]))))
    return follow_camera(key, to_first, min_overlap), follow_camera(key, motion @ to_first, min_overlap)


def delta_e(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, grid: tuple[int, int] = (6, 4)) -> float:
    """Median over a grid of cells of the CIE76 deltaE between the cells' mean Lab colours.

    Per cell, not whole frame: a frame's mean colour is near grey, so a hue shift barely moves it.
    Median: a subject walking through a few cells is not drift. Cells mostly outside `mask` are skipped."""
    lab_a, lab_b = (cv2.cvtColor(x.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB) for x in (a, b))
    full = np.full(a.shape[:2], 255, np.uint8) if mask is None else mask
    h, w = full.shape
    values = []
    for r in range(grid[1]):
        for c in range(grid[0]):
            cell = (slice(r * h // grid[1], (r + 1) * h // grid[1]), slice(c * w // grid[0], (c + 1) * w // grid[0]))
            if (full[cell] > 0).mean() < 0.8:
                continue
            mean_a, mean_b = cv2.mean(lab_a[cell], full[cell])[:3], cv2.mean(lab_b[cell], full[cell])[:3]
            values.append(float(np.linalg.norm(np.subtract(mean_a, mean_b))))
    return float(np.median(values)) if values else delta_e(a, b, None, (1, 1))


def saturation(bgr: np.ndarray, value_floor: int, mask: np.ndarray | None = None) -> float:
    """Mean HSV saturation (0-1) of pixels bright enough for hue to mean anything (dark-pixel S is noise)."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    counted = (hsv[..., 2] >= value_floor) & (True if mask is None else mask > 0)
    return float(hsv[..., 1][counted].mean() / 255.0) if counted.any() else 0.0


def clipped_fraction(bgr: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Share of pixels whose luma is crushed to black or blown to white."""
    luma = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    clipped = (luma <= 2) | (luma >= 253)
    return float(clipped.mean() if mask is None else clipped[mask > 0].mean())


def subject_hue(master: np.ndarray, band: dict) -> int | None:
    """Dominant hue (OpenCV 0-179) of the saturated pixels in the portrait's centre, where the subject stands."""
    h, w = master.shape[:2]
    hsv = cv2.cvtColor(master[h // 4: 3 * h // 4, w // 4: 3 * w // 4], cv2.COLOR_BGR2HSV)
    vivid = (hsv[..., 1] >= band["saturation_floor"]) & (hsv[..., 2] >= band["value_floor"])
    if vivid.mean() < band["min_presence"]:
        return None
    hist = np.bincount(hsv[..., 0][vivid] // 6, minlength=30)
    return int(hist.argmax() * 6 + 3)


def hue_presence(bgr: np.ndarray, hue: int, band: dict, mask: np.ndarray | None) -> float:
    """Fraction of (masked) pixels that are vivid and within the hue window of `hue` (hue wraps at 180)."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    distance = np.abs((hsv[..., 0].astype(int) - hue + 90) % 180 - 90)
    vivid = (hsv[..., 1] >= band["saturation_floor"]) & (hsv[..., 2] >= band["value_floor"])
    hit = vivid & (distance <= band["hue_window"])
    region = np.ones(hit.shape, bool) if mask is None else mask > 0
    return float((hit & region).sum() / max(1, region.sum()))


# ---- scoring

def score(x: float, band: dict) -> float:
    """10 at band['good'], FAIL_SCORE at band['fail'], 1 at band['worst'], linear between, either direction."""
    xs, ys = [band["good"], band["fail"], band["worst"]], [10.0, FAIL_SCORE, 1.0]
    if xs[0] > xs[-1]:  # higher is better: np.interp wants increasing x
        xs, ys = xs[::-1], ys[::-1]
    return round(float(np.interp(x, xs, ys)), 1)


def crosses(x: float, band: dict) -> bool:
    """True when x sits on or past the fail threshold, on the worst side (so FAIL_SCORE always has an issue)."""
    return x >= band["fail"] if band["worst"] > band["good"] else x <= band["fail"]


def weighted_harmonic_mean(scores: dict[str, float], weights: dict[str, float]) -> float:
    """Harmonic rather than arithmetic: three good axes must not hide one failed one (a frozen clip)."""
    return round(1.0 / sum(weights[k] / scores[k] for k in scores), 1)


# ---- is the clip the shot: structure against a keyframe, and cuts inside the clip

def edges(bgr: np.ndarray) -> np.ndarray:
    """Gradient magnitude of the lightly blurred luma: where the picture's shapes are, whatever their colour."""
    luma = cv2.GaussianBlur(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), 1.2)
    return cv2.magnitude(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))


def structured_cells(bgr: np.ndarray, floor: float, grid: tuple[int, int] = (6, 4)) -> float:
    """The share of grid cells with shapes in them (edge magnitude spread over `floor`): a calm sea,
    an empty field or fog has few, and nothing there to match a frame against."""
    e = edges(bgr)
    h, w = e.shape
    cells = [e[r * h // grid[1]:(r + 1) * h // grid[1], c * w // grid[0]:(c + 1) * w // grid[0]].std()
             for r in range(grid[1]) for c in range(grid[0])]
    return float(np.mean([c > floor for c in cells]))


def structure_match(key: np.ndarray, frame: np.ndarray, min_overlap: float, registration: dict,
                    grid: tuple[int, int] = (6, 4)) -> float:
    """How well a frame shows the keyframe's shapes: the keyframe registered onto the frame (a renderer
    may start on a crop of it), then the correlation of their edge maps per grid cell, averaged with
    each cell weighted by how much is drawn there (a flat sky cell has no shape to match). A cell the
    keyframe does not cover counts as unmatched: a frame showing the keyframe small, inside a wider
    picture, is not that keyframe's framing. 1 = the same drawing, about 0 = unrelated pictures.
    Colour plays no part: a recoloured frame of the right picture still matches."""
    grey = (cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) for x in (key, frame))
    view = follow_camera(key, register(*grey, registration), min_overlap)
    ek, ef = edges(view.image), edges(frame)
    mask = np.full(ek.shape, 255, np.uint8) if view.mask is None else view.mask
    h, w = ek.shape
    total = weight = 0.0
    for r in range(grid[1]):
        for c in range(grid[0]):
            cell = (slice(r * h // grid[1], (r + 1) * h // grid[1]), slice(c * w // grid[0], (c + 1) * w // grid[0]))
            inside = mask[cell] > 0
            if inside.mean() < 0.8:  # the frame shows something here that the keyframe does not
                weight += float(ef[cell].std())
                continue
            a, b = ek[cell][inside], ef[cell][inside]
            sa, sb = float(a.std()), float(b.std())
            ncc = float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb)) if min(sa, sb) > 1e-3 else 0.0
            total, weight = total + (sa + sb) / 2 * ncc, weight + (sa + sb) / 2
    return total / weight if weight > 1e-6 else 0.0


def content_steps(frames: list[np.ndarray]) -> np.ndarray:
    """Mean abs HSV difference between consecutive frames (PySceneDetect's content value, without its
    hue weighting): a camera move changes a frame a little at every step, a cut all at once."""
    hsv = [cv2.cvtColor(f, cv2.COLOR_BGR2HSV).astype(np.int16) for f in frames]
    return np.array([float(np.abs(b - a).mean()) for a, b in zip(hsv, hsv[1:])])


def worst_cut(steps: np.ndarray, window: int) -> tuple[int, float, float]:
    """(step index, content jump, ratio to the clip's typical steps around it) of the most cut-like step:
    its jump over the median of the `window` steps on either side (PySceneDetect's adaptive idea), so
    a fast but steady camera is not a cut."""
    best = (0, 0.0, 0.0)
    for i, v in enumerate(steps):
        around = np.concatenate([steps[max(0, i - window): i], steps[i + 1: i + 1 + window]])
        ratio = float(v / (np.median(around) + 0.5)) if len(around) else 0.0  # +0.5: near-frozen neighbours
        if ratio > best[2]:
            best = (i, float(v), ratio)
    return best
