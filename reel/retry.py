"""The quality retry loop's decisions: what the next attempt changes, and which attempt ships."""

from __future__ import annotations

from pydantic import BaseModel

from reel.ids import seed_for
from reel.schema import Plan, RenderKnobs, Verdict


class Attempt(BaseModel):
    attempt: int
    knobs: RenderKnobs
    verdict: Verdict
    passed: bool
    next_change: str = ""  # what the following attempt changed, and why


def next_knobs(plan: Plan, shot_index: int, previous: list[Attempt], base_seed: int) -> tuple[RenderKnobs, str]:
    """Knobs for the attempt after `previous[-1]`: always a new seed."""
    last = previous[-1]
    attempt = last.attempt + 1
    knobs = last.knobs.model_copy(update={"seed": seed_for(base_seed, "render", shot_index, attempt)})
    why = ", ".join(i.label.value for i in last.verdict.issues if i.label) or "below threshold"
    return knobs, f"attempt {attempt}: {why} -> new seed {knobs.seed}"


def score(verdict: Verdict) -> float:
    """Ranking score: unscored attempts rank below every scored one."""
    return verdict.overall if verdict.scored and verdict.overall is not None else float("-inf")


def pick_shipped(attempts: list[Attempt]) -> Attempt:
    """The first passing attempt, else the best-scoring one (earliest on ties)."""
    for a in attempts:
        if a.passed:
            return a
    return max(attempts, key=lambda a: (score(a.verdict), -a.attempt))
