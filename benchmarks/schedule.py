"""Model loads and simulated GPU time per reel: our affinity schedule against the seed's
(one shot after another, every model unloaded after each use), for 6 shots with 0, 1 and 2
retry rounds; then the turbo preset (step-distilled first attempts, full-step retries) next to
default and the seed's schedule, by the share of first attempts the critic passes. Runs the real
`reel` flow with timed stand-in backends (benchmarks/standins.py); every second is simulated from
prompts/costs.json (the seed's measured run times; loads and LoRA switches assumed).

    python -m benchmarks.schedule [--pass-rates 0.6,0.8,0.95] [--shots 12]   # or: reel bench schedule
"""

from __future__ import annotations

import argparse
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
    # Render steps are the default preset's, so a render costs what the seed measured (turbo's first
    # attempts: 4 steps without CFG).
    PRESETS["bench"] = PRESETS["preview"].model_copy(update={
        "name": "bench", "attempts": 3, "pass_threshold": 7, "backends": "bench", "frames": 81,
        **{k: getattr(PRESETS["default"], k) for k in ("hero_steps", "broll_steps", "fbcache", "guidance", "guidance_2")},
        "render_size": (320, 192), "master_size": (320, 192), "final_size": (320, 192)})


@contextlib.contextmanager
def _reload_per_call(on: bool) -> Iterator[None]:
    """The seed's schedule for comparison: every model unloaded right after each use, still inside
    its turn on the GPU (the seed reloaded the video model and the critic around every critique)."""
    from models import host

    use = host.use

    @contextlib.contextmanager
    def use_once(role: str, name: str, weights: str | None = None):
        with use(role, name, weights) as got:
            yield got
            host.unload(role, name)

    host.use = use_once if on else use
    try:
        yield
    finally:
        host.use = use


def run_once(rounds: int, schedule: str, shots: int = 6, preset: str = "bench", pass_rate: float | None = None) -> dict:
    """One reel; returns loads per role, total loads, switches of the video model's weights,
    simulated GPU minutes and wall seconds. pass_rate: the share of first attempts that pass
    (then `rounds` is not used)."""
    from flows.reel_flow import reel_flow
    from models import host

    _register()
    standins.reset()
    standins.BenchCritic.fail_rounds, standins.BenchCritic.pass_rate = rounds, pass_rate
    standins.BenchCritic.shots = shots
    os.environ["REEL_SCHEDULE"] = schedule
    host.unload_all()
    started = time.time()
    try:
        with tempfile.TemporaryDirectory() as root, _reload_per_call(schedule == "sequential"):
            reel_flow(prompt=PROMPT, preset=preset, root=root, seed=rounds, n_shots=shots, backends="bench")
    finally:
        host.unload_all()
        os.environ.pop("REEL_SCHEDULE", None)
    loads = standins.ledger["loads"]
    return {"rounds": rounds, "schedule": schedule, "preset": preset, "loads": len(loads),
            "switches": standins.ledger["switches"],
            "per_role": {r: loads.count(r) for r in ROLES}, "gpu_minutes": standins.ledger["gpu_seconds"] / 60,
            "max_resident": standins.ledger["max_resident"], "wall_s": time.time() - started}


TURBO_ROWS = (("sequential", "bench", "seed (reload per call)"), ("affinity", "bench", "reel default"),
              ("affinity", "bench+turbo", "reel turbo"))


def main(argv: list[str] | None = None) -> None:
    from reel.env import configure

    parser = argparse.ArgumentParser(prog="python -m benchmarks.schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pass-rates", default="0.6,0.8,0.95",
                        help="shares of first attempts the critic passes, for the turbo table (default 0.6,0.8,0.95)")
    parser.add_argument("--shots", type=int, default=12, help="shots per reel in the turbo table (default 12)")
    parser.add_argument("--turbo-only", action="store_true", help="skip the retry-rounds table")
    args = parser.parse_args(argv)
    try:
        rates = [float(x) for x in args.pass_rates.split(",")]
    except ValueError:
        parser.exit(2, f"--pass-rates wants numbers between 0 and 1 separated by commas, not {args.pass_rates!r}\n")
    if not all(0 <= r <= 1 for r in rates) or not 1 <= args.shots <= 12:
        parser.exit(2, "--pass-rates are shares between 0 and 1; --shots is 1-12\n")
    configure()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if not args.turbo_only:
        print(f"{'retry rounds':>12} | {'schedule':<22} | {'model loads':>11} | {'sim. GPU-min':>12} | "
              f"{'video/critic loads':>18} | wall s")
        for rounds in (0, 1, 2):
            for schedule, label in (("sequential", "seed (reload per call)"), ("affinity", "reel (affinity)")):
                r = run_once(rounds, schedule)
                print(f"{rounds:>12} | {label:<22} | {r['loads']:>11} | {r['gpu_minutes']:>12.1f} | "
                      f"{r['per_role']['video']:>8}/{r['per_role']['critic']:<9} | {r['wall_s']:.0f}", flush=True)
        print()
    print(f"{args.shots} shots; first attempts passing the critic, every retry passing (simulated GPU minutes)")
    print(f"{'first pass':>10} | {'schedule':<22} | {'model loads':>11} | {'LoRA switches':>13} | {'sim. GPU-min':>12} | "
          f"{'video/critic loads':>18} | wall s")
    for rate in rates:
        for schedule, preset, label in TURBO_ROWS:
            r = run_once(0, schedule, args.shots, preset, rate)
            print(f"{rate:>10.0%} | {label:<22} | {r['loads']:>11} | {r['switches']:>13} | {r['gpu_minutes']:>12.1f} | "
                  f"{r['per_role']['video']:>8}/{r['per_role']['critic']:<9} | {r['wall_s']:.0f}", flush=True)


if __name__ == "__main__":
    main()
