"""Stage 6: music. A score for the whole reel from the director's brief (no wait on the shots)."""

from __future__ import annotations

from models import base
from reel.records import ReelRef, StageRecord
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.model_output import model_output


def score_music(store: ArtifactStore, brief: str, seconds: float, seed: int, backend: str) -> StageRecord:
    record = timed("music")
    with model_output(store, record, "music", backend, "music.wav", seed=seed, brief=brief,
                      seconds=seconds) as (model, out):
        model.compose(brief, seconds=seconds, seed=seed, out=out)
    return record.finish()


def _key(ref, brief, seconds, seed, backend):
    return {"brief": brief, "seconds": round(seconds, 3), "seed": seed,
            "backend": base.identity("music", backend)}


@stage("music", version="1", key_parts=_key, role="music",
       task_run_name="music", **infra_retries())
def music_stage(ref: ReelRef, brief: str, seconds: float, seed: int, backend: str) -> StageRecord:
    return score_music(ref.store(), brief, seconds, seed, backend)
