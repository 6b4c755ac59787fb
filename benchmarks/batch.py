"""A batch of N reels on one GPU: model loads, simulated GPU time and wall of the in-process batch
(every reel a subflow of one run, sharing the model host) beside the same N reels run one after
another, each in a fresh model host as a reel of its own process would be. Timed stand-in
backends of the schedule benchmark; 6 shots per reel, one retry round.

    python -m benchmarks.batch [--reels 10]       # or: reel bench batch
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from benchmarks.schedule import ROLES
from models import standin

PROMPTS = ("a violinist plays in a Brooklyn subway station at midnight",
           "a fisherman mends his nets in Lisbon at noon",
           "a dancer rehearses alone in a Tokyo studio at night",
           "an old baker opens his shop in a snowy Krakow street before sunrise",
           "two friends share a last coffee on a Paris rooftop at dawn",
           "a lighthouse keeper climbs the stairs in a storm",
           "a girl flies a red kite over the dunes at sunset",
           "a chef tastes the soup in a busy Bangkok kitchen",
           "a cyclist crosses the Golden Gate bridge in the fog",
           "an astronaut waters a plant inside the space station")


def _figures(started: float) -> dict:
    loads = standin.ledger["loads"]
    return {"loads": len(loads), "per_role": {r: loads.count(r) for r in ROLES},
            "gpu_minutes": standin.ledger["gpu_seconds"] / 60, "max_resident": standin.ledger["max_resident"],
            "wall_s": time.time() - started}


def _prepare(rounds: int) -> None:
    from runtime import host

    standin.reset()
    standin.BenchCritic.fail_rounds, standin.BenchCritic.pass_rate = rounds, None
    host.unload_all()


def run_batch(prompts: list[str], shots: int = 6, rounds: int = 1) -> dict:
    """The batch flow with in_process=True: one process, one model host for every reel."""
    from flows.batch import batch
    from runtime import host

    _prepare(rounds)
    started = time.time()
    try:
        with tempfile.TemporaryDirectory() as root:
            state = batch(prompts=list(prompts), preset="bench", n_shots=shots, root=root, in_process=True,
                          return_state=True)
            reels = sum(os.path.exists(os.path.join(root, d, "reel.mp4")) for d in os.listdir(root))
    finally:
        host.unload_all()
    return _figures(started) | {"state": state.name, "message": state.message, "reels": reels}


def run_one_by_one(prompts: list[str], shots: int = 6, rounds: int = 1) -> dict:
    """Each reel alone, one after another, its models unloaded after it (a process of its own)."""
    from flows.reel_flow import reel_flow
    from runtime import host

    _prepare(rounds)
    started = time.time()
    try:
        with tempfile.TemporaryDirectory() as root:
            for prompt in prompts:
                reel_flow(prompt=prompt, preset="bench", root=root, n_shots=shots, backends="bench")
                host.unload_all()
            reels = sum(os.path.exists(os.path.join(root, d, "reel.mp4")) for d in os.listdir(root))
    finally:
        host.unload_all()
    return _figures(started) | {"reels": reels}


def main(argv: list[str] | None = None) -> None:
    from reel.env import configure

    configure()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    p = argparse.ArgumentParser(prog="reel bench batch")
    p.add_argument("--reels", type=int, default=10)
    p.add_argument("--shots", type=int, default=6)
    args = p.parse_args(argv)
    prompts = [PROMPTS[i % len(PROMPTS)] + ("" if i < len(PROMPTS) else f", take {i // len(PROMPTS) + 1}")
               for i in range(args.reels)]
    print(f"{args.reels} reels x {args.shots} shots, one retry round, timed stand-ins (models/standin.py)")
    print(f"{'how':<34} | {'reels made':>10} | {'model loads':>11} | {'sim. GPU-min':>12} | "
          f"{'video/critic loads':>18} | wall s")
    for label, fn in (("batch, one process (in_process)", run_batch), ("one reel after another", run_one_by_one)):
        r = fn(prompts, args.shots)
        print(f"{label:<34} | {r['reels']:>4} of {args.reels:<3} | {r['loads']:>11} | {r['gpu_minutes']:>12.1f} | "
              f"{r['per_role']['video']:>8}/{r['per_role']['critic']:<9} | {r['wall_s']:.0f}", flush=True)


if __name__ == "__main__":
    main()
