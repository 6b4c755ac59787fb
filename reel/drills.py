"""Fault drills for operators and tests: REEL_FAIL_AT makes a chosen render fail on purpose.

  fail:shot:K[:attempt:N]        raise every time (a broken shot)
  fail-once:shot:K[:attempt:N]   raise the first time only (a retried flow run then succeeds)
  crash-once:shot:K[:attempt:N]  raise an infrastructure fault once (Prefect's task retry absorbs it)
  kill:shot:K[:attempt:N]        SIGKILL the process there (a crash with no cleanup)
  stall:shot:K[:attempt:N]       hang there for an hour (a stuck render: drills stopping a run)
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from reel.errors import BackendCrashed
from reel.settings import get_settings


MARKERS = "drill-*"  # a fail-once drill's note that it fired, kept in the reel's scratch across runs


class InjectedFault(RuntimeError):
    """A render that fails on purpose (REEL_FAIL_AT)."""


def check(shot_index: int, attempt: int, marker_dir: Path) -> None:
    spec = get_settings().fail_at
    if not spec:
        return
    kind, _, where = spec.partition(":")
    parts = where.split(":")
    if parts[:2] != ["shot", str(shot_index)] or (len(parts) >= 4 and parts[2:4] != ["attempt", str(attempt)]):
        return
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "stall":
        time.sleep(3600)
    marker = marker_dir / f"drill-{spec.replace(':', '_')}"
    if kind in ("fail-once", "crash-once"):
        if marker.exists():
            return
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    if kind == "crash-once":
        raise BackendCrashed(f"injected backend crash in shot {shot_index} attempt {attempt} (REEL_FAIL_AT={spec})")
    if kind in ("fail", "fail-once"):
        raise InjectedFault(f"injected failure in shot {shot_index} attempt {attempt} (REEL_FAIL_AT={spec})")
