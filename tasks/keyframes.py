"""Stage 3: keyframes. Each shot's first frame, painted by reference editing from the masters of
the characters in it (or the scene plate when the shot is about the place)."""

from __future__ import annotations

from models import base
from reel.caching import artifact_digests
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.schema import Plan
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.model_output import model_output


def references(plan: Plan, shot_index: int, masters: dict[str, StageRecord], source: str = "chained"
               ) -> list[StageRecord]:
    """Masters a shot is edited from: its characters, dominant one first, then the scene plate.
    source "master" (a retry strategy for drifting identity) keeps only the dominant character's
    master and the scene plate, the strongest identity reference."""
    shot = plan.shots[shot_index]
    keys = plan.characters_in(shot)
    if source == "master":
        keys = keys[:1]
    elif len(keys) > 1 and "group" in masters and shot_index == 0:
        keys = ["group", *keys]
    return [masters[k] for k in [*keys, "scene"] if k in masters]


def paint_keyframe(store: ArtifactStore, plan: Plan, shot_index: int, refs: list[StageRecord],
                   size: tuple[int, int], seed: int, backend: str, source: str = "chained") -> StageRecord:
    suffix = "" if source == "chained" else f"_{source}"
    record = timed("keyframe", f"shot {shot_index}{' from ' + source if suffix else ''}")
    shot = plan.shots[shot_index]
    ref_paths = [store.local_path(r.artifact()) for r in refs]
    with model_output(store, record, "image", backend, f"keyframes/keyframe_{shot_index}{suffix}.png", seed=seed,
                      references=[r.subject for r in refs]) as (model, out):
        model.keyframe(plan, shot, ref_paths, seed=seed, size=size, out=out)
    return record.finish()


def _key(ref, plan, shot_index, masters, preset, seed, backend, source="chained"):
    refs = references(plan, shot_index, masters, source)
    return {"shot": plan.shots[shot_index].model_dump(), "logline": plan.story_logline,
            "characters": {k: plan.characters[k] for k in plan.characters_in(plan.shots[shot_index])},
            "refs": artifact_digests(*refs), "size": preset.render_size,
            "seed": seed, "backend": base.identity("image", backend), "source": source,
            **({"scene": plan.scene.model_dump()} if plan.scene is not None else {})}  # what the painter draws from


@stage("keyframe", version="1", key_parts=_key, role="image",
       task_run_name="keyframe-shot-{shot_index}-{source}",
       **infra_retries())
def keyframe_stage(ref: ReelRef, plan: Plan, shot_index: int, masters: dict[str, StageRecord], preset: Preset,
                   seed: int, backend: str, source: str = "chained") -> StageRecord:
    store = ref.store()
    return paint_keyframe(store, plan, shot_index, references(plan, shot_index, masters, source),
                          preset.render_size, seed, backend, source)
