"""Stage 4: render. One attempt of one shot: the keyframe animated with the attempt's knobs."""

from __future__ import annotations

from models import base
from reel import prompts
from reel.caching import artifact_digests
from reel.ids import seed_for
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.schema import Plan, RenderKnobs
from reel import drills
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.model_output import model_output

NEGATIVE_FILE = "wan_negative.txt"
DISTILLED, FULL = base.DISTILLED, base.FULL


def first_knobs(plan: Plan, shot_index: int, preset: Preset, seed: int, turbo: bool | None = None) -> RenderKnobs:
    """Attempt 1 of a shot: the preset's knobs, hero or b-roll. With turbo (the preset's unless
    given) a shot starts on the step-distilled experts at their authors' steps and shift, with
    neither CFG (guidance 1) nor FBCache; hero shots only when the preset's turbo_heroes allows."""
    shot = plan.shots[shot_index]
    width, height = preset.render_size
    knobs = RenderKnobs(
        seed=seed_for(seed, "render", shot_index, 1),
        prompt=shot.prompt,
        negative_prompt=prompts.text(NEGATIVE_FILE).strip(),
        frames=preset.frames, fps=preset.fps, width=width, height=height,
        steps=preset.hero_steps if shot.is_hero else preset.broll_steps,
        flow_shift=preset.flow_shift_hero if shot.is_hero else preset.flow_shift_broll,
        guidance=preset.guidance, guidance_2=preset.guidance_2, fbcache=preset.fbcache,
    )
    turbo = preset.turbo if turbo is None else turbo
    if not turbo or (shot.is_hero and not preset.turbo_heroes):
        return knobs
    return knobs.model_copy(update={"distilled": True, "steps": preset.turbo_steps, "flow_shift": preset.turbo_shift,
                                    "guidance": 1.0, "guidance_2": 1.0, "fbcache": None})


def weights_for(knobs: RenderKnobs) -> str:
    """The video model's weights an attempt asks the host for: the distilled or the base experts."""
    return DISTILLED if knobs.distilled else FULL


def clip_path(shot_index: int, attempt: int) -> str:
    return f"clips/shot_{shot_index:02d}_attempt_{attempt}.mp4"


def render_clip(store: ArtifactStore, plan: Plan, shot_index: int, attempt: int, keyframe: StageRecord,
                knobs: RenderKnobs, backend: str, next_keyframe: StageRecord | None = None) -> StageRecord:
    """next_keyframe: the next shot's keyframe when that shot continues this one (its cut is false)."""
    drills.check(shot_index, attempt, store.scratch())
    record = timed("render", f"shot {shot_index} attempt {attempt}")
    start = store.local_path(keyframe.artifact())
    # Continuity: a shot the next one continues ends on the next shot's keyframe (first-last-frame,
    # FLF2V on Wan2.2-A14B), rather than the next shot starting from this clip's last frame. Chosen so
    # the shots stay independent: all six render at once and the host batches them on one loaded
    # model, a retry of this shot never forces the next to re-render, and every shot still starts on
    # its own keyframe (what the critic checks and the storyboard shows). Otherwise, a first-last-frame
    # retry ends on the shot's own keyframe, so identity drift cannot accumulate through the shot.
    if next_keyframe is not None:
        end = store.local_path(next_keyframe.artifact())
    else:
        end = start if knobs.end_frame else None
    with model_output(store, record, "video", backend, clip_path(shot_index, attempt), attempt=attempt,
                      knobs=knobs.model_dump(), weights=weights_for(knobs)) as (model, out):
        model.render(plan, plan.shots[shot_index], start, end, knobs, out)
        if getattr(model, "last_accel", None):  # what the GPU backend ran with (cache threshold, compile)
            record.meta["accel"] = model.last_accel
    return record.finish()


def _key(ref, plan, shot_index, attempt, keyframe, knobs, backend, next_keyframe=None):
    key = {"shot": plan.shots[shot_index].model_dump(), "attempt": attempt, "keyframe": artifact_digests(keyframe),
           "knobs": knobs.key(), "backend": base.identity("video", backend)}
    if knobs.distilled:  # which distilled weights: another LoRA or checkpoint is another clip
        key["distilled"] = base.identity("video", backend, weights=DISTILLED)
    if next_keyframe is not None:  # the clip ends on the next shot: its keyframe and its planned camera
        key["continues_into"] = {"keyframe": artifact_digests(next_keyframe),
                                 "shot": plan.shots[shot_index + 1].model_dump()}
    return key


@stage("render", version="2", key_parts=_key, task_run_name="render-shot-{shot_index}-attempt-{attempt}",
       **infra_retries())
def render_stage(ref: ReelRef, plan: Plan, shot_index: int, attempt: int, keyframe: StageRecord,
                 knobs: RenderKnobs, backend: str, next_keyframe: StageRecord | None = None) -> StageRecord:
    return render_clip(ref.store(), plan, shot_index, attempt, keyframe, knobs, backend, next_keyframe)
