"""What a reel run shows in the Prefect UI: artifacts keyed per reel."""

from __future__ import annotations

import re

from reel.retry import Attempt


def artifact_key(reel_id: str, what: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{reel_id}-{what}".lower()).strip("-")[:100]


def scorecard_rows(shots: list[tuple[int, list[Attempt], int]]) -> list[dict]:
    rows = []
    for shot_index, attempts, shipped in shots:
        for a in attempts:
            v = a.verdict
            rows.append({
                "shot": shot_index, "attempt": a.attempt,
                "overall": v.overall if v.scored else "unscored",
                "character": v.character_match, "scene": v.scene_match, "composition": v.composition,
                "artifacts": v.artifact_free,
                "labels": ", ".join(i.label.value for i in v.issues if i.label) or "-",
                "result": "shipped" if a.attempt == shipped else ("pass" if a.passed else "fail"),
                "critic": v.critic, "next": a.next_change or "-",
            })
    return rows


def publish_scorecard(reel_id: str, shots: list[tuple[int, list[Attempt], int]]) -> None:
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=scorecard_rows(shots), key=artifact_key(reel_id, "critic-scorecard"),
                          description=f"Critic scorecard for reel {reel_id}: every attempt of every shot")
