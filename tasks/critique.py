"""Stage 5: critique, in two tiers. Tier 1 measures the clip (freeze, black, flicker, camera
motion against the asked verb, colour drift, saturation) on the CPU; a clip that fails it goes
back to render without spending the vision-language model. A clip that passes is judged by the
tier-2 critic when one is configured: four frames, the shot prompt and the portraits in, a
Verdict out. A reply that cannot be read is asked for again once, then the attempt is
unscored, which never passes."""

from __future__ import annotations

import shutil
import uuid

from pydantic import BaseModel, ConfigDict

from models import base
from runtime import host
from reel import prompts
from reel.caching import artifact_digests
from reel.media import sample_frames
from reel.records import ReelRef, StageOutput, StageRecord
from reel.schema import Plan, RenderKnobs, Verdict
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from reel.verdict_parse import VerdictParseError, parse_verdict

TIER1 = "measured"  # the tier-1 critic's registry name


class CritiqueOutput(StageOutput):
    attempt: int
    tier: int  # 1: measured only; 2: the vision-language critic judged too
    verdict: Verdict


FRAME_POSITIONS = [0.0, 1 / 3, 2 / 3, 1.0]


def ask_vision_critic(critic, plan: Plan, shot_index: int, knobs: RenderKnobs, frames, portraits: dict) -> Verdict:
    """Tier 2: one question, one re-ask on an unreadable reply, else unscored."""
    who = f"{critic.name}:{critic.model_id} (tier 2)"
    characters = "; ".join(f"{k}: {plan.characters[k]}" for k in portraits) or "none (a scene shot)"
    question = prompts.text("critic_user.txt").format(shot_index=shot_index, attempt=knobs.attempt,
                                                      prompt=knobs.prompt, characters=characters)
    images = [*frames, *portraits.values()]
    system = prompts.text("critic_system.md")
    errors = []
    for _ in range(2):
        reply = critic.ask(system, question, images)
        try:
            return parse_verdict(reply, critic=who)
        except VerdictParseError as exc:
            errors.append(str(exc))
            question = question + "\n\n" + prompts.text("critic_reask.txt").format(error=exc)
    return Verdict.unscored(who, f"critic reply unreadable twice: {' / '.join(errors)}")


class CritiqueInput(BaseModel):
    """What one critique judges, named once: the cache key, the body and the task read it."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    shot_index: int
    attempt: int
    clip: StageRecord
    keyframe: StageRecord  # the keyframe the clip started on
    masters: dict[str, StageRecord]
    knobs: RenderKnobs
    threshold: float  # the preset's pass threshold
    backend: str  # the critic backend (or family) of the reel
    end_frame: StageRecord | None = None  # the next shot's keyframe when that shot continues this one

    def portraits(self) -> dict[str, StageRecord]:
        """The masters of the characters in this shot, by character key."""
        shot = self.plan.shots[self.shot_index]
        return {k: self.masters[k] for k in self.plan.characters_in(shot) if k in self.masters}


def critique_clip(store: ArtifactStore, job: CritiqueInput) -> StageRecord:
    """When `job.end_frame` is given, the clip must end on it."""
    record = timed("critique", f"shot {job.shot_index} attempt {job.attempt}")
    plan, knobs, shot = job.plan, job.knobs, job.plan.shots[job.shot_index]
    clip_path, key_path = store.local_path(job.clip.artifact()), store.local_path(job.keyframe.artifact())
    portraits = {k: store.local_path(master.artifact()) for k, master in job.portraits().items()}
    measured = base.create("critic", TIER1)  # CPU measurements: no GPU slot needed
    end_path = store.local_path(job.end_frame.artifact()) if job.end_frame is not None else None
    verdict = measured.critique(plan, shot, clip_path, key_path, portraits, knobs, end_path)
    record.backend, record.model_id, tier = measured.name, measured.model_id, 1
    if base.resolve_name("critic", job.backend) != TIER1 and verdict.passes(job.threshold):
        frames_dir = store.scratch() / f"frames-{uuid.uuid4().hex[:8]}"
        try:
            frames = sample_frames(clip_path, FRAME_POSITIONS, frames_dir)
            with host.use("critic", job.backend) as (critic, held):
                judged = ask_vision_critic(critic, plan, job.shot_index, knobs, frames, portraits)
            record.meta["gpu_window"] = held.window
        finally:
            shutil.rmtree(frames_dir, ignore_errors=True)
        verdict = judged.model_copy(update={"measurements": verdict.measurements | judged.measurements})
        record.backend, record.model_id, tier = critic.name, critic.model_id, 2
    rel = job.clip.artifact().path.replace(".mp4", ".verdict.json")
    record.artifacts["main"] = store.write_json(rel, verdict.model_dump(mode="json"))
    record.meta |= CritiqueOutput(attempt=job.attempt, tier=tier, verdict=verdict).meta()
    return record.finish()


def _key(ref: ReelRef, job: CritiqueInput) -> dict:
    ends = [] if job.end_frame is None else [job.end_frame]
    return {"shot": job.plan.shots[job.shot_index].model_dump(), "attempt": job.attempt,
            "clip": artifact_digests(job.clip, job.keyframe, *job.portraits().values(), *ends),
            "knobs": job.knobs.key(), "threshold": job.threshold, "tier1": base.identity("critic", TIER1),
            "backend": base.identity("critic", job.backend),
            "prompts": prompts.digest("critic_system.md", "critic_user.txt", "critic_reask.txt")}


@stage("critique", version="2", key_parts=_key, role="critic",
       task_run_name="critique-shot-{job.shot_index}-attempt-{job.attempt}",
       **infra_retries())
def critique_stage(ref: ReelRef, job: CritiqueInput) -> StageRecord:
    return critique_clip(ref.store(), job)
