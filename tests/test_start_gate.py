"""flows/start_gate.py: subflow creations one at a time, bodies side by side."""

from __future__ import annotations

import threading
import time

from flows.start_gate import one_at_a_time, opened, settled


def _shot(events: list, name: str, create_s: float, body_s: float, patience_s: float = 5,
          raises: bool = False) -> threading.Thread:
    def shot() -> None:
        try:
            with one_at_a_time(patience_s=patience_s):
                events.append((time.monotonic(), name, "create"))
                time.sleep(create_s)  # the subflow being created: the gate is held
                if raises:
                    raise RuntimeError("creation failed")
                opened()  # the body's first line
                events.append((time.monotonic(), name, "body"))
                time.sleep(body_s)
                events.append((time.monotonic(), name, "end"))
        except RuntimeError:
            events.append((time.monotonic(), name, "failed"))

    t = threading.Thread(target=shot)
    t.start()
    return t


def _kinds(events: list) -> list[str]:
    return [kind for _, _, kind in sorted(events)]


def test_creations_take_turns_and_bodies_overlap():
    events: list = []
    for t in [_shot(events, f"shot {i}", 0.1, 0.6) for i in range(3)]:
        t.join()
    # Each creation begins only after the one before reached its body ...
    assert _kinds(events)[:6] == ["create", "body", "create", "body", "create", "body"], _kinds(events)
    # ... and the bodies run side by side: all three began before the first one ended.
    first_end = min(t for t, _, kind in events if kind == "end")
    assert max(t for t, _, kind in events if kind == "body") < first_end


def test_patience_counts_from_the_holder_not_from_the_wait():
    """Six waiters behind short creations: the last waits longer than the patience in all, but
    no holder keeps the gate that long, so nobody goes ahead of its turn."""
    events: list = []
    for t in [_shot(events, f"shot {i}", 0.08, 0.05, patience_s=0.25) for i in range(6)]:
        t.join()
    starts = [k for k in _kinds(events) if k in ("create", "body")]
    assert starts == ["create", "body"] * 6, starts


def test_a_failed_creation_opens_the_gate():
    events: list = []
    _shot(events, "broken", 0.05, 0, raises=True).join()
    t0 = time.monotonic()
    _shot(events, "next", 0.0, 0).join()
    assert time.monotonic() - t0 < 1, "the gate stayed shut after a creation raised"
    assert _kinds(events) == ["create", "failed", "create", "body", "end"]


def test_a_holder_past_its_patience_is_taken_over():
    release, held, third_in = threading.Event(), threading.Event(), threading.Event()

    def stuck() -> None:
        with one_at_a_time():
            held.set()
            release.wait(10)  # as if in the client's 503 back-off
            opened()  # taken over meanwhile: must not open the new holder's gate

    def third() -> None:
        with one_at_a_time(patience_s=5):
            third_in.set()

    t = threading.Thread(target=stuck)
    t.start()
    held.wait(5)
    t0 = time.monotonic()
    with one_at_a_time(patience_s=0.3):
        waited = time.monotonic() - t0
        release.set()
        t.join()
        waiter = threading.Thread(target=third)
        waiter.start()
        # The old holder's `opened` left this thread's gate shut: the third still waits.
        assert not third_in.wait(0.3), "the stale holder opened the gate it no longer held"
        opened()
    assert third_in.wait(5)
    waiter.join(5)
    assert 0.25 <= waited < 2, waited


def test_opened_outside_a_gate_is_a_no_op():
    """A thread that holds no gate (a deployment run, a flow called directly) calling `opened` must
    not open the gate another thread holds: the next creation still waits for the holder."""
    held, release, second_in = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        with one_at_a_time(patience_s=30):
            held.set()
            release.wait(10)

    def second() -> None:
        with one_at_a_time(patience_s=30):
            second_in.set()

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(5)
    opened()  # this thread holds nothing
    waiter = threading.Thread(target=second)
    waiter.start()
    try:
        assert not second_in.wait(0.5), "opened() outside a gate let the next creation in"
    finally:
        release.set()
        first.join(5)
    assert second_in.wait(5)  # the holder's own opening lets it in
    waiter.join(5)


def test_once_a_stop_has_begun_no_creation_begins_and_settled_waits_for_the_one_under_way(monkeypatch):
    """app/stopping.py's last pass must see every subflow whose creation began before the signal:
    after the stop no creation begins (its thread waits for the exit), and `settled` returns once
    the creation under way has reached its body."""
    from reel import run_state

    monkeypatch.setattr(run_state, "_stopping", threading.Event())  # this process's stop, not the session's
    creating, release, late_in = threading.Event(), threading.Event(), threading.Event()

    def under_way() -> None:
        with one_at_a_time(patience_s=30):
            creating.set()
            release.wait(10)  # as if the server were still creating the subflow
            opened()

    def queued() -> None:
        with one_at_a_time(patience_s=30):
            late_in.set()

    first = threading.Thread(target=under_way, daemon=True)
    first.start()
    assert creating.wait(5)
    late = threading.Thread(target=queued, daemon=True)
    late.start()
    run_state.stop_starting()
    assert not settled(0.3), "settled while a creation was under way"
    release.set()
    assert settled(5)
    assert not late_in.wait(0.5), "a creation began after the stop"
    assert late.is_alive()
