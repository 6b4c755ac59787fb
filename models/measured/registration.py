"""Where a keyframe sits in a frame of its clip, for the tier-1 critic (models.measured.clip_measures):
a renderer may start on a crop, an offset or a differently shaped cover of its keyframe.

Feature matches (ORB + RANSAC) first, where the picture has corners. A blurred or smooth picture
(a defocused insert, a calm sea, fog) has too few, and a sparse one may give a plausible but sheared
affine; so the estimate is refined by OpenCV's ECC (intensity alignment on the picture's low
frequencies, which needs no corners), started from the feature estimate or, without one, from a
coarse scale-and-offset search (normalized template matching). The refined affine is kept when it is
a camera's view (no shear, scales in range) and fits the frame's blurred luma at least as well as the
features' estimate. Identity when nothing fits. The camera's move between two flat frames is measured
the same way (clip_measures.pair_motion).
"""

from __future__ import annotations

import cv2
import numpy as np


def register(key: np.ndarray, frame: np.ndarray, band: dict) -> np.ndarray:
    """3x3 affine taking keyframe pixels to the frame's (both grey, the same size). band: the
    'registration' table of qc_thresholds.json."""
    found = feature_affine(key, frame)
    small_key, small_frame, scale = small(key, frame, band)
    down = np.diag([scale, scale, 1.0])
    start = found if found is not None else np.linalg.inv(down) @ coarse_search(small_key, small_frame, band) @ down
    refined = ecc_refine(small_key, small_frame, start, scale)
    if refined is not None and plausible(refined, band):
        fit = low_frequency_fit(key, frame, refined, band)
        if fit >= band["min_fit"] and (found is None or fit >= low_frequency_fit(key, frame, found, band)):
            return refined
    if found is None and low_frequency_fit(key, frame, start, band) >= band["min_fit"]:
        return start  # ECC sheared off a soft picture (fog over mountains): the scale search's own fit holds
    return found if found is not None else np.eye(3)


def feature_affine(key: np.ndarray, frame: np.ndarray) -> np.ndarray | None:
    """ORB matches + RANSAC affine; None when there are too few matches or inliers, or a scale is implausible."""
    orb = cv2.ORB_create(nfeatures=800, fastThreshold=10)
    kp_a, des_a = orb.detectAndCompute(key, None)
    kp_b, des_b = orb.detectAndCompute(frame, None)
    if des_a is None or des_b is None:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des_a, des_b)
    if len(matches) < 20:
        return None
    src = np.float32([kp_a[x.queryIdx].pt for x in matches])
    dst = np.float32([kp_b[x.trainIdx].pt for x in matches])
    aff, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if aff is None or inliers.sum() < 15:
        return None
    scales = np.linalg.norm(aff[:, :2], axis=0)
    if not np.all((scales > 0.5) & (scales < 2.0)):
        return None
    return np.vstack([aff, [0.0, 0.0, 1.0]])


def low_frequency_fit(key: np.ndarray, frame: np.ndarray, affine: np.ndarray, band: dict) -> float:
    """Pearson correlation of the blurred luma of the moved keyframe and the frame where the keyframe
    covers it; -1 when it covers under band['min_overlap'] of the frame or either side is flat there."""
    h, w = frame.shape
    sigma = band["blur"] * w / band["width"]
    moved = cv2.warpAffine(cv2.GaussianBlur(key, (0, 0), sigma), affine[:2], (w, h), flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.full(key.shape, 255, np.uint8), affine[:2], (w, h), flags=cv2.INTER_NEAREST) > 0
    if inside.mean() < band["min_overlap"]:
        return -1.0
    a = moved[inside].astype(np.float32)
    b = cv2.GaussianBlur(frame, (0, 0), sigma)[inside].astype(np.float32)
    if a.std() < 1e-3 or b.std() < 1e-3:
        return -1.0
    return float(np.corrcoef(a, b)[0, 1])


def small(key: np.ndarray, frame: np.ndarray, band: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """Both pictures (grey, the same size) at band['width'] wide, as float32 (ECC's input), and the factor taken."""
    scale = min(1.0, band["width"] / frame.shape[1])
    resize = (lambda x: cv2.resize(x, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32))
    return resize(key), resize(frame), scale


def coarse_search(key: np.ndarray, frame: np.ndarray, band: dict) -> np.ndarray:
    """The best uniform scale and offset of the keyframe onto the frame (normalized template matching
    over geometric steps of scale), in the small pictures' pixels, as a start for ECC."""
    best, best_affine = -2.0, np.eye(3)
    for s in np.geomspace(1 / band["max_scale"], band["max_scale"], band["scale_steps"]):
        scaled = cv2.resize(key, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        if scaled.shape[0] >= frame.shape[0] and scaled.shape[1] >= frame.shape[1]:
            _, value, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(scaled, frame, cv2.TM_CCOEFF_NORMED))
            offset = (-x, -y)  # the frame is a window into the magnified keyframe
        elif scaled.shape[0] <= frame.shape[0] and scaled.shape[1] <= frame.shape[1]:
            _, value, _, offset = cv2.minMaxLoc(cv2.matchTemplate(frame, scaled, cv2.TM_CCOEFF_NORMED))
        else:
            continue
        if value > best:
            best, best_affine = value, np.array([[s, 0.0, offset[0]], [0.0, s, offset[1]], [0.0, 0.0, 1.0]])
    return best_affine


def ecc_refine(key: np.ndarray, frame: np.ndarray, start: np.ndarray, scale: float) -> np.ndarray | None:
    """ECC affine alignment of the small pictures from `start` (full-size pixels), returned in full-size
    pixels; None when it does not converge."""
    down = np.diag([scale, scale, 1.0])
    warp = (down @ start @ np.linalg.inv(down))[:2].astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:  # findTransformECC(template, input): input(warp(x)) ~ template(x), so warp takes key px to frame px
        _, warp = cv2.findTransformECC(key, frame, warp, cv2.MOTION_AFFINE, criteria, None, 5)
    except cv2.error:  # did not converge (or a degenerate picture)
        return None
    return np.linalg.inv(down) @ np.vstack([warp, [0.0, 0.0, 1.0]]) @ down


def plausible(affine: np.ndarray, band: dict) -> bool:
    """A camera's view of the keyframe: each axis scaled within max_scale either way, little shear or turn."""
    a = affine[:2, :2]
    scales = np.linalg.norm(a, axis=0)
    if not np.all((scales > 1 / band["max_scale"]) & (scales < band["max_scale"])):
        return False
    cosine = abs(float(a[:, 0] @ a[:, 1])) / float(scales[0] * scales[1])
    return cosine <= band["max_shear"] and abs(float(a[1, 0])) / scales[0] <= band["max_shear"]
