"""`reel make` / `reel resume` run their work in a child process in its own process group.

Why: Prefect's ephemeral API server, ffmpeg and the vLLM worker are children of the work
process. A terminal's Ctrl-C would hit them all at once (the API dies before the run can be
marked stopped), and a SIGTERM to the CLI alone would orphan them. Here the CLI forwards the
signal to the work process only, gives it a few seconds to mark the run and print the resume
line (app/stopping.py), then kills whatever is left in its group, so nothing outlives the CLI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

ENV = "REEL_SUPERVISED"
GRACE_S = 3.5  # the work process's time to clean up; the group is killed by 5 s after the signal


def is_worker() -> bool:
    return os.environ.get(ENV) == "1"


def _kill_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.time() + 0.5
        while time.time() < deadline:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)


def run(argv: list[str]) -> int:
    """Run `reel ARGV` as the work process; returns its exit status."""
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *argv], env={**os.environ, ENV: "1"},
                            start_new_session=True)
    stop_at: list[float] = []

    def forward(signum, frame):
        if not stop_at:
            stop_at.append(time.time())
            try:
                os.kill(proc.pid, signum)
            except ProcessLookupError:
                pass

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if stop_at and time.time() - stop_at[0] > GRACE_S:
                    proc.kill()
                    rc = proc.wait()
                    print("reel: stopped; the run did not clean up in time; finished stages are kept; "
                          "run the same command again to continue", file=sys.stderr, flush=True)
                    rc = 128 + signal.SIGINT
                    break
    finally:
        _kill_group(proc.pid)
        for s, h in old.items():
            signal.signal(s, h)
    if rc < 0:  # the work process died of a signal (e.g. a kill drill): die of the same one
        signal.signal(-rc, signal.SIG_DFL)
        os.kill(os.getpid(), -rc)
    return rc
