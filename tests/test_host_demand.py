"""The model host keeps a resident model only for requests a line of work has announced (`Need`):
announced, a waiting task for another model waits (at most swap_grace_s); not, it goes at once."""

from __future__ import annotations

import threading
import time

import pytest

from models.base import BackendBase

pytestmark = pytest.mark.usefixtures("prefect_server")

LOADS: list[str] = []


class _Fake(BackendBase):
    """A heavy model as far as the host knows; it only counts its loads."""

    heavy, name, model_id, role = True, "fake", "fake", ""

    def load(self) -> None:
        LOADS.append(self.role)

    def unload(self) -> None:
        pass


class FakeVideo(_Fake):
    role = "video"


class FakeCritic(_Fake):
    role = "critic"


@pytest.fixture
def host(monkeypatch):
    from models import base
    from runtime import host

    for cls in (FakeVideo, FakeCritic):
        monkeypatch.setitem(base.REGISTRY[cls.role], "fake", f"tests.test_host_demand:{cls.__name__}")
    monkeypatch.setattr(host, "plan", lambda: None)  # no card: every heavy model replaces the last
    host.unload_all()
    LOADS.clear()
    yield host
    host.unload_all()
    assert not host._expected, host._expected  # every announcement was withdrawn


def _use(host, role: str) -> None:
    with host.use(role, "fake"):
        pass


def _asks_critic(host) -> threading.Thread:
    t = threading.Thread(target=_use, args=(host, "critic"))
    t.start()
    time.sleep(1.0)  # it is waiting
    return t


def test_an_announced_model_stays_for_its_request_then_the_waiter_goes_at_once(host, monkeypatch):
    monkeypatch.setenv("REEL_SWAP_GRACE_S", "60")
    with host.Need() as need:
        need.next("video")
        _use(host, "video")
        critic = _asks_critic(host)
        assert LOADS == ["video"]  # the video model is expected: the critic waits
        _use(host, "video")  # the announced request finds it loaded
        assert LOADS == ["video"]
        started = time.monotonic()
    critic.join(timeout=30)  # nothing expected any more: the critic goes now, not after 60 s
    assert not critic.is_alive() and time.monotonic() - started < 20
    assert LOADS == ["video", "critic"]


def test_an_unannounced_model_is_swapped_at_once_and_an_announcement_is_bounded(host, monkeypatch):
    monkeypatch.setenv("REEL_SWAP_GRACE_S", "60")
    _use(host, "video")
    started = time.monotonic()
    _use(host, "critic")  # nobody announced the video model: no wait
    assert time.monotonic() - started < 20 and LOADS == ["video", "critic"]
    monkeypatch.setenv("REEL_SWAP_GRACE_S", "3")
    with host.line("a shot") as need, host.line("a shot") as same:
        assert need is same  # one line of work, however many places open it
        need.next("critic")  # a promise that never comes
        started = time.monotonic()
        _use(host, "video")
        assert 2.5 < time.monotonic() - started < 20  # kept for swap_grace_s, then replaced
    assert LOADS == ["video", "critic", "video"]


SEEN: list[dict] = []


def test_a_stage_announces_the_role_it_declares_while_it_runs(host, tmp_path):
    """reel/stage.py's runner tells the host what a stage will ask for (`@stage(..., role=...)`), on
    the line of work it runs in, and withdraws it when the stage ends: flows announce nothing."""
    from reel.records import ReelRef, StageRecord
    from reel.stage import Ledger, run, stage, timed

    @stage("probe", version="1", key_parts=lambda ref, n: {"n": n, "t": time.time()}, role="video")
    def probe(ref: ReelRef, n: int) -> StageRecord:
        SEEN.append(dict(host._expected))
        return timed("probe").finish()

    with host.line("a shot"):
        run(probe, ReelRef(root=str(tmp_path), reel_id="r"), Ledger(), n=1)
        assert not host._expected  # withdrawn when the stage ended
    assert SEEN == [{"video": 1}]


def test_no_flow_announces_a_model_by_hand():
    from pathlib import Path

    flows = Path(__file__).resolve().parents[1] / "flows"
    assert not [p.name for p in flows.glob("*.py") if "need.next(" in p.read_text() or "Need()" in p.read_text()]
