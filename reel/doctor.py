"""`reel doctor`: what this machine can run, each problem with its fix."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from typing import Callable

OK, WARN, FAIL = "ok", "warn", "FAIL"


def check_ffmpeg() -> tuple[str, str]:
    from reel.media import ffmpeg_exe

    try:
        exe = ffmpeg_exe()
        first = subprocess.run([exe, "-version"], capture_output=True, text=True).stdout.splitlines()[0]
        enc = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
        missing = [c for c in ("libx264", "aac") if c not in enc]
        if missing:
            return FAIL, f"{first}: missing encoders {missing}; reinstall imageio-ffmpeg"
        return OK, f"{first} ({exe})"
    except Exception as exc:  # noqa: BLE001
        return FAIL, f"{exc}; fix: pip install imageio-ffmpeg"


def check_espeak() -> tuple[str, str]:
    try:
        import ctypes

        import espeakng_loader

        ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        return OK, f"espeak-ng library {espeakng_loader.get_library_path()}"
    except Exception as exc:  # noqa: BLE001
        return FAIL, f"espeak-ng not loadable ({exc}); fix: pip install espeakng-loader"


def check_soundfont() -> tuple[str, str]:
    if importlib.util.find_spec("tinysoundfont") is None:
        return FAIL, "tinysoundfont missing; fix: pip install --no-deps tinysoundfont (its pyaudio dependency is not needed)"
    import pretty_midi

    sf2 = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    return (OK, f"General MIDI soundfont {sf2}") if os.path.exists(sf2) else (FAIL, "pretty_midi soundfont missing; reinstall pretty_midi")


def check_prefect() -> tuple[str, str]:
    import prefect
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return OK, f"Prefect {prefect.__version__}, ephemeral API (set PREFECT_API_URL to use a server)"
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.api_healthcheck()
        return OK, f"Prefect {prefect.__version__}, server {url}"
    except Exception as exc:  # noqa: BLE001
        return FAIL, f"Prefect server {url} unreachable ({exc}); start it with `make server` or unset PREFECT_API_URL"


def check_gpu_stack() -> tuple[str, str]:
    mods = ["torch", "diffusers", "transformers", "accelerate", "vllm", "para_attn", "kokoro"]
    missing = [m for m in mods if importlib.util.find_spec(m) is None]
    if not missing:
        import torch

        dev = "CUDA" if torch.cuda.is_available() else "no GPU visible"
        return OK, f"GPU stack importable ({dev})"
    return WARN, (f"GPU stack not installed ({', '.join(missing)} missing): the preview profile works; "
                  "for the open-weights models run `pip install -e .[gpu]`")


CHECKS: dict[str, Callable[[], tuple[str, str]]] = {
    "ffmpeg": check_ffmpeg, "espeak-ng": check_espeak, "soundfont": check_soundfont,
    "prefect": check_prefect, "gpu stack": check_gpu_stack,
}


def run_checks() -> int:
    worst = OK
    for name, check in CHECKS.items():
        status, detail = check()
        print(f"[{status:>4}] {name:<10} {re.sub(r'\\s+', ' ', detail)}")
        if status == FAIL:
            worst = FAIL
    return 1 if worst == FAIL else 0
