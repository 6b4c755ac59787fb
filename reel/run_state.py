"""The run this process is making, so a stopped CLI can name it and say how to resume it."""

from __future__ import annotations

import json
import os
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
