"""The run this process is making, so a stopped CLI can name it and say how to resume it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Current:
    reel_id: str
    root: str
    flow_run_id: str | None


_current: Current | None = None


def started(reel_id: str, root: str, flow_run_id: str | None) -> None:
    global _current
    _current = Current(reel_id, root, flow_run_id)


def current() -> Current | None:
    return _current
