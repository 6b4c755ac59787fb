"""Every stage's seed, derived once from the reel's base seed by one function (`derive`).

The flows derive a stage's seed here and pass it in; the stage paints or renders with that value
and its cache key reads the same value, so the two can never disagree. The values are the ones
reels have always had: the director plans (and shortens narration) with the reel's own seed, every
other stage with a hash of the base seed and its coordinates (reel.ids.seed_for); a reviewer's
re-roll of a keyframe moves the base by a fixed stride, so an approved storyboard stays approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reel.ids import seed_for

# The director's stages use the reel's own seed: a reel keeps the plan it has always had.
OWN_SEED = ("plan", "shorten")
REROLL_STRIDE = 7919  # a re-rolled keyframe's base: the reel's seed plus this per re-roll


def derive(base: int, stage: str, *coords: Any) -> int:
    """The one derivation: stage `stage` at `coords` (shot, attempt, subject) of a reel seeded `base`."""
    if stage in OWN_SEED:
        return base
    return seed_for(base, stage, *coords)


@dataclass(frozen=True)
class Seeds:
    """A reel's seeds, by stage: what the flows pass to each stage."""

    base: int

    def plan(self) -> int:
        return derive(self.base, "plan")

    def shorten(self) -> int:
        return derive(self.base, "shorten")

    def master(self, subject: str) -> int:
        return derive(self.base, "master", subject)

    def keyframe(self, shot_index: int, rerolls: int = 0) -> int:
        return derive(self.base + REROLL_STRIDE * rerolls, "keyframe", shot_index)

    def render(self, shot_index: int, attempt: int) -> int:
        return derive(self.base, "render", shot_index, attempt)

    def music(self) -> int:
        return derive(self.base, "music")
