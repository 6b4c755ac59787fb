"""Frames to mp4: raw RGB piped into the bundled ffmpeg's libx264 (yuv420p, +faststart).

Shared by the video backends, so every clip the critic and the mixer read is encoded the same way.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterable

import numpy as np

from reel.media import ffmpeg_exe


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """An HxWx3 frame as uint8 RGB; float frames (diffusers' output_type="np") are in [0, 1]."""
    if frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(frame[..., :3])


def write_mp4(frames: Iterable[np.ndarray], width: int, height: int, fps: float, out: Path,
              crf: int = 18, preset: str = "medium") -> None:
    """Encode HxWx3 frames (uint8, or float in [0, 1]) of exactly width x height to an H.264 mp4."""
    if width % 2 or height % 2:
        raise ValueError(f"video size {width}x{height} must be even for yuv420p")
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
           "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
           "-movflags", "+faststart", "-f", "mp4", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            frame = to_uint8(frame)
            if frame.shape[:2] != (height, width):
                raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, expected {width}x{height}")
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg died; its stderr below says why
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg failed while encoding {Path(out).name}: {err.strip()[-800:]}")
