"""The model host: one process-wide place that loads a backend on first use and keeps it
resident while the next model task needs it, unloading it before another one loads.

Backends expose `load()`/`unload()`; GPU backends free their memory in `unload()`
(del, gc, empty_cache; vLLM's subprocess exits). CPU preview backends are cheap and may stay.
"""

from __future__ import annotations

import threading
from typing import Any

from models import base

_lock = threading.RLock()
_resident: dict[tuple[str, str], Any] = {}
loads: list[tuple[str, str]] = []  # (role, backend) in load order, for schedule benchmarks


def get(role: str, name: str) -> Any:
    """The loaded backend `name` for `role`, evicting any other heavy model first."""
    name = base.resolve_name(role, name)
    key = (role, name)
    with _lock:
        if key in _resident:
            return _resident[key]
        from reel.settings import get_settings

        backend = base.create(role, name, **get_settings().backend_options(role))
        if getattr(backend, "heavy", False):
            for other_key, other in list(_resident.items()):
                if getattr(other, "heavy", False):
                    other.unload()
                    del _resident[other_key]
        backend.load()
        loads.append(key)
        _resident[key] = backend
        return backend


def unload_all() -> None:
    with _lock:
        for backend in _resident.values():
            backend.unload()
        _resident.clear()
