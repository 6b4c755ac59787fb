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
