"""Measurements on real media files, shared by the end-to-end tests (real ffmpeg, no mocks)."""

from __future__ import annotations

import re
import subprocess

from reel.media import decode_mono as decode_audio  # noqa: F401 - re-exported for the tests
from reel.media import ffmpeg_exe, rms_db  # noqa: F401

OVERSAMPLE = 4  # ITU-R BS.1770-4 Annex 2: true peak from 4x oversampling at 48 kHz


def integrated_loudness(path) -> float:
    """Integrated loudness (LUFS) measured by ffmpeg's ebur128 filter."""
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-filter_complex", "ebur128",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = err[err.rindex("Summary:"):]
    return float(re.search(r"I:\s+(-?\d+(?:\.\d+)?) LUFS", summary).group(1))


def decode_channels(path):
    """(samples x channels float32, sample rate) of a media file's audio track, as stored."""
    import numpy as np

    header = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    layout = re.search(r"Audio: .*?, (\d+) Hz, (mono|stereo|(\d+) channels)", header)
    channels = {"mono": 1, "stereo": 2}.get(layout[2]) or int(layout[3])
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32).reshape(-1, channels), int(layout[1])


def loudness_by_pyloudnorm(path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) measured without ffmpeg's filters: pyloudnorm's BS.1770
    meter, and the peak of the signal oversampled 4x (scipy's polyphase resampler)."""
    import numpy as np
    import pyloudnorm
    from scipy.signal import resample_poly

    samples, rate = decode_channels(path)
    integrated = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
    peak = float(np.abs(resample_poly(samples, OVERSAMPLE, 1, axis=0)).max())
    return float(integrated), 20 * float(np.log10(max(peak, 1e-12)))


def caption_lines(captioned, reference, n_lines: int, px: int, margin_v: int, threshold: int = 40) -> list[int]:
    """Pixels that differ (by more than `threshold` grey levels) between two frames (greyscale
    arrays) in the middle half of each caption line, top line first. libass stacks the lines of a
    bottom-aligned caption upwards from margin_v, each `px` (its Fontsize) tall."""
    import numpy as np

    diff = np.abs(captioned.astype(int) - reference.astype(int)) > threshold
    bottom = captioned.shape[0] - margin_v
    tops = [bottom - (n_lines - i) * px for i in range(n_lines)]
    return [int(diff[top + px // 4: top + px - px // 4].sum()) for top in tops]
