"""Helpers the tests share: run the real `reel` command as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def reel_cli(*args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the real `reel` command in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def fontconfig_file(folder: Path, *font_dirs: Path) -> Path:
    """A fontconfig configuration that shows only `font_dirs` (none: no font at all), for
    FONTCONFIG_FILE: the machine's own fonts are hidden from fc-match and from ffmpeg's libass."""
    folder.mkdir(parents=True, exist_ok=True)
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs)
    conf = folder / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
                    f"<fontconfig>{dirs}<cachedir>{folder / 'cache'}</cachedir></fontconfig>\n")
    return conf
