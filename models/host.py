"""The model host: one process-wide place that decides which model task gets the GPU next,
loads the model it needs (unloading the previous one unless they fit together) and keeps it
resident while further tasks need it.

Scheduling is by model affinity: when the GPU frees up, a waiting task whose model is already
resident goes first; otherwise the earliest waiter, after a short grace period while a heavy
model is resident (a swap costs minutes; a shot's next render may be a moment from asking). With every shot's subflow running at once,
that renders all first attempts while the video model is loaded, then critiques them all while
the critic is loaded, then sends only the failures round again: the seed project reloaded the
video model and the critic around every single critique.

Backends expose `load()`/`unload()`; GPU backends free their memory in `unload()` (del, gc,
empty_cache; vLLM's worker process exits) and set `heavy = True`. Preview backends are cheap.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import Any, Iterator

from models import base
from models.gpu_slot import Held, gpu_slot

_cond = threading.Condition(threading.RLock())
_busy = False
_waiting: list[tuple[int, tuple[str, str]]] = []
_ticket = itertools.count()
_resident: dict[tuple[str, str], Any] = {}
_fits_together: set[frozenset[str]] = set()
_freed_at = 0.0
evict_after_use = False  # the seed's schedule, kept for the benchmark's comparison


def allow_together(pairs: list[list[str]]) -> None:
    """Roles whose models fit on the GPU at once (from the preset): no swap between them."""
    _fits_together.clear()
    _fits_together.update(frozenset(p) for p in pairs)


def _next_up() -> tuple[int | None, float]:
    """The ticket that may go now (None: wait), and how long to wait before asking again."""
    warm = [w for w in _waiting if w[1] in _resident]
    if warm:
        return min(warm)[0], 0.0
    from reel.settings import get_settings

    heavy_resident = any(getattr(b, "heavy", False) for b in _resident.values())
    left = _freed_at + get_settings().swap_grace_s - time.monotonic()
    if heavy_resident and not evict_after_use and left > 0:
        return None, left
    return min(_waiting)[0], 0.0


def _load(role: str, name: str) -> Any:
    key = (role, name)
    if key in _resident:
        return _resident[key]
    from reel.settings import get_settings

    backend = base.create(role, name, **get_settings().backend_options(role))
    if getattr(backend, "heavy", False):
        for (other_role, other_name), other in list(_resident.items()):
            if getattr(other, "heavy", False) and frozenset((role, other_role)) not in _fits_together:
                other.unload()
                del _resident[(other_role, other_name)]
    backend.load()
    _resident[key] = backend
    return backend


@contextlib.contextmanager
def use(role: str, name: str) -> Iterator[tuple[Any, Held]]:
    """Wait for this model's turn on the GPU, hold the `gpu` slot, and yield the loaded backend."""
    global _busy
    key = (role, base.resolve_name(role, name))
    ticket = next(_ticket)
    with _cond:
        _waiting.append((ticket, key))
        while True:
            up, wait = (None, None) if _busy else _next_up()
            if up == ticket:
                break
            _cond.wait(timeout=wait or None)
        _waiting.remove((ticket, key))
        _busy = True
    try:
        with gpu_slot() as held:
            backend = _load(*key)
            yield backend, held
            if evict_after_use:
                backend.unload()
                _resident.pop(key, None)
    finally:
        global _freed_at
        with _cond:
            _busy = False
            _freed_at = time.monotonic()
            _cond.notify_all()


def unload_all() -> None:
    with _cond:
        for backend in _resident.values():
            backend.unload()
        _resident.clear()
