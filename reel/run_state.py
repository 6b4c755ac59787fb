"""The run this process is making, so a stopped CLI can name it and say how to resume it."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass

# The supervising CLI (app/supervise.py) names a file here, to read the reel back if the work
# process has to be killed before it can say how to resume.
FILE_ENV = "REEL_RUN_STATE_FILE"


@dataclass
class Current:
    reel_id: str
    root: str
    flow_run_id: str | None


_current: Current | None = None


def started(reel_id: str, root: str, flow_run_id: str | None) -> None:
    global _current
    _current = Current(reel_id, root, flow_run_id)
    if os.environ.get(FILE_ENV):
        with open(os.environ[FILE_ENV], "w") as f:
            json.dump({"reel_id": reel_id, "root": root}, f)


def current() -> Current | None:
    return _current


# Set when the process is being stopped (app/stopping.py): a stage that has not started yet must not
# start (its task run would appear on the server after the stop marked the open ones Crashed).
_stopping = threading.Event()


def stop_starting() -> None:
    _stopping.set()


def stopping() -> bool:
    return _stopping.is_set()


def hold_if_stopping() -> None:
    """Before a stage starts: in a process being stopped, this thread waits here for the exit."""
    if _stopping.is_set():
        threading.Event().wait()
