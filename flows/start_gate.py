"""Subflows started side by side from threads are created one at a time.

Prefect's SQLite server creates a subflow's tracking task run in a deferred transaction that
reads before it writes; when another write lands in between, SQLite refuses at once ("database
is locked"), the server answers 503 and the client backs off 2 s, then 4, then 8. Six shots
started together began their bodies up to 15 s apart. The gate lets one creation through at a
time, from the call until the subflow's body begins (its first line calls `opened`); the bodies
still run side by side. The gate is a lease: a holder that keeps it longer than `PATIENCE_S` is
most likely sitting in that back-off itself, so the next one takes the gate over rather than
queue behind it.

A stop (app/stopping.py) marks the open runs Crashed; a subflow still being created would appear
after that, left Running for ever. So no creation begins once a stop has begun, and the stop waits
(`settled`) for those already begun to reach their bodies before it looks a last time.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from reel import run_state

PATIENCE_S = 1.0  # a creation takes 0.1-0.4 s on a busy 2-core box; a back-off takes 2 s or more

_cond = threading.Condition()
_holder: list = [None, 0.0]  # [token of the thread holding the gate, when it took it]
_creating: set = set()  # tokens whose creation has begun and whose body has not (taken-over ones too)
_mine = threading.local()


@contextmanager
def one_at_a_time(patience_s: float = PATIENCE_S) -> Iterator[None]:
    """Around a subflow call in a thread: wait for the gate, or until its holder has kept it
    `patience_s`; it opens when the subflow's body begins (`opened`) or, failing that, when the
    call returns or raises."""
    token = object()
    with _cond:
        while _holder[0] is not None and (left := _holder[1] + patience_s - time.monotonic()) > 0:
            _cond.wait(left)
        stopping = run_state.stopping()
        if not stopping:  # decided under the lock `settled` reads: a stop sees this creation, or it never begins
            _holder[:] = [token, time.monotonic()]
            _creating.add(token)
    if stopping:
        run_state.hold_if_stopping()  # this thread waits here for the exit
    _mine.token = token
    try:
        yield
    finally:
        opened()


def opened() -> None:
    """First line of a gated flow's body: this thread's subflow exists and runs; the next may start.
    A no-op in a thread that does not hold the gate (a deployment run, a flow called directly, a
    holder whose gate was taken over)."""
    token, _mine.token = getattr(_mine, "token", None), None
    if token is None:
        return
    with _cond:
        _creating.discard(token)
        if _holder[0] is token:
            _holder[:] = [None, 0.0]
        _cond.notify_all()


def settled(timeout_s: float) -> bool:
    """Wait until every subflow creation begun has reached its body (or failed), `timeout_s` at
    most; True when none is left."""
    deadline = time.monotonic() + timeout_s
    with _cond:
        while _creating and (left := deadline - time.monotonic()) > 0:
            _cond.wait(left)
        return not _creating
