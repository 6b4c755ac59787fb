"""verdicts.jsonl: one line per attempt, rebuilt per shot so a resumed run never duplicates."""

from __future__ import annotations

import json

from reel.retry import Attempt
from reel.store import ArtifactStore

LOG = "verdicts.jsonl"


def attempt_line(shot_index: int, a: Attempt, shipped: int) -> dict:
    v = a.verdict
    return {
        "shot": shot_index, "attempt": a.attempt, "seed": a.knobs.seed, "knobs": a.knobs.model_dump(),
        "critic": v.critic, "scored": v.scored,
        "scores": {k: getattr(v, k) for k in ("character_match", "scene_match", "composition", "artifact_free",
                                              "overall")},
        "issues": [{"label": i.label.value if i.label else None, "detail": i.detail} for i in v.issues],
        "measurements": v.measurements, "passed": a.passed, "shipped": a.attempt == shipped,
        "next": a.next_change,
    }


def record_attempts(store: ArtifactStore, shot_index: int, attempts: list[Attempt], shipped: int) -> None:
    kept = [line for line in store.read_jsonl(LOG) if line.get("shot") != shot_index]
    lines = kept + [attempt_line(shot_index, a, shipped) for a in attempts]
    lines.sort(key=lambda line: (line["shot"], line["attempt"]))
    store.write_bytes(LOG, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode())

