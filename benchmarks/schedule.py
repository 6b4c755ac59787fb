"""Model loads and simulated GPU time per reel: our affinity schedule against StudioMI300's
(one shot after another, every model unloaded after each use), for 6 shots with 0, 1 and 2
retry rounds. Runs the real `reel` flow with timed stand-in backends (benchmarks/standins.py).

    python -m benchmarks.schedule            # or: reel bench schedule
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import Iterator

from benchmarks import standins
from reel.settings import ROLES

PROMPT = "a violinist plays in a Brooklyn subway station at midnight"


def _register() -> None:
    from models import base
    from reel.presets import PRESETS

    for role in ROLES:
        base.REGISTRY[role]["bench"] = f"benchmarks.standins:Bench{role.capitalize()}"
    # The preview preset at small sizes with three attempts, so two retry rounds fit. (Not smaller:
    # below ~320 px x264 erases the grain of a static shot and tier 1 rightly calls it frozen.)
    # Shots keep the presets' 81 frames (5 s): the narration fits them, so the loads counted are
    # the schedule's own, not the narration fitting's (flows/narration.py).
    PRESETS["bench"] = PRESETS["preview"].model_copy(update={
        "name": "bench", "attempts": 3, "pass_threshold": 7, "backends": "bench", "frames": 81,
        "render_size": (320, 192), "master_size": (320, 192), "final_size": (320, 192)})


@contextlib.contextmanager
def _reload_per_call(on: bool) -> Iterator[None]:
    """StudioMI300's schedule for comparison: every model unloaded right after each use, still inside
    its turn on the GPU (StudioMI300 reloaded the video model and the critic around every critique)."""
    from models import host

    use = host.use

    @contextlib.contextmanager
    def use_once(role: str, name: str):
        with use(role, name) as got:
            yield got
            host.unload(role, name)

    host.use = use_once if on else use
    try:
        yield
    finally:
        host.use = use


def run_once(rounds: int, schedule: str, shots: int = 6) -> dict:
    """One reel; returns loads per role, total loads, simulated GPU minutes and wall seconds."""
    from flows.reel_flow import reel_flow
    from models import host

    _register()
    standins.reset()
    standins.BenchCritic.fail_rounds = rounds
    os.environ["REEL_SCHEDULE"] = schedule
    host.unload_all()
    started = time.time()
    try:
        with tempfile.TemporaryDirectory() as root, _reload_per_call(schedule == "sequential"):
            reel_flow(prompt=PROMPT, preset="bench", root=root, seed=rounds, n_shots=shots, backends="bench")
    finally:
        host.unload_all()
        os.environ.pop("REEL_SCHEDULE", None)
    loads = standins.ledger["loads"]
    return {"rounds": rounds, "schedule": schedule, "loads": len(loads),
            "per_role": {r: loads.count(r) for r in ROLES}, "gpu_minutes": standins.ledger["gpu_seconds"] / 60,
            "max_resident": standins.ledger["max_resident"], "wall_s": time.time() - started}


def main() -> None:
    from reel.env import configure

    configure()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    print(f"{'retry rounds':>12} | {'schedule':<22} | {'model loads':>11} | {'sim. GPU-min':>12} | "
          f"{'video/critic loads':>18} | wall s")
    for rounds in (0, 1, 2):
        for schedule, label in (("sequential", "seed (reload per call)"), ("affinity", "reel (affinity)")):
            r = run_once(rounds, schedule)
            print(f"{rounds:>12} | {label:<22} | {r['loads']:>11} | {r['gpu_minutes']:>12.1f} | "
                  f"{r['per_role']['video']:>8}/{r['per_role']['critic']:<9} | {r['wall_s']:.0f}", flush=True)


if __name__ == "__main__":
    main()
