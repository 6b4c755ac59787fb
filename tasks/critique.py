"""Stage 5: critique. The critic grades one attempt's clip against its shot, keyframe and the
portraits of the characters in it; the verdict is kept beside the clip."""

from __future__ import annotations

from models import base
from reel import host
from reel.caching import artifact_digests
from reel.gpu import gpu_slot
from reel.records import ReelRef, StageRecord
from reel.schema import Plan, RenderKnobs, Verdict
from reel.stage import stage, timed
from reel.store import ArtifactStore


def critique_clip(store: ArtifactStore, plan: Plan, shot_index: int, attempt: int, clip: StageRecord,
                  keyframe: StageRecord, masters: dict[str, StageRecord], knobs: RenderKnobs,
                  backend: str) -> StageRecord:
    record = timed("critique", f"shot {shot_index} attempt {attempt}")
    shot = plan.shots[shot_index]
    portraits = {k: store.local_path(masters[k].artifact()) for k in plan.characters_in(shot) if k in masters}
    with gpu_slot() as held:
        critic = host.get("critic", backend)
        verdict: Verdict = critic.critique(plan, shot, store.local_path(clip.artifact()),
                                           store.local_path(keyframe.artifact()), portraits, knobs)
    rel = clip.artifact().path.replace(".mp4", ".verdict.json")
    record.artifacts["main"] = store.write_json(rel, verdict.model_dump(mode="json"))
    record.backend, record.model_id = critic.name, critic.model_id
    record.meta = {"attempt": attempt, "verdict": verdict.model_dump(mode="json"), "gpu_window": held.window}
    return record.finish()


def _key(ref, plan, shot_index, attempt, clip, keyframe, masters, knobs, backend):
    shot = plan.shots[shot_index]
    portraits = [masters[k] for k in plan.characters_in(shot) if k in masters]
    return {"shot": shot.model_dump(), "attempt": attempt, "clip": artifact_digests(clip, keyframe, *portraits),
            "knobs": knobs.model_dump(), "backend": base.identity("critic", backend)}


@stage("critique", version="1", key_parts=_key, task_run_name="critique-shot-{shot_index}-attempt-{attempt}")
def critique_stage(ref: ReelRef, plan: Plan, shot_index: int, attempt: int, clip: StageRecord,
                   keyframe: StageRecord, masters: dict[str, StageRecord], knobs: RenderKnobs,
                   backend: str) -> StageRecord:
    return critique_clip(ArtifactStore(ref.root, ref.reel_id), plan, shot_index, attempt, clip, keyframe, masters,
                         knobs, backend)
