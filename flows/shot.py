"""The `shot` subflow: render -> critique -> (pass | change what the verdict says went wrong,
render again); the best attempt ships and every attempt stays on the record."""

from __future__ import annotations

from typing import Any, Callable

from prefect import flow
from pydantic import BaseModel

from flows.start_gate import opened
from runtime import host

from reel import progress
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.attempts import Attempt, pick_shipped
from reel.schema import Plan
from reel.seeds import Seeds
from reel.stage import Ledger, NotCached, cached_only, run
from reel.strategies import next_attempt
from reel.verdict_log import record_attempts
from reel.writable import deployment_root
from tasks.critique import CritiqueInput, CritiqueOutput, critique_stage
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
              preset: Preset, seed: int, backends: dict[str, str], end_frame: StageRecord | None = None
              ) -> ShotOutcome:
    """end_frame: the next shot's keyframe when that shot continues this one (cut false): every
    attempt ends on it and is judged on meeting it."""
    opened()  # the next shot's subflow may be created now (flows/start_gate.py)
    deployment_root(ref.root)  # a fanned-out shot run writes only where this worker allows
    host.for_preset(preset)  # a fanned-out shot runs in its own process
    return play_shot(run, ref, plan, shot_index, keyframe, masters, preset, seed, backends, end_frame)


def replay_shot(ref: ReelRef, plan: Plan, shot_index: int, keyframe: StageRecord, masters: dict[str, StageRecord],
                preset: Preset, seed: int, backends: dict[str, str], end_frame: StageRecord | None = None
                ) -> ShotOutcome | None:
    """The shot's outcome from the cache alone, when every stage it would run is cached: the same
    decisions as the subflow, without starting one (a cached re-run's subflows are most of its
    time). None when any stage would have to run; then the subflow runs as usual."""
    try:
        with progress.held() as lines:
            outcome = play_shot(cached_only, ref, plan, shot_index, keyframe, masters, preset, seed, backends,
                                end_frame)
    except NotCached:
        return None
    progress.say_all(lines)
    return outcome


def play_shot(step: Callable[..., StageRecord], ref: ReelRef, plan: Plan, shot_index: int, keyframe: StageRecord,
              masters: dict[str, StageRecord], preset: Preset, seed: int, backends: dict[str, str],
              end_frame: StageRecord | None = None) -> ShotOutcome:
    """The attempt loop; `step` runs one stage (`run`: a Prefect task; `cached_only`: the cache).
    Each stage announces its model to the host as it starts, on this shot's line (`shot_line`), so
    a model another shot still needs is not swapped out a moment before this shot asks for it."""
    ledger = Ledger()
    seeds = Seeds(seed)
    knobs = first_knobs(plan, shot_index, preset, seeds.render(shot_index, 1))
    keyframes = {"chained": keyframe}
    attempts: list[Attempt] = []
    clips: dict[int, StageRecord] = {}
    with host.line(shot_line(ref, shot_index)):
        for n in range(1, preset.attempts + 1):
            if knobs.keyframe_source not in keyframes:
                keyframes[knobs.keyframe_source] = step(
                    keyframe_stage, ref, ledger, plan=plan, shot_index=shot_index, masters=masters, preset=preset,
                    seed=seeds.keyframe(shot_index), backend=backends["image"], source=knobs.keyframe_source)
            start = keyframes[knobs.keyframe_source]
            clip = step(render_stage, ref, ledger, plan=plan, shot_index=shot_index, attempt=n, keyframe=start,
                        knobs=knobs, backend=backends["video"], end_frame=end_frame)
            judged = step(critique_stage, ref, ledger, job=CritiqueInput(
                plan=plan, shot_index=shot_index, attempt=n, clip=clip, keyframe=start, masters=masters,
                knobs=knobs, threshold=preset.pass_threshold, backend=backends["critic"], end_frame=end_frame))
            verdict = CritiqueOutput.of(judged).verdict
            attempts.append(Attempt(attempt=n, knobs=knobs, verdict=verdict,
                                    passed=verdict.passes(preset.pass_threshold)))
            clips[n] = clip
            progress.say(_verdict_line(shot_index, attempts[-1]))
            if attempts[-1].passed or n == preset.attempts:
                break
            knobs, attempts[-1].next_change = next_attempt(
                plan, shot_index, [(a.knobs, a.verdict) for a in attempts], seeds.render(shot_index, n + 1),
                full=first_knobs(plan, shot_index, preset, seeds.render(shot_index, 1), turbo=False))
            progress.say(f"shot {shot_index}: {attempts[-1].next_change}")
    shipped = pick_shipped(attempts)
    record_attempts(ref.store(), shot_index, attempts, shipped.attempt)
    return ShotOutcome(shot_index=shot_index, shipped=shipped.attempt, clip=clips[shipped.attempt],
                       attempts=attempts, ledger=ledger.entries)


def shot_line(ref: ReelRef, shot_index: int) -> str:
    """The shot's line of work at the model host (runtime/host.py `line`)."""
    return f"{ref.reel_id} shot {shot_index}"


def _verdict_line(shot_index: int, a: Attempt) -> str:
    v = a.verdict
    score = f"{v.overall:.1f}" if v.scored and v.overall is not None else "unscored"
    labels = ", ".join(i.label.value for i in v.issues if i.label) or "no labels"
    weights = f", distilled {a.knobs.steps} steps" if a.knobs.distilled else ""
    return (f"shot {shot_index} attempt {a.attempt}: {score} {'PASS' if a.passed else 'FAIL'} ({labels}) "
            f"[{v.critic}{weights}]")
