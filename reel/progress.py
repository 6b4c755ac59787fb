"""Progress lines for people watching a run: printed by the CLI, logged in Prefect."""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("reel")


def say(message: str) -> None:
    """One progress line: on stdout when the CLI asked for it, always in the run's log."""
    if os.environ.get("REEL_PROGRESS") == "1":
        print(f"  {message}", file=sys.stdout, flush=True)
    try:
        from prefect import get_run_logger

        get_run_logger().info(message)
    except Exception:  # noqa: BLE001 - outside a run there is no run logger
        log.info(message)


def stage_line(stage: str, subject: str, cached: bool, seconds: float, extra: str = "") -> str:
    status = "cached" if cached else f"done in {seconds:.1f}s"
    who = f" {subject}" if subject else ""
    return f"{stage}{who}: {status}{' · ' + extra if extra else ''}"
