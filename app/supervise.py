"""`reel make` / `reel resume` run their work in a child process in its own process group.

Why: Prefect's ephemeral API server, ffmpeg and the vLLM worker are children of the work
process. A terminal's Ctrl-C would hit them all at once (the API dies before the run can be
marked stopped), and a SIGTERM to the CLI alone would orphan them. Here the CLI forwards the
signal to the work process only, gives it a few seconds to mark the run and print the resume
line (app/stopping.py), then kills whatever is left in its group, so nothing outlives the CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ENV = "REEL_SUPERVISED"
GRACE_S = 4.2  # the work process's time to clean up; the group is killed by 5 s after the signal


def is_worker() -> bool:
    return os.environ.get(ENV) == "1"


def _kill_group(pgid: int) -> None:
    """Whatever is left in the work process's group (the work process already stopped its own
    children, so this is only for what it could not reach)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _fallback_line(state_file: str) -> str:
    from app.stopping import NOTHING_MADE, kept_and_resume

    try:
        with open(state_file) as f:
            ran = json.load(f)
    except (OSError, ValueError):
        return f"reel: stopped before the reel started; {NOTHING_MADE}"
    return (f"reel: stopped (too slow to mark the run stopped in Prefect, so it may still show Running there); "
            f"{kept_and_resume(ran['reel_id'], ran['root'])}")


def run(argv: list[str]) -> int:
    """Run `reel ARGV` as the work process; returns its exit status."""
    from reel.run_state import FILE_ENV

    fd, state_file = tempfile.mkstemp(prefix="reel-run-", suffix=".json")
    os.close(fd)
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", *argv],
                            env={**os.environ, ENV: "1", FILE_ENV: state_file}, start_new_session=True)
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
                    print(_fallback_line(state_file), file=sys.stderr, flush=True)
                    rc = 128 + signal.SIGINT
                    break
    finally:
        _kill_group(proc.pid)
        os.unlink(state_file)
        for s, h in old.items():
            signal.signal(s, h)
    if rc < 0:  # the work process died of a signal (e.g. a kill drill): die of the same one
        if -rc != signal.SIGKILL:  # SIGKILL has no handler to reset
            signal.signal(-rc, signal.SIG_DFL)
        os.kill(os.getpid(), -rc)
    return rc
