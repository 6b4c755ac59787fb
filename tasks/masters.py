"""Stage 2: masters. One canonical image per character, a group composition and a scene plate;
they pin identity for every keyframe after them."""

from __future__ import annotations

from models import base
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.schema import Plan
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.model_output import model_output


def subjects(plan: Plan) -> list[str]:
    return [*plan.characters, "group", "scene"]


def master_inputs(plan: Plan, subject: str) -> dict:
    """The plan slice a master depends on."""
    if subject in plan.characters:
        return {"portrait": plan.characters[subject]}
    # The painter draws the plan's scene (place, time, things) when it has one: it is part of the slice.
    scene = {"scene": plan.scene.model_dump()} if plan.scene is not None else {}
    if subject == "group":
        return {"characters": plan.characters, "logline": plan.story_logline, **scene}
    return {"logline": plan.story_logline, "first_shot": plan.shots[0].prompt, **scene}


def paint_master(store: ArtifactStore, plan: Plan, subject: str, size: tuple[int, int], seed: int,
                 backend: str) -> StageRecord:
    record = timed("master", subject)
    with model_output(store, record, "image", backend, f"masters/master_{subject}.png", seed=seed) as (model, out):
        model.master(plan, subject, seed=seed, size=size, out=out)
    return record.finish()


def _key(ref, plan, subject, preset, seed, backend):
    return {"slice": master_inputs(plan, subject), "subject": subject, "size": preset.master_size,
            "seed": seed, "backend": base.identity("image", backend)}


@stage("master", version="1", key_parts=_key, role="image",
       task_run_name="master-{subject}", **infra_retries())
def master_stage(ref: ReelRef, plan: Plan, subject: str, preset: Preset, seed: int, backend: str) -> StageRecord:
    return paint_master(ref.store(), plan, subject, preset.master_size,
                        seed, backend)
