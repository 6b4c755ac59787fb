"""Stage 4: render. One attempt of one shot: the keyframe animated with the attempt's knobs."""

from __future__ import annotations

from models import base
from models import host
from reel import prompts
from reel.caching import artifact_digests
from reel.ids import seed_for
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.schema import Plan, RenderKnobs
from reel import drills
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore

NEGATIVE_FILE = "wan_negative.txt"


def first_knobs(plan: Plan, shot_index: int, preset: Preset, seed: int) -> RenderKnobs:
    """Attempt 1 of a shot: the preset's knobs, hero or b-roll."""
    shot = plan.shots[shot_index]
    width, height = preset.render_size
    return RenderKnobs(
        seed=seed_for(seed, "render", shot_index, 1),
        prompt=shot.prompt,
        negative_prompt=prompts.text(NEGATIVE_FILE).strip(),
        frames=preset.frames, fps=preset.fps, width=width, height=height,
        steps=preset.hero_steps if shot.is_hero else preset.broll_steps,
        flow_shift=preset.flow_shift_hero if shot.is_hero else preset.flow_shift_broll,
        guidance=preset.guidance, guidance_2=preset.guidance_2, fbcache=preset.fbcache,
    )


def clip_path(shot_index: int, attempt: int) -> str:
    return f"clips/shot_{shot_index:02d}_attempt_{attempt}.mp4"


def render_clip(store: ArtifactStore, plan: Plan, shot_index: int, attempt: int, keyframe: StageRecord,
                knobs: RenderKnobs, backend: str) -> StageRecord:
    drills.check(shot_index, attempt, store.scratch())
    record = timed("render", f"shot {shot_index} attempt {attempt}")
    out = store.scratch() / f"render_{shot_index}_{attempt}.mp4"
    start = store.local_path(keyframe.artifact())
    # First-last-frame: end on the keyframe's identity, so drift cannot accumulate through the shot.
    end = start if knobs.end_frame else None
    with host.use("video", backend) as (model, held):
        model.render(plan, plan.shots[shot_index], start, end, knobs, out)
    record.artifacts["main"] = store.put_file(clip_path(shot_index, attempt), out)
    record.backend, record.model_id = model.name, model.model_id
    record.meta = {"attempt": attempt, "knobs": knobs.model_dump(), "gpu_window": held.window}
    if getattr(model, "last_accel", None):  # what the GPU backend ran with (cache threshold, compile)
        record.meta["accel"] = model.last_accel
    out.unlink(missing_ok=True)
    return record.finish()


def _key(ref, plan, shot_index, attempt, keyframe, knobs, backend):
    return {"shot": plan.shots[shot_index].model_dump(), "attempt": attempt, "keyframe": artifact_digests(keyframe),
            "knobs": knobs.model_dump(), "backend": base.identity("video", backend)}


@stage("render", version="2", key_parts=_key, task_run_name="render-shot-{shot_index}-attempt-{attempt}",
       **infra_retries())
def render_stage(ref: ReelRef, plan: Plan, shot_index: int, attempt: int, keyframe: StageRecord,
                 knobs: RenderKnobs, backend: str) -> StageRecord:
    return render_clip(ref.store(), plan, shot_index, attempt, keyframe, knobs, backend)
