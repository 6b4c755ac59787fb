"""`reel doctor`: what this machine can run, each problem with its fix."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from typing import Callable

from app.doctor_server import check_model_server

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


def check_caption_fonts() -> tuple[str, str]:
    """Burned captions (the default for 9:16, 1:1, 4:5) need a font for each narration language."""
    from reel.errors import BackendUnavailable
    from reel.fonts import font_for

    found, missing = [], []
    for lang in ("a", "h", "j", "z"):
        try:
            font = font_for(lang)
            found.append(f"{font.family} ({font.source})")
        except BackendUnavailable as exc:
            missing.append(str(exc))
    if missing:
        return WARN, missing[0]
    return OK, ", ".join(found)


def check_prefect() -> tuple[str, str]:
    import prefect
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return OK, f"Prefect {prefect.__version__}, ephemeral API (set PREFECT_API_URL to use a server)"
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            error = client.api_healthcheck()  # returns the exception it met rather than raising it
        if error is not None:
            raise error
        return OK, f"Prefect {prefect.__version__}, server {url}"
    except Exception as exc:  # noqa: BLE001
        return FAIL, f"Prefect server {url} unreachable ({exc}); start it with `make server` or unset PREFECT_API_URL"


def check_gpu_stack() -> tuple[str, str]:
    mods = ["torch", "diffusers", "transformers", "accelerate", "kokoro"]  # vLLM: its own environment (platform)
    missing = [m for m in mods if importlib.util.find_spec(m) is None]
    if not missing:
        import torch

        dev = "CUDA" if torch.cuda.is_available() else "no GPU visible"
        # diffusers' own First-Block Cache is the default; para-attn matters only when chosen.
        from reel.settings import get_settings

        wants_para = get_settings().fbcache == "para-attn"
        cache = ("; FBCache off (REEL_FBCACHE=para-attn): pip install 'pip<26.3' && pip install -e .[fbcache]"
                 if wants_para and not importlib.util.find_spec("para_attn") else "")
        return OK, f"GPU stack importable ({dev}){cache}"
    return WARN, (f"GPU stack not installed ({', '.join(missing)} missing): the preview profile works; "
                  "for the open-weights models run `pip install -e .[gpu]`")


def check_platform() -> tuple[str, str]:
    """The GPU platform torch sees (CUDA or HIP version, card, free memory), where vLLM runs, and what
    would fail on this card (the memory plan's models that do not fit)."""
    if importlib.util.find_spec("torch") is None:
        return WARN, "no torch here: only the preview preset runs (GPU install: README, `make gpu-cuda` / `make gpu-rocm`)"
    import torch

    build = (f"HIP {torch.version.hip}" if torch.version.hip else f"CUDA {torch.version.cuda}" if torch.version.cuda
             else "CPU-only build")
    vllm = _vllm_where()
    if not torch.cuda.is_available():
        return WARN, (f"torch {torch.__version__} ({build}), no GPU visible: the gpu preset's models cannot load "
                      f"(the preview preset runs); {vllm}; on a GPU machine: `make gpu-cuda` or `make gpu-rocm` (README)")
    from runtime import memory_plan
    from reel.settings import get_settings

    device = get_settings().gpu_device
    free, total = torch.cuda.mem_get_info(torch.device(device))
    card = f"{torch.cuda.get_device_name(torch.device(device))}, {free / 2**30:.1f} of {total / 2**30:.1f} GiB free"
    plan = memory_plan.plan_for(total / 2**30)
    too_big = [f"{name} ({stage.model})" for name, stage in plan.stages.items() if stage.mode == "does not fit"]
    fails = f"; would fail on this card: {', '.join(too_big)}" if too_big else ""
    return (FAIL if too_big else OK), f"torch {torch.__version__} ({build}) on {device}: {card}; {vllm}{fails}"


def _vllm_where() -> str:
    """Which Python the vLLM worker runs in and the vLLM it finds there (read from metadata, not imported)."""
    from models.gpu.vllm_worker import worker_python

    python = worker_python()
    code = "import importlib.metadata as m; print(m.version('vllm'))"
    try:
        found = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"the vLLM worker's Python {python} does not start ({exc})"
    if found.returncode != 0:
        return f"no vLLM for the worker in {python} (README, GPU install)"
    return f"vLLM {found.stdout.strip()} in {python}"


def check_kokoro_languages() -> tuple[str, str]:
    """What Kokoro needs for each narration language (English: spaCy model; Japanese: MeCab stack)."""
    if importlib.util.find_spec("kokoro") is None:
        return WARN, "kokoro not installed: narration uses the espeak-ng voice of the CPU family (pip install -e .[gpu])"
    from models.gpu.kokoro_voice import missing_for
    from reel import prompts

    gaps = {code: missing_for(code) for code in prompts.table("locales.json")["languages"]}
    lacking = {code: cmds for code, cmds in gaps.items() if cmds}
    if not lacking:
        return OK, "Kokoro can speak all 9 languages"
    ready = ", ".join(code for code in gaps if code not in lacking)
    fixes = "; ".join(f"{code}: {' && '.join(cmds)}" for code, cmds in lacking.items())
    return WARN, f"Kokoro speaks {ready} here; missing for the others -> {fixes}"


def check_gpu_models() -> tuple[str, str]:
    """Where the GPU backends will load weights from (a missing local folder is the usual mistake)."""
    from models import weights
    from reel.settings import get_settings

    s = get_settings()
    notes = []
    for role in ("director", "image", "video", "music", "voice"):
        model = s.model_for(role)
        if weights.missing_folder(model):
            notes.append(f"{role}: {model} does not exist (set REEL_MODEL_{role.upper()})")
    if notes:
        return FAIL, "; ".join(notes)
    return OK, ", ".join(f"{r}={s.model_for(r)}" for r in ("director", "image", "video", "music", "voice"))


def check_folders() -> tuple[str, str]:
    """The folders a run writes: output root, gpu lock folder, Prefect's home (as `reel make` checks them)."""
    from reel.writable import folders, problems

    found = problems(None)
    if found:
        return FAIL, "; ".join(found)
    return OK, "writable: " + ", ".join(str(folder) for _, folder, _ in folders(None))


CHECKS: dict[str, Callable[[], tuple[str, str] | list[tuple[str, str]]]] = {
    "ffmpeg": check_ffmpeg, "espeak-ng": check_espeak, "soundfont": check_soundfont, "fonts": check_caption_fonts,
    "prefect": check_prefect, "platform": check_platform, "gpu stack": check_gpu_stack,
    "kokoro": check_kokoro_languages, "gpu models": check_gpu_models, "folders": check_folders,
    "server": check_model_server,
}


def run_checks() -> int:
    worst = OK
    for name, check in CHECKS.items():
        found = check()
        for status, detail in [found] if isinstance(found, tuple) else found:  # a list: one line per finding
            print(f"[{status:>4}] {name:<10} {' '.join(detail.split())}")
            if status == FAIL:
                worst = FAIL
    return 1 if worst == FAIL else 0
