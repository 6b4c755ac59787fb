"""Timed stand-in backends, the `bench` family (registered in models/base.py like the others, with
the `bench` preset): each costs what StudioMI300's model cost (load and per call, scaled down),
then makes a real output with the cpu backend, so the real flow runs end to end; they count loads
and simulated GPU-seconds for the benchmarks."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from models.cpu.director import HeuristicDirector
from models.base import DISTILLED, FULL
from reel import prompts
from reel.estimate import render_seconds
from models.cpu.painter import AnimaticImage
from models.cpu.midi_music import MidiMusic
from models.cpu.camera_move import CameraMoveVideo
from models.cpu.espeak_voice import EspeakVoice
from models.base import BackendBase

# Seconds on one MI300X (StudioMI300's run times; load times assumed): configs/costs.json, the one
# table `reel estimate` reads too.
COSTS = {role: {"load": c["load_s"], "run": c["run_s"], "switch": c.get("switch_s", 0.0)}
         for role, c in prompts.table("costs.json")["roles"].items()}
SCALE = 0.0005  # simulated seconds -> real sleep seconds
REAL_SIZE = (832, 480)  # the default preset's render size, where the seed measured Wan's run_s

_lock = threading.Lock()
ledger: dict = {"loads": [], "switches": 0, "gpu_seconds": 0.0, "resident": set(), "max_resident": 0}


def reset() -> None:
    with _lock:
        ledger.update(loads=[], switches=0, gpu_seconds=0.0, resident=set(), max_resident=0)


def _spend(role: str, what: str, seconds: float | None = None) -> None:
    seconds = COSTS[role][what] if seconds is None else seconds
    with _lock:
        ledger["gpu_seconds"] += seconds
    time.sleep(seconds * SCALE)


class _Timed(BackendBase):
    heavy = True
    role = ""

    def apply_plan(self, stage) -> None:
        """A stand-in loads the same way on any card."""

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
    """Wan2.2's costs: a render by its steps and CFG (reel/estimate.py render_seconds, so a distilled
    4-step render without CFG costs what `reel estimate` says), and switching to or from the
    distilled weights (LoRAs on or off) as Wan22Video.use_weights does."""

    name, role, model_id = "bench", "video", "bench-video"
    distills, distilled_id = True, "bench-lora"

    def __init__(self) -> None:
        self.weights, self.loaded = FULL, False

    def load(self) -> None:
        super().load()
        self.loaded = True
        if self.weights == DISTILLED:  # the LoRAs come back with the model
            self._switched()

    def unload(self) -> None:
        super().unload()
        self.loaded = False

    def use_weights(self, which: str) -> None:
        if which != self.weights:
            self.weights = which
            if self.loaded:  # before the load it only picks what the load brings in
                self._switched()

    def _switched(self) -> None:
        with _lock:
            ledger["switches"] += 1
        _spend("video", "switch")

    def render(self, plan, shot, keyframe, end_frame, knobs, out):
        self.use_weights(DISTILLED if knobs.distilled else FULL)
        # At the size the seed measured (the bench renders small to run fast; its costs are real-size).
        _spend("video", "run", render_seconds(knobs.frames, REAL_SIZE, knobs.steps, knobs.guidance > 1))
        CameraMoveVideo().render(plan, shot, keyframe, end_frame, knobs, out)


class BenchCritic(_Timed):
    """Fails every shot's first `fail_rounds` attempts with CAMERA_IGNORED, then passes; or, with
    `pass_rate` set, passes that share of first attempts (the first round(rate x shots) shots) and
    every retry."""

    name, role, model_id = "bench", "critic", "bench-critic"
    fail_rounds = 0
    pass_rate: float | None = None
    shots = 6

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        _spend("critic", "run")
        shot, attempt = map(int, re.search(r"Shot (\d+), attempt (\d+)\.", prompt).groups())
        if self.pass_rate is not None:
            failing = attempt == 1 and shot >= round(self.pass_rate * self.shots)
        else:
            failing = attempt <= self.fail_rounds
        if failing:
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
