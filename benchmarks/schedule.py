"""Model loads and simulated GPU time per reel: our affinity schedule against StudioMI300's
(one shot after another, every model unloaded after each use), for 6 shots with 0, 1 and 2
retry rounds. Runs the real `reel` flow with the timed stand-in backends, the `bench` family and
preset (models/standin.py).

    python -m benchmarks.schedule            # or: reel bench schedule
"""

from __future__ import annotations

import os
import tempfile
import time

from models import standin
from reel.settings import ROLES

PROMPT = "a violinist plays in a Brooklyn subway station at midnight"


def run_once(rounds: int, schedule: str, shots: int = 6) -> dict:
    """One reel; returns loads per role, total loads, simulated GPU minutes and wall seconds."""
    from flows.reel_flow import reel_flow
    from runtime import host

    standin.reset()
    # StudioMI300's schedule: one shot after another, every model unloaded right after each use.
    env = {"REEL_BENCH_FAIL_ROUNDS": str(rounds), "REEL_SCHEDULE": schedule,
           "REEL_KEEP_MODELS": "false" if schedule == "sequential" else "true"}
    os.environ.update(env)
    host.unload_all()
    started = time.time()
    try:
        with tempfile.TemporaryDirectory() as root:
            reel_flow(prompt=PROMPT, preset="bench", root=root, seed=rounds, n_shots=shots, backends="bench")
    finally:
        host.unload_all()
        for name in env:
            os.environ.pop(name, None)
    loads = standin.ledger["loads"]
    return {"rounds": rounds, "schedule": schedule, "loads": len(loads),
            "per_role": {r: loads.count(r) for r in ROLES}, "gpu_minutes": standin.ledger["gpu_seconds"] / 60,
            "max_resident": standin.ledger["max_resident"], "wall_s": time.time() - started}


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
