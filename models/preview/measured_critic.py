"""Tier-1 measured critic: cheap CPU quality control of a rendered clip with OpenCV.

It measures only what a pixel statistic can defend: frozen stretches, black frames, luma flicker,
global camera motion against the asked camera verb, colour drift from the keyframe and from the
subject's portrait, and an over-saturated or clipped look. Each measurement becomes an axis score
and, past its threshold, an issue that cites the number and the threshold. Labels from the failure
set are used only where a measurement supports one (freeze, black and flicker have no label of
their own, so those issues carry label=None). Thresholds live in prompts/qc_thresholds.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from reel import prompts
from reel.camera import camera_move, move_vector
from reel.schema import FailureLabel, Issue, Plan, RenderKnobs, Shot, Verdict

THRESHOLDS = "qc_thresholds.json"
CAPTION_KEY = "reel:caption_px"  # PNG text chunk: height of an animatic keyframe's caption strip
CRITIC = "measured-qc-v1 (tier 1)"
# Score of an axis sitting exactly on its label threshold. With every labelled axis weighted
# >= 0.23 in the harmonic mean below, one axis at this score pulls overall under 6 on its own.
FAIL_SCORE = 2.5


class MeasuredCritic:
    name = "measured"
    data_files = ('qc_thresholds.json', 'camera_verbs.json')
    model_id = "measured-qc-v1"

    def load(self) -> None:  # nothing to load: OpenCV and numpy only
        pass

    def unload(self) -> None:
        pass

    def critique(self, plan: Plan, shot: Shot, clip: Path, keyframe: Path,
                 portraits: dict[str, Path], knobs: RenderKnobs) -> Verdict:
        started = time.perf_counter()
        t = prompts.table(THRESHOLDS)
        frames, diffs = read_frames(Path(clip), t["sampling"]["width"])
        if len(frames) < t["sampling"]["min_frames"]:
            return Verdict.unscored(CRITIC, f"clip {clip} is missing, unreadable or too short to judge "
                                            f"({len(frames)} frames decoded, need {t['sampling']['min_frames']})")
        key = read_keyframe(Path(keyframe))
        if key is None:
            return Verdict.unscored(CRITIC, f"keyframe {keyframe} is missing or unreadable: drift cannot be judged")
        h, w = frames[0].shape[:2]
        key = cv2.resize(key, (w, h), interpolation=cv2.INTER_AREA)
        gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
        # A night keyframe may itself sit under the floor: then only frames far darker than it are black.
        key_luma = float(cv2.cvtColor(key, cv2.COLOR_BGR2GRAY).mean())
        floor = min(t["black"]["luma_floor"], max(t["black"]["min_luma_floor"], 0.5 * key_luma))
        lit = [g.mean() >= floor for g in gray]

        m: dict[str, float] = {"frames_decoded": float(len(frames))}
        issues: list[Issue] = []
        artifact = [self._freeze(diffs, t, m, issues), self._black(lit, floor, t, m, issues),
                    self._flicker(gray, t, m, issues)]
        black_score = artifact[1]
        motion, measured_pairs = global_motion(gray, lit, t["sampling"]["motion_step"])
        if measured_pairs >= t["sampling"]["min_motion_pairs"]:
            composition = self._camera(knobs.prompt, motion, (w, h), t, m, issues)  # knobs: retries rewrite it
        else:  # mostly black: no camera to judge, and the black issue already says so
            composition = black_score
        if any(lit):
            first, last = lit.index(True), len(lit) - 1 - lit[::-1].index(True)
            start, end = keyframe_views(key, gray[first], motion, t["colour_drift"]["min_overlap"], m)
            shown = [f for f, ok in zip(frames, lit) if ok][:: t["sampling"]["motion_step"]]  # a look changes slowly
            artifact.append(self._stylized(shown, start, t, m, issues))
            character, scene = self._colour(frames[first], frames[last], start, end, shot, portraits, t, m, issues)
        else:  # nothing but black: no colour or look to compare
            character = scene = black_score
        scores = {"character_match": character, "scene_match": min(scene, black_score),
                  "composition": composition, "artifact_free": min(artifact)}
        m["elapsed_s"] = round(time.perf_counter() - started, 3)
        return Verdict(**scores, overall=weighted_harmonic_mean(scores, t["weights"]), issues=issues,
                       critic=CRITIC, measurements=m)

    # ---- one method per check: measure, record the number, score it, raise an issue past the threshold

    def _freeze(self, diffs, t, m, issues) -> float:
        band = t["freeze"]
        run = longest = 0
        for d in diffs:
            run = run + 1 if d < band["pixel_diff"] else 0
            longest = max(longest, run)
        frac = longest / len(diffs)
        m.update(freeze_fraction=frac, median_frame_diff=float(np.median(diffs)))
        if crosses(frac, band):
            issues.append(Issue(detail=f"frozen: {frac:.0%} of the clip is a held frame ({longest} consecutive "
                                       f"frame steps with mean abs luma diff < {band['pixel_diff']}); "
                                       f"threshold {band['fail']:.0%}"))
        return score(frac, band)

    def _black(self, lit, floor, t, m, issues) -> float:
        band = t["black"]
        frac = 1.0 - float(np.mean(lit))
        m.update(black_fraction=frac, black_luma_floor=floor)
        if crosses(frac, band):
            issues.append(Issue(detail=f"black frames: {frac:.0%} of frames have mean luma < {floor:.1f}; "
                                       f"threshold {band['fail']:.0%}"))
        return score(frac, band)

    def _flicker(self, gray, t, m, issues) -> float:
        band = t["flicker"]
        luma = np.array([g.mean() for g in gray])
        x = np.arange(len(luma))
        residual = luma - np.polyval(np.polyfit(x, luma, 1), x)  # a slow fade is not flicker
        value = float(np.diff(residual).std())
        m["flicker"] = value
        if crosses(value, band):
            issues.append(Issue(detail=f"flicker: frame-to-frame luma change std {value:.2f} levels (detrended); "
                                       f"threshold {band['fail']}"))
        return score(value, band)

    def _stylized(self, shown, start: KeyView, t, m, issues) -> float:
        """Over-saturated or clipped: past an absolute ceiling AND clearly beyond the keyframe region shown."""
        band = t["stylized"]
        floor = band["value_floor"]
        sat = float(np.mean([saturation(f, floor) for f in shown]))
        clipped = float(np.mean([clipped_fraction(f) for f in shown]))
        key_sat, key_clipped = saturation(start.image, floor, start.mask), clipped_fraction(start.image, start.mask)
        m.update(saturation=sat, keyframe_saturation=key_sat, clipped_fraction=clipped, keyframe_clipped=key_clipped)
        result = 10.0
        for what, value, ref, b in (("mean saturation", sat, key_sat, band["saturation"]),
                                    ("clipped pixels", clipped, key_clipped, band["clipped"])):
            if value - ref < b["margin"]:
                continue  # the keyframe already looks like this: not the render's doing
            result = min(result, score(value, b))
            if crosses(value, b):
                issues.append(Issue(label=FailureLabel.STYLIZED_AI_LOOK, detail=(
                    f"STYLIZED_AI_LOOK: {what} {value:.2f} (keyframe {ref:.2f}); threshold {b['fail']} "
                    f"when {b['margin']} above the keyframe")))
        return result

    def _camera(self, prompt, motion, size, t, m, issues) -> float:
        move = camera_move(prompt)
        asked = move_vector(move)
        zoom, dx, dy = view_move(motion, size)
        m.update(zoom=zoom, shift_x=dx, shift_y=dy)
        measured = (f"{zoom:+.1%} scale and view shift {dx:+.1%} x / {dy:+.1%} y "
                    f"({dx * size[0]:+.1f}/{dy * size[1]:+.1f} px at {size[0]} px wide)")
        want = np.array([asked["zoom"], asked["dx"], asked["dy"]])
        got = np.array([zoom, dx, dy])
        if not want.any():
            band = t["camera_static"]
            amount = float(np.abs(got).max())
            m["static_motion"] = amount
            if crosses(amount, band):
                issues.append(Issue(label=FailureLabel.CAMERA_IGNORED, detail=(
                    f"CAMERA_IGNORED: asked static but measured {measured}; static tolerance {band['fail']:.0%}")))
            return score(amount, band)
        band = t["camera_move"]
        reach = float(got @ want / (want @ want))  # share of the asked move done in the asked direction
        m["camera_reach"] = reach
        if crosses(reach, band):
            issues.append(Issue(label=FailureLabel.CAMERA_IGNORED, detail=(
                f"CAMERA_IGNORED: asked {move} ({asked['zoom']:+.0%} scale, {asked['dx']:+.0%} x, "
                f"{asked['dy']:+.0%} y) but measured {measured}: {reach:+.0%} of the asked move "
                f"(threshold {band['fail']:.0%})")))
        return score(reach, band)

    def _colour(self, first, last, start: KeyView, end: KeyView, shot, portraits, t, m, issues) -> tuple[float, float]:
        """Colour deltaE of the first and last lit frames against the keyframe as each should show it.
        Returns (character_match, scene_match): drift anywhere in the clip vs a wrong start."""
        band = t["colour_drift"]
        de_first = delta_e(first, start.image, start.mask)
        de_last = delta_e(last, end.image, end.mask)
        drift = max(de_first, de_last)
        m.update(delta_e_first=de_first, delta_e_last=de_last, colour_drift_delta_e=drift)
        if crosses(drift, band):
            issues.append(Issue(label=FailureLabel.CHARACTER_DRIFT, detail=(
                f"CHARACTER_DRIFT: colour moved deltaE {drift:.1f} from the keyframe (grid median of mean Lab; "
                f"first frame {de_first:.1f}, last frame {de_last:.1f}); threshold {band['fail']}")))
        wardrobe = self._wardrobe(shot, portraits, last, end, t, m, issues)
        return min(score(drift, band), wardrobe), score(de_first, band)

    def _wardrobe(self, shot, portraits, last, end: KeyView, t, m, issues) -> float:
        """Does the dominant subject's portrait colour survive to the last frame as much as the keyframe shows it?"""
        band = t["wardrobe"]
        path = portraits.get(shot.dominant_subject)
        master = cv2.imread(str(path)) if path and Path(path).exists() else None
        hue = subject_hue(master, band) if master is not None else None
        if hue is None:
            return 10.0  # no character, no portrait or a colourless one: nothing to measure
        before = hue_presence(end.image, hue, band, end.mask)
        m.update(subject_hue_deg=float(hue * 2), subject_presence_keyframe=before)
        if before < band["min_presence"]:
            return 10.0  # the keyframe barely shows that colour, so its absence proves nothing
        retention = hue_presence(last, hue, band, end.mask) / before
        m["wardrobe_retention"] = retention
        if crosses(retention, band):
            issues.append(Issue(label=FailureLabel.WARDROBE_DRIFT, detail=(
                f"WARDROBE_DRIFT: {shot.dominant_subject}'s portrait colour (hue {hue * 2} deg) covers {before:.1%} of "
                f"the keyframe but {retention:.0%} of that in the last frame; threshold {band['fail']:.0%}")))
        return score(retention, band)


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
    models.preview.painter): the renderer animates only the picture above it."""
    try:
        with Image.open(path) as im:
            strip = int(im.info.get(CAPTION_KEY, 0))
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None
    if 0 < strip < rgb.shape[0] // 2:
        rgb = rgb[: rgb.shape[0] - strip]
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def register(key: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """3x3 affine taking keyframe pixels to a frame's (ORB matches + RANSAC): a renderer may start on
    a crop, an offset or a differently shaped cover of its keyframe. Identity when unconvincing."""
    orb = cv2.ORB_create(nfeatures=800, fastThreshold=10)
    kp_a, des_a = orb.detectAndCompute(key, None)
    kp_b, des_b = orb.detectAndCompute(frame, None)
    if des_a is None or des_b is None:
        return np.eye(3)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des_a, des_b)
    if len(matches) < 20:
        return np.eye(3)
    src = np.float32([kp_a[x.queryIdx].pt for x in matches])
    dst = np.float32([kp_b[x.trainIdx].pt for x in matches])
    aff, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if aff is None or inliers.sum() < 15:
        return np.eye(3)
    scales = np.linalg.norm(aff[:, :2], axis=0)
    if not np.all((scales > 0.5) & (scales < 2.0)):
        return np.eye(3)
    return np.vstack([aff, [0.0, 0.0, 1.0]])


def pair_motion(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 similarity taking frame a's pixels to frame b's: tracked corners, else phase correlation."""
    pts = cv2.goodFeaturesToTrack(a, maxCorners=120, qualityLevel=0.01, minDistance=8)
    if pts is not None and len(pts) >= 12:
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(15, 15), maxLevel=2)
        ok = status.ravel() == 1
        if ok.sum() >= 12:
            sim, _ = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
            if sim is not None:
                return np.vstack([sim, [0.0, 0.0, 1.0]])
    # Flat frames (few corners): translation only.
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (sx, sy), _ = cv2.phaseCorrelate(np.float32(a), np.float32(b), window)
    return np.array([[1.0, 0.0, sx], [0.0, 1.0, sy], [0.0, 0.0, 1.0]])


