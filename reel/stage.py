"""How a stage becomes a Prefect task, declared once: cache policy, persisted results under
the reel's root, and how the flow calls it (cached or not, timed, on the run's ledger)."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from typing import Any, Callable

from prefect import Task, task
from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.exceptions import ObjectAlreadyExists
from prefect.filesystems import LocalFileSystem, RemoteFileSystem

from reel import progress, run_state
from reel.caching import StageCache
from reel.records import ReelRef, StageRecord


def stage(name: str, version: str, key_parts: Callable[..., dict[str, Any]], role: str | None = None,
          **task_kwargs: Any):
    """Decorator: a cached, persisted Prefect task for one pipeline stage. `role`: the model role it
    asks the model host for (None: no model), announced by the runner below whenever it runs."""

    def wrap(fn: Callable[..., StageRecord]) -> Task:
        @functools.wraps(fn)
        def body(*args: Any, **kwargs: Any) -> StageRecord:
            try:
                return fn(*args, **kwargs)
            except Exception:
                # Failing because the process is being stopped (the stop ended its ffmpeg or model
                # worker), it reports nothing: the stop marks it Crashed, and the Failed state the
                # engine would propose a moment later would overwrite that. The thread waits for the exit.
                run_state.hold_if_stopping()
                raise

        t = task(
            body,
            name=name,
            cache_policy=StageCache(stage=name, version=version, key_parts=key_parts),
            persist_result=True,
            **task_kwargs,
        )
        _roles[name] = role
        return t

    return wrap


_roles: dict[str, str | None] = {}  # stage name -> the model role it declares


def role_of(t: Task) -> str | None:
    """The model role a stage declared (`@stage(..., role=...)`)."""
    return _roles.get(t.name)


# How a stage's model request reaches the model host: runtime/host.py registers its two calls when it
# is imported (core code cannot import it). Until then nothing is announced.
_requesting: Callable[[str | None], Any] = lambda role: contextlib.nullcontext()
_requesting_in_background: Callable[[str], Callable[[], None]] = lambda role: (lambda: None)


def announce_with(requesting: Callable[[str | None], Any], in_background: Callable[[str], Callable[[], None]]) -> None:
    global _requesting, _requesting_in_background
    _requesting, _requesting_in_background = requesting, in_background


class S3Results(RemoteFileSystem):
    """Prefect result storage on S3 that holds no secret: the block keeps the bucket path and the
    endpoint; the key and secret come from the environment of whichever process uses it (a worker's
    REEL_S3_KEY and REEL_S3_SECRET, or botocore's own chain), so no API listing, UI page or
    database row ever has them, and another caller's credentials cannot replace them."""

    _block_type_name = "Reel S3 Results"

    @property
    def filesystem(self):
        if not self._filesystem:
            import fsspec

            from reel.store import s3_credentials

            self._filesystem = fsspec.filesystem("s3", **self.settings, **s3_credentials())
        return self._filesystem


class LocalResults(LocalFileSystem):
    """Prefect result storage in a local folder that writes each record atomically (a temporary
    name, then a rename): a full disk or a killed process leaves no cut-off record, and a full
    disk is one line (reel.store.write_atomically)."""

    _block_type_name = "Reel Local Results"

    def _write(self, path: str, content: bytes) -> str:
        from pathlib import Path

        from reel.store import write_atomically

        target = Path(self._resolve_path(path))

        def write(tmp) -> None:
            tmp.write_bytes(content)

        write.size = len(content)
        write_atomically(target, write)
        return str(target)

    async def awrite_path(self, path: str, content: bytes) -> str:
        return self._write(path, content)

    @async_dispatch(awrite_path)  # as LocalFileSystem's: Prefect calls write_path(..., _sync=True)
    def write_path(self, path: str, content: bytes) -> str:
        return self._write(path, content)


_saved_blocks: dict[str, Any] = {}
_saving = threading.Lock()  # shot subflows run in threads: one save per block name


def result_storage(ref: ReelRef):
    """Prefect result storage inside the reel's own root (`<root>/<reel_id>/.results`).

    Prefect only accepts storage blocks saved server-side, so one block per results folder (and,
    on S3, endpoint) is saved under a name derived from what it holds (idempotent, any process may
    save it: the same name always holds the same thing)."""
    block = _storage_block(ref.store().results_url())
    name = _block_name(block)
    with _saving:
        if name not in _saved_blocks:
            try:
                block.save(name, overwrite=True)
            except ObjectAlreadyExists:
                # Another process registered the block type or saved the block between Prefect's read
                # and its create (two workers starting together): saved again, it finds and updates it.
                block.save(name, overwrite=True)
            _saved_blocks[name] = block
    return _saved_blocks[name]


def _block_name(block) -> str:
    from reel.ids import digest

    return f"reel-results-{digest([block.basepath, getattr(block, 'settings', {})], 16)}"


def result_storage_slug(ref: ReelRef) -> str:
    """`<block type>/<block name>` of the reel's result storage, for PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK."""
    block = result_storage(ref)
    return f"{block.get_block_type_slug()}/{_block_name(block)}"


def _storage_block(url: str):
    if url.startswith("s3://"):
        from reel.store import s3_settings

        return S3Results(basepath=url, settings=s3_settings())
    return LocalResults(basepath=url)


INFRA_ERRORS = ("BackendCrashed", "OutOfMemoryError", "ConnectionError", "TimeoutError", "BrokenPipeError")


def is_infra_fault(task, task_run, state) -> bool:
    """True when the task failed for an infrastructure reason (crashed backend, out of memory,
    lost connection), which a plain retry can fix; bad input and quality failures are not."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as err:  # noqa: BLE001 - the failure itself may be what result() raises
        exc = err
    names = {cls.__name__ for cls in type(exc).__mro__} if isinstance(exc, BaseException) else set()
    return bool(names & set(INFRA_ERRORS)) or "out of memory" in str(exc).lower()


def infra_retries() -> dict[str, Any]:
    """Task options for model stages: retry infrastructure faults, never quality or input errors."""
    return {"retries": 2, "retry_delay_seconds": [2, 10], "retry_condition_fn": is_infra_fault}


class Ledger:
    """What happened to each stage in this run: the manifest's timings and cached flags."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, record: StageRecord, cached: bool) -> None:
        self.entries.append({"stage": record.stage, "subject": record.subject, "cached": cached,
                             "started": record.started, "ended": record.ended,
                             "seconds": round(record.ended - record.started, 3),
                             "record": record.model_dump(mode="json")})
        progress.say(progress.stage_line(record.stage, record.subject, cached, record.ended - record.started))

    def extend(self, entries: list[dict[str, Any]]) -> None:
        self.entries.extend(entries)


def _bound(t: Task, ref: ReelRef) -> Task:
    return t.with_options(result_storage=result_storage(ref))


def run(t: Task, ref: ReelRef, ledger: Ledger, **kwargs: Any) -> StageRecord:
    """Call a stage task now; note on the ledger whether it came from the cache. A stage whose
    intact record is in the cache is read from it without a task run (a cached re-run costs no
    Prefect round trips; the progress line and the manifest still say `cached`)."""
    record = lookup(t, ref, **kwargs)
    if record is not None:
        ledger.add(record, cached=True)
        return record
    run_state.hold_if_stopping()
    with _requesting(role_of(t)):
        state = _bound(t, ref)(ref=ref, **kwargs, return_state=True)
    record: StageRecord = state.result()
    ledger.add(record, cached=state.name == "Cached")
    return record


class NotCached(Exception):
    """A stage has no intact cache record for these inputs (raised by `cached_only`)."""


def lookup(t: Task, ref: ReelRef, **kwargs: Any) -> StageRecord | None:
    """The stage's cached record for these inputs, read straight from the reel's results folder
    without a Prefect task run; None when there is none or its artifacts are missing or changed.
    The key is the task's own cache policy's, so a hit is exactly what the task would return."""
    from prefect.results import ResultStore

    key = t.cache_policy.compute_key(None, {"ref": ref, **kwargs}, {})
    store = ref.store()
    if not store.exists(f".results/{key}"):
        return None
    try:
        record = ResultStore(result_storage=result_storage(ref)).read(key).result
    except Exception:  # noqa: BLE001 - an unreadable record: let the task decide (it recomputes)
        return None
    if not isinstance(record, StageRecord) or not all(store.verify(a) for a in record.artifacts.values()):
        return None
    return record


def cached_only(t: Task, ref: ReelRef, ledger: Ledger, **kwargs: Any) -> StageRecord:
    """`run` for a replay from the cache: the cached record, or NotCached."""
    record = lookup(t, ref, **kwargs)
    if record is None:
        raise NotCached(t.name)
    ledger.add(record, cached=True)
    return record


class _FromCache:
    """What `submit` returns for a stage already in the cache: a finished future's two answers."""

    class state:
        name = "Cached"

    def __init__(self, record: StageRecord) -> None:
        self.record = record

    def result(self) -> StageRecord:
        return self.record


def submit(t: Task, ref: ReelRef, **kwargs: Any):
    """Start a stage task in the background (music and voice do not wait for the shots); a stage
    already in the cache is read from it instead, as in `run`."""
    record = lookup(t, ref, **kwargs)
    if record is not None:
        return _FromCache(record)
    run_state.hold_if_stopping()
    future = _bound(t, ref).submit(ref=ref, **kwargs)
    if role_of(t) is not None:  # announced until the background stage ends
        future.add_done_callback(lambda _, withdraw=_requesting_in_background(role_of(t)): withdraw())
    return future


def collect(future, ledger: Ledger) -> StageRecord:
    record: StageRecord = future.result()
    ledger.add(record, cached=future.state.name == "Cached")
    return record


def timed(stage_name: str, subject: str = "") -> StageRecord:
    """A fresh record for a stage body to fill in (started now)."""
    return StageRecord(stage=stage_name, subject=subject, started=time.time())
