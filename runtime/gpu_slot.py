"""The `gpu` slot: at most one model task at a time per GPU, in every mode.

Two layers: Prefect's global concurrency limit `gpu` (shared by every worker that talks to
the same Prefect API, 1 slot per GPU) and a host-wide lock file (flock), which holds even when
no Prefect limit can be reached (and between threads of one process, since each acquisition
opens its own file description).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import logging
import threading
import time
from typing import Iterator

from reel.settings import get_settings

log = logging.getLogger(__name__)


def ensure_gpu_limit() -> bool:
    """Create the Prefect `gpu` global concurrency limit if it does not exist. False if unreachable."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    s = get_settings()
    try:
        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(s.gpu_slot_name)
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=s.gpu_slot_name, limit=s.gpu_slots)
                )
        return True
    except Exception as exc:  # noqa: BLE001 - any API trouble: the lock file still serialises
        log.warning("could not ensure the %r concurrency limit (%s); using the local lock only", s.gpu_slot_name,
                    exc)
        return False


class Held:
    """When the slot was held: recorded so overlaps can be checked after the fact. A call that
    never held it (a CPU backend's) has no window: None, which the manifest keeps as null."""

    start: float = 0.0
    end: float = 0.0

    @property
    def window(self) -> list[float] | None:
        return [self.start, self.end] if self.start else None


# A live holder renews its lease every 45 s (Prefect renews at 75% of the duration), so a task
# of any length keeps the slot; a holder that dies stops renewing and a Prefect server's
# repossessor frees the slot within a minute. Holders on this host are also reaped by waiters.
LEASE_S = 60.0
FIRST_WAIT_S, REPEAT_WAIT_S = 5.0, 30.0


def _what() -> str:
    """The task this slot is for, as Prefect names it (e.g. `render shot 2 attempt 1`)."""
    try:
        from prefect.runtime import task_run

        return task_run.name or ""
    except Exception:  # noqa: BLE001 - outside a task run
        return ""


def _watch(name: str, acquired: threading.Event) -> None:
    """While a task waits for the slot: release dead local holders' leases, and say every 30 s
    what it waits for."""
    from runtime import slot_holders
    from reel import progress

    started, next_say = time.time(), time.time() + FIRST_WAIT_S
    while not acquired.wait(1.0):
        slot_holders.reap_dead(name)
        if time.time() >= next_say and not acquired.is_set():
            progress.say(slot_holders.describe(name, time.time() - started))
            next_say += REPEAT_WAIT_S


@contextlib.contextmanager
def _prefect_slot(name: str) -> Iterator[None]:
    """Prefect's `gpu` slot under a lease, with a record of who holds it."""
    from prefect.concurrency.context import ConcurrencyContext
    from prefect.concurrency.sync import concurrency

    from runtime import slot_holders

    slot_holders.reap_dead(name)
    acquired = threading.Event()
    watcher = threading.Thread(target=contextvars.copy_context().run, args=(_watch, name, acquired),
                               name="gpu-slot-wait", daemon=True)
    watcher.start()
    record = None
    try:
        with ConcurrencyContext() as ctx:  # it records the lease id the moment the lease is granted
            with concurrency(name, occupy=1, strict=False, lease_duration=LEASE_S,
                             raise_on_lease_renewal_failure=False):
                acquired.set()
                if ctx.cleanup_lease_ids:
                    record = slot_holders.record(ctx.cleanup_lease_ids[-1], name, _what())
                yield
    finally:
        acquired.set()
        if record is not None:
            record.unlink(missing_ok=True)


@contextlib.contextmanager
def gpu_slot() -> Iterator[Held]:
    """Hold the Prefect `gpu` slot (when a limit exists) and the host lock for the duration."""
    s = get_settings()
    s.gpu_lock_path.parent.mkdir(parents=True, exist_ok=True)
    held = Held()
    with _prefect_slot(s.gpu_slot_name):  # this GPU's own slot (REEL_GPU)
        with open(s.gpu_lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            held.start = time.time()
            try:
                yield held
            finally:
                held.end = time.time()
                fcntl.flock(fh, fcntl.LOCK_UN)
