"""The `gpu` slot: at most one model task at a time per GPU, in every mode.

Two layers: Prefect's global concurrency limit `gpu` (shared by every worker that talks to
the same Prefect API, 1 slot per GPU) and a host-wide lock file (flock), which holds even when
no Prefect limit can be reached (and between threads of one process, since each acquisition
opens its own file description).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
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
    """When the slot was held: recorded so overlaps can be checked after the fact."""

    start: float = 0.0
    end: float = 0.0

    @property
    def window(self) -> list[float]:
        return [self.start, self.end]


@contextlib.contextmanager
def gpu_slot() -> Iterator[Held]:
    """Hold the Prefect `gpu` slot (when a limit exists) and the host lock for the duration."""
    from prefect.concurrency.sync import concurrency

    s = get_settings()
    s.gpu_lock_path.parent.mkdir(parents=True, exist_ok=True)
    held = Held()
    with concurrency(s.gpu_slot_name, occupy=1, strict=False):  # this GPU's own slot (REEL_GPU)
        with open(s.gpu_lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            held.start = time.time()
            try:
                yield held
            finally:
                held.end = time.time()
                fcntl.flock(fh, fcntl.LOCK_UN)
