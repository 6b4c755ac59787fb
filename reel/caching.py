"""Cache keys built from what a stage's output really depends on, and records that are
trusted only while their artifacts are intact.

Prefect's INPUTS policy hashes a Path by its name, not its bytes, and a run id would defeat
resume; so each stage declares a `key_parts` function over its inputs (plan slice, preset
knobs, backend identity, prompt-file digests, upstream artifact sha256s) and this policy hashes
that. Before Prefect looks a key up, a record whose artifacts are missing or whose bytes no
longer match their sha256 is evicted, so the stage runs again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from prefect.cache_policies import CachePolicy

from reel.ids import digest
from reel.records import ReelRef, StageRecord
from reel.store import ArtifactStore

log = logging.getLogger(__name__)


@dataclass
class StageCache(CachePolicy):
    stage: str = ""
    version: str = "1"
    key_parts: Callable[..., dict[str, Any]] | None = None

    def compute_key(self, task_ctx, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any) -> str:
        parts = self.key_parts(**inputs) if self.key_parts else {}
        key = f"{self.stage}-{digest({'stage': self.stage, 'version': self.version, **parts}, 24)}"
        ref = inputs.get("ref")
        if isinstance(ref, ReelRef) and task_ctx is not None:
            evict_if_stale(ref.store(), key, task_ctx.result_store)
        return key


def evict_if_stale(store: ArtifactStore, key: str, result_store) -> None:
    rel = f".results/{key}"
    if not store.exists(rel):
        return
    try:
        record = result_store.read(key).result
        intact = isinstance(record, StageRecord) and all(store.verify(a) for a in record.artifacts.values())
    except Exception as exc:  # noqa: BLE001 - an unreadable record is as good as none
        log.warning("cache record %s unreadable (%s); recomputing", key, exc)
        intact = False
    if not intact:
        log.info("cache record %s points at missing or changed artifacts; recomputing", key)
        store.fs.rm(f"{store.base}/{rel}")


def artifact_digests(*records: StageRecord | None) -> list[str]:
    """The sha256s of upstream artifacts, for key_parts."""
    return [a.sha256 for r in records if r is not None for a in r.artifacts.values()]
