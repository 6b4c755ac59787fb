"""The model host's CPU side: backends that declare `cpu = True` hold no GPU, so their calls take
no GPU turn and no `gpu` slot (runtime/host.py). They run beside the GPU work and beside each
other, as many at once as this process has cores, one call at a time per backend (in the order
the calls arrived) unless it declares `reentrant = True`. Each is loaded once and kept apart from
the GPU's residency: it never counts against a card."""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import threading
from typing import Any, Iterator

from models import base

_guard = threading.Lock()
_loaded: dict[tuple[str, str], Any] = {}
_turns_of: dict[tuple[str, str], "InTurn"] = {}
_cores = threading.BoundedSemaphore(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                    else os.cpu_count() or 1)


class InTurn:
    """Turns granted in the order they were asked for (a Lock's waiters go in any order). espeak-ng's
    output depends on the lines it spoke before, so a backend's calls keep the order they arrived
    in, as they did when every call queued for the GPU turn."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._asked = itertools.count()
        self._served = 0
        self._gone: set[int] = set()  # turns whose caller stopped waiting (an exception): skipped

    def ask(self) -> contextlib.AbstractContextManager:
        return self._turn(next(self._asked))  # the place in the queue is taken now, not when entered

    @contextlib.contextmanager
    def _turn(self, mine: int) -> Iterator[None]:
        try:
            with self._cond:
                while self._served != mine:
                    self._cond.wait()
        except BaseException:
            self._next(mine)
            raise
        try:
            yield
        finally:
            self._next(mine)

    def _next(self, done: int) -> None:
        with self._cond:
            self._gone.add(done)
            while self._served in self._gone:
                self._gone.discard(self._served)
                self._served += 1
            self._cond.notify_all()


def on_cpu(backend_class: type[base.BackendBase]) -> bool:
    """Whether this backend's calls skip the GPU queue: it declares it runs on the CPU alone, and
    the operator has not asked every model call to take a GPU turn (REEL_GPU_SLOT_FOR=all)."""
    from reel.settings import get_settings

    return backend_class.cpu and get_settings().gpu_slot_for != "all"


@contextlib.contextmanager
def call(key: tuple[str, str], backend_class: type[base.BackendBase], events: collections.deque) -> Iterator[Any]:
    """A CPU backend's call: its turn on the backend (unless reentrant), then one of the cores.
    A load is noted in the host's `events`."""
    from reel.settings import get_settings

    turns = _turns_of.setdefault(key, InTurn())  # atomic: no lock another call may be holding
    with contextlib.nullcontext() if backend_class.reentrant else turns.ask():
        with _guard:
            if key not in _loaded:
                backend = base.create(*key, **get_settings().backend_options(key[0]))
                backend.load()
                events.append(("load", key[0]))
                _loaded[key] = backend
            backend = _loaded[key]
        with _cores:
            yield backend


def unload(keys: list[tuple[str, str]], events: collections.deque) -> None:
    """Unload those of these CPU backends that are loaded (noted in the host's `events`)."""
    with _guard:
        for key in [k for k in keys if k in _loaded]:
            _loaded.pop(key).unload()
            events.append(("unload", key[0]))


def unload_all(events: collections.deque) -> None:
    unload(list(_loaded), events)
