"""The `shot` subflow: render -> critique -> (pass | change what the verdict says went wrong,
render again); the best attempt ships and every attempt stays on the record."""

from __future__ import annotations

from typing import Any, Callable

from prefect import flow
from pydantic import BaseModel

from flows.start_gate import opened
from models import host

from reel import progress
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.attempts import Attempt, pick_shipped
from reel.schema import Plan, Verdict
from reel.stage import Ledger, NotCached, cached_only, run
from reel.strategies import next_attempt
from reel.verdict_log import record_attempts
from reel.writable import deployment_root
from tasks.critique import critique_stage
from tasks.keyframes import keyframe_stage
from tasks.render import first_knobs, render_stage


class ShotOutcome(BaseModel):
    shot_index: int
    shipped: int
    clip: StageRecord
    attempts: list[Attempt]
    ledger: list[dict[str, Any]]


@flow(name="shot", flow_run_name="{ref.reel_id}-shot-{shot_index}")
def shot_flow(ref: ReelRef, plan: Plan, shot_index: int, keyframe: StageRecord, masters: dict[str, StageRecord],
              preset: Preset, seed: int, backends: dict[str, str], next_keyframe: StageRecord | None = None
              ) -> ShotOutcome:
    """next_keyframe: the next shot's keyframe when that shot continues this one (cut false): every
    attempt ends on it and is judged on meeting it."""
    opened()  # the next shot's subflow may be created now (flows/start_gate.py)
    deployment_root(ref.root)  # a fanned-out shot run writes only where this worker allows
    host.for_preset(preset)  # a fanned-out shot runs in its own process
    return play_shot(run, ref, plan, shot_index, keyframe, masters, preset, seed, backends, next_keyframe)


def replay_shot(ref: ReelRef, plan: Plan, shot_index: int, keyframe: StageRecord, masters: dict[str, StageRecord],
                preset: Preset, seed: int, backends: dict[str, str], next_keyframe: StageRecord | None = None
                ) -> ShotOutcome | None:
    """The shot's outcome from the cache alone, when every stage it would run is cached: the same
    decisions as the subflow, without starting one (a cached re-run's subflows are most of its
    time). None when any stage would have to run; then the subflow runs as usual."""
    try:
        with progress.held() as lines:
            outcome = play_shot(cached_only, ref, plan, shot_index, keyframe, masters, preset, seed, backends,
                                next_keyframe)
    except NotCached:
        return None
    progress.say_all(lines)
    return outcome


def play_shot(step: Callable[..., StageRecord], ref: ReelRef, plan: Plan, shot_index: int, keyframe: StageRecord,
              masters: dict[str, StageRecord], preset: Preset, seed: int, backends: dict[str, str],
              next_keyframe: StageRecord | None = None) -> ShotOutcome:
    """The attempt loop; `step` runs one stage (`run`: a Prefect task; `cached_only`: the cache).
    Each model request is announced to the host before it (`shot_line`), so a model another shot
    still needs is not swapped out a moment before this shot asks for it."""
    ledger = Ledger()
    knobs = first_knobs(plan, shot_index, preset, seed)
    keyframes = {"chained": keyframe}
    attempts: list[Attempt] = []
    clips: dict[int, StageRecord] = {}
    with host.line(shot_line(ref, shot_index)) as need:
        for n in range(1, preset.attempts + 1):
            if knobs.keyframe_source not in keyframes:
                need.next("image")
                keyframes[knobs.keyframe_source] = step(
                    keyframe_stage, ref, ledger, plan=plan, shot_index=shot_index, masters=masters, preset=preset,
                    seed=seed, backend=backends["image"], source=knobs.keyframe_source)
            start = keyframes[knobs.keyframe_source]
            need.next("video")
            clip = step(render_stage, ref, ledger, plan=plan, shot_index=shot_index, attempt=n, keyframe=start,
                        knobs=knobs, backend=backends["video"], next_keyframe=next_keyframe)
            # Until the critique asks (tier 1 may fail the clip without it); a retry's first model,
            # announced at the top of the loop, takes over from it.
            need.next("critic")
            judged = step(critique_stage, ref, ledger, plan=plan, shot_index=shot_index, attempt=n, clip=clip,
                          keyframe=start, masters=masters, knobs=knobs, threshold=preset.pass_threshold,
                          backend=backends["critic"], next_keyframe=next_keyframe)
            verdict = Verdict.model_validate(judged.meta["verdict"])
            attempts.append(Attempt(attempt=n, knobs=knobs, verdict=verdict,
                                    passed=verdict.passes(preset.pass_threshold)))
            clips[n] = clip
            progress.say(_verdict_line(shot_index, attempts[-1]))
            if attempts[-1].passed or n == preset.attempts:
                break
            knobs, attempts[-1].next_change = next_attempt(plan, shot_index,
                                                           [(a.knobs, a.verdict) for a in attempts], seed,
                                                           full=first_knobs(plan, shot_index, preset, seed, turbo=False))
            progress.say(f"shot {shot_index}: {attempts[-1].next_change}")
    shipped = pick_shipped(attempts)
    record_attempts(ref.store(), shot_index, attempts, shipped.attempt)
    return ShotOutcome(shot_index=shot_index, shipped=shipped.attempt, clip=clips[shipped.attempt],
                       attempts=attempts, ledger=ledger.entries)


def shot_line(ref: ReelRef, shot_index: int) -> str:
    """The shot's line of work at the model host (models/host.py `line`)."""
    return f"{ref.reel_id} shot {shot_index}"


def _verdict_line(shot_index: int, a: Attempt) -> str:
    v = a.verdict
    score = f"{v.overall:.1f}" if v.scored and v.overall is not None else "unscored"
    labels = ", ".join(i.label.value for i in v.issues if i.label) or "no labels"
    weights = f", distilled {a.knobs.steps} steps" if a.knobs.distilled else ""
    return (f"shot {shot_index} attempt {a.attempt}: {score} {'PASS' if a.passed else 'FAIL'} ({labels}) "
            f"[{v.critic}{weights}]")
