"""The shape every model stage shares: take the role's model on the GPU, let it write one file,
store that file in the reel and fill the stage record. One place, so the five model stages
(masters, keyframes, render, music, voice) hold only what differs."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from models import host
from reel.records import StageRecord
from reel.store import ArtifactStore, disk_full, is_disk_full


@contextlib.contextmanager
def model_output(store: ArtifactStore, record: StageRecord, role: str, backend: str, dest: str,
                 weights: str | None = None, **meta: Any) -> Iterator[tuple[Any, Path]]:
    """Yield (model, scratch path to write); when the body returns, the file is stored at `dest`
    (relative to the reel) and the record gets the artifact, the backend, `meta` and the GPU window.
    The body may add to `record.meta` (e.g. a measured duration). weights: which of a model's two
    sets the call needs (models/host.py `use`)."""
    out = store.scratch() / Path(dest).name
    try:
        with host.use(role, backend, weights) as (model, held):
            try:
                yield model, out
            except OSError as exc:
                if is_disk_full(exc):  # the backend's own write: what it had written is a lower bound
                    raise disk_full(out.parent, out.stat().st_size if out.exists() else 0,
                                    f"the {role} model writing {Path(dest).name}", at_least=True) from None
                raise
        record.artifacts["main"] = store.put_file(dest, out)
        record.backend, record.model_id = model.name, model.model_id
        record.meta = {**meta, **record.meta, "gpu_window": held.window}
    finally:
        out.unlink(missing_ok=True)
