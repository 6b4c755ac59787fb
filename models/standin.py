"""Timed stand-in backends, the `bench` family (registered in models/base.py like the others, with
the `bench` preset): each costs what StudioMI300's model cost (load and per call, scaled down),
then makes a real output with the cpu backend, so the real flow runs end to end; they count loads
and simulated GPU-seconds for the benchmarks. REEL_BENCH_FAIL_ROUNDS: how many attempts of every
shot the stand-in critic fails."""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from models.preview.director import HeuristicDirector
from reel import prompts
from models.preview.painter import AnimaticImage
from models.preview.midi_music import MidiMusic
from models.preview.camera_move import CameraMoveVideo
from models.preview.espeak_voice import EspeakVoice
from models.base import BackendBase

# Seconds on one MI300X (StudioMI300's run times; load times assumed): configs/costs.json, the one
# table `reel estimate` reads too.
COSTS = {role: {"load": c["load_s"], "run": c["run_s"]} for role, c in prompts.table("costs.json")["roles"].items()}
SCALE = 0.0005  # simulated seconds -> real sleep seconds

_lock = threading.Lock()
ledger: dict = {"loads": [], "gpu_seconds": 0.0, "resident": set(), "max_resident": 0}


def reset() -> None:
    with _lock:
        ledger.update(loads=[], gpu_seconds=0.0, resident=set(), max_resident=0)


def _spend(role: str, what: str) -> None:
    seconds = COSTS[role][what]
    with _lock:
        ledger["gpu_seconds"] += seconds
    time.sleep(seconds * SCALE)


class _Timed(BackendBase):
    heavy = True
    role = ""

    def load(self) -> None:
        with _lock:
            ledger["loads"].append(self.role)
            ledger["resident"].add(self.role)
            ledger["max_resident"] = max(ledger["max_resident"], len(ledger["resident"]))
        _spend(self.role, "load")

    def unload(self) -> None:
        with _lock:
            ledger["resident"].discard(self.role)


class BenchDirector(_Timed):
    name, role, model_id = "bench", "director", "bench-director"

    def plan(self, prompt, n_shots, seed):
        _spend("director", "run")
        return HeuristicDirector().plan(prompt, n_shots=n_shots, seed=seed)

    def shorten(self, line, lang, fraction, seed):
        _spend("director", "run")
        return HeuristicDirector().shorten(line, lang, fraction, seed)


class BenchImage(_Timed):
    name, role, model_id = "bench", "image", "bench-image"

    def master(self, plan, subject, seed, size, out):
        _spend("image", "run")
        AnimaticImage().master(plan, subject, seed=seed, size=size, out=out)

    def keyframe(self, plan, shot, refs, seed, size, out):
        _spend("image", "run")
        AnimaticImage().keyframe(plan, shot, refs, seed=seed, size=size, out=out)


class BenchVideo(_Timed):
    name, role, model_id = "bench", "video", "bench-video"

    def render(self, plan, shot, keyframe, end_frame, knobs, out):
        _spend("video", "run")
        CameraMoveVideo().render(plan, shot, keyframe, end_frame, knobs, out)


class BenchCritic(_Timed):
    """Fails every shot's first REEL_BENCH_FAIL_ROUNDS attempts with CAMERA_IGNORED, then passes."""

    name, role, model_id = "bench", "critic", "bench-critic"

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        _spend("critic", "run")
        attempt = int(re.search(r"attempt (\d+)\.", prompt).group(1))
        if attempt <= int(os.environ.get("REEL_BENCH_FAIL_ROUNDS", "0")):
            return ('{"character_match": 8, "scene_match": 8, "composition": 3, "artifact_free": 8, "overall": 4, '
                    '"issues": ["CAMERA_IGNORED: the frames are framed identically"]}')
        return '{"character_match": 9, "scene_match": 9, "composition": 9, "artifact_free": 9, "overall": 9}'


class BenchMusic(_Timed):
    name, role, model_id = "bench", "music", "bench-music"

    def compose(self, brief, seconds, seed, out):
        _spend("music", "run")
        MidiMusic().compose(brief, seconds=seconds, seed=seed, out=out)


class BenchVoice(_Timed):
    name, role, model_id = "bench", "voice", "bench-voice"

    def speak(self, text, lang, out):
        _spend("voice", "run")
        return EspeakVoice().speak(text, lang, out)
