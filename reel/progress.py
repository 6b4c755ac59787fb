"""Progress lines for people watching a run: printed by the CLI, logged in Prefect."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
from typing import Iterator

log = logging.getLogger("reel")
_held: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("held_progress", default=None)


@contextlib.contextmanager
def held() -> Iterator[list[str]]:
    """Collect this context's progress lines instead of saying them (e.g. a try that may be
    abandoned); the caller says them with `say_all` if they still hold."""
    lines: list[str] = []
    token = _held.set(lines)
    try:
        yield lines
    finally:
        _held.reset(token)


def say_all(lines: list[str]) -> None:
    for line in lines:
        say(line)


def say(message: str) -> None:
    """One progress line: on stdout when the CLI asked for it, always in the run's log."""
    lines = _held.get()
    if lines is not None:
        lines.append(message)
        return
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