def global_motion(gray: list[np.ndarray], lit: list[bool], step: int) -> tuple[np.ndarray, int]:
    """Chained similarity from the first frame to the last over every `step`-th frame; black pairs skipped."""
    idx = list(range(0, len(gray), step))
    if idx[-1] != len(gray) - 1:
        idx.append(len(gray) - 1)
    total, measured = np.eye(3), 0
    for i, j in zip(idx, idx[1:]):
        if lit[i] and lit[j]:
            total = pair_motion(gray[i], gray[j]) @ total
            measured += 1
    return total, measured


def view_move(total: np.ndarray, size: tuple[int, int]) -> tuple[float, float, float]:
    """(zoom, dx, dy) of the camera view, as camera_verbs.json writes them: content moving left = view right."""
    w, h = size
    scale = float(np.sqrt(abs(np.linalg.det(total[:2, :2]))))
    cx, cy, _ = total @ np.array([w / 2, h / 2, 1.0])
    return scale - 1.0, float(-(cx - w / 2) / scale / w), float(-(cy - h / 2) / scale / h)


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
                   m: dict[str, float]) -> tuple[KeyView, KeyView]:
    """Where the keyframe sits in the first frame (a renderer may start on a crop or offset of it),
    and where the measured camera move carries it by the last frame."""
    to_first = register(cv2.cvtColor(key, cv2.COLOR_BGR2GRAY), first_gray)
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
