"""What a stage returns: small records of paths, digests and metadata (never the bytes)."""

from __future__ import annotations

import time
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from reel.store import Artifact, ArtifactStore


class ReelRef(BaseModel):
    """Where one reel lives: enough to open its artifact store from any process."""

    model_config = ConfigDict(frozen=True)

    root: str
    reel_id: str

    def store(self) -> "ArtifactStore":
        """This reel's artifact store."""
        return ArtifactStore(self.root, self.reel_id)


class StageOutput(BaseModel):
    """What one stage reports beside its artifacts, typed: each stage declares its own (tasks/*.py)
    and flows read it by attribute, `PlanOutput.of(record).plan`. Stored in the record's `meta` as
    plain JSON, so cached records of every stage stay readable; the fields every model stage gets
    from tasks/model_output.py (seed, knobs, gpu_window) ride along unnamed."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @classmethod
    def of(cls, record: "StageRecord") -> Self:
        return cls.model_validate(record.meta)

    def meta(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StageRecord(BaseModel):
    stage: str
    subject: str = ""  # e.g. "A", "shot 3", "shot 3 attempt 2"
    artifacts: dict[str, Artifact] = Field(default_factory=dict)
    backend: str = ""
    model_id: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)
    started: float = Field(default_factory=time.time)
    ended: float = 0.0

    def artifact(self, name: str = "main") -> Artifact:
        return self.artifacts[name]

    def finish(self) -> "StageRecord":
        self.ended = time.time()
        return self
