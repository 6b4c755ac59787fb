"""A shot's quality attempts: each attempt's knobs and verdict, and which one ships.
(Prefect's retries are for infrastructure faults only: reel.stage.infra_retries.)"""

from __future__ import annotations

from pydantic import BaseModel

from reel.schema import RenderKnobs, Verdict


class Attempt(BaseModel):
    attempt: int
    knobs: RenderKnobs
    verdict: Verdict
    passed: bool
    next_change: str = ""  # what the following attempt changed, and why


def score(verdict: Verdict) -> float:
    """Ranking score: unscored attempts rank below every scored one."""
    return verdict.overall if verdict.scored and verdict.overall is not None else float("-inf")


def pick_shipped(attempts: list[Attempt]) -> Attempt:
    """The first passing attempt, else the best-scoring one (earliest on ties)."""
    for a in attempts:
        if a.passed:
            return a
    return max(attempts, key=lambda a: (score(a.verdict), -a.attempt))
