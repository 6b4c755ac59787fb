"""A worker process for the one-GPU-one-owner test: makes the reels named on the command line with
the benchmark's timed stand-in models (models/standin.py), one after another, and appends every
load and unload of a stand-in to a log shared by all workers (flock'd, so its order is the real order).

    python -m tests.residency_worker LOG ROOT PROMPT [PROMPT ...]

The stand-ins stand for 35B/14B checkpoints that cannot run here; they are heavy (they hold the GPU
while loaded, as far as the model host knows), which is all the residency rules look at.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time


def _record(log: str, event: str, role: str) -> None:
    with open(log, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(f"{os.getpid()} {event} {role} {time.time():.6f}\n")
        fh.flush()
        fcntl.flock(fh, fcntl.LOCK_UN)


def main(log: str, root: str, prompts: list[str]) -> int:
    from models import standin
    from flows.reel_flow import reel_flow

    load, unload = standin._Timed.load, standin._Timed.unload

    def recorded_load(self):
        _record(log, "load", self.role)
        load(self)

    def recorded_unload(self):
        unload(self)
        _record(log, "unload", self.role)

    standin._Timed.load, standin._Timed.unload = recorded_load, recorded_unload
    from runtime import host

    try:
        for i, prompt in enumerate(prompts):
            reel_flow(prompt=prompt, preset="bench", root=root, seed=i, n_shots=2, backends="bench")
    finally:
        host.unload_all()  # so the log closes every interval (the OS would free the lease anyway)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
