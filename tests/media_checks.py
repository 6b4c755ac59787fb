"""Measurements on real media files, shared by the end-to-end tests (real ffmpeg, no mocks)."""

from __future__ import annotations

import re
import subprocess

from reel.media import decode_mono as decode_audio  # noqa: F401 - re-exported for the tests
from reel.media import ffmpeg_exe, rms_db  # noqa: F401


def integrated_loudness(path) -> float:
    """Integrated loudness (LUFS) measured by ffmpeg's ebur128 filter."""
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-filter_complex", "ebur128",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rindex("Summary:"):]
    return float(re.search(r"I:\s+(-?\d+(?:\.\d+)?) LUFS", summary).group(1))


def caption_lines(captioned, reference, n_lines: int, px: int, margin_v: int, threshold: int = 40) -> list[int]:
    """Pixels that differ (by more than `threshold` grey levels) between two frames (greyscale
    arrays) in the middle half of each caption line, top line first. libass stacks the lines of a
    bottom-aligned caption upwards from margin_v, each `px` (its Fontsize) tall."""
    import numpy as np

    diff = np.abs(captioned.astype(int) - reference.astype(int)) > threshold
    bottom = captioned.shape[0] - margin_v
    tops = [bottom - (n_lines - i) * px for i in range(n_lines)]
    return [int(diff[top + px // 4: top + px - px // 4].sum()) for top in tops]
