"""verdicts.jsonl: one line per attempt. Each shot writes its own file as it finishes (shots may
run at once, even on different machines); the reel flow merges them in shot order. Rebuilt from
the attempts every time, so a resumed run never duplicates a line."""

from __future__ import annotations

import json

from reel.attempts import Attempt
from reel.store import ArtifactStore

LOG = "verdicts.jsonl"


def attempt_line(shot_index: int, a: Attempt, shipped: int) -> dict:
    v = a.verdict
    return {
        "shot": shot_index, "attempt": a.attempt, "seed": a.knobs.seed, "knobs": a.knobs.model_dump(),
        "weights": "distilled" if a.knobs.distilled else "full",  # which experts rendered it (turbo presets)
        "critic": v.critic, "scored": v.scored,
        "scores": {k: getattr(v, k) for k in ("character_match", "scene_match", "composition", "artifact_free",
                                              "overall")},
        "issues": [{"label": i.label.value if i.label else None, "detail": i.detail} for i in v.issues],
        "measurements": v.measurements, "passed": a.passed, "shipped": a.attempt == shipped,
        "next": a.next_change,
    }


def shot_log(shot_index: int) -> str:
    return f"verdicts/shot_{shot_index:02d}.jsonl"


def record_attempts(store: ArtifactStore, shot_index: int, attempts: list[Attempt], shipped: int) -> None:
    lines = [attempt_line(shot_index, a, shipped) for a in attempts]
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    store.write_if_changed(shot_log(shot_index), data)


def merge(store: ArtifactStore, n_shots: int) -> None:
    data = b"".join(store.read_bytes(shot_log(i)) for i in range(n_shots) if store.exists(shot_log(i)))
    store.write_if_changed(LOG, data)
