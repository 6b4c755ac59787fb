"""Stage 7: voice. Each shot's narration line spoken in the plan's language, one wav per shot."""

from __future__ import annotations

from models import base
from models import host
from reel.records import ReelRef, StageRecord
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore


def speak_line(store: ArtifactStore, line: str, lang: str, shot_index: int, backend: str) -> StageRecord:
    record = timed("voice", f"shot {shot_index}")
    out = store.scratch() / f"vo_{shot_index}.wav"
    with host.use("voice", backend) as (model, held):
        seconds = model.speak(line, lang, out)
    record.artifacts["main"] = store.put_file(f"vo/vo_{shot_index:02d}.wav", out)
    record.backend, record.model_id = model.name, model.model_id
    record.meta = {"text": line, "lang": lang, "seconds": seconds, "gpu_window": held.window}
    out.unlink(missing_ok=True)
    return record.finish()


def _key(ref, line, lang, shot_index, backend):
    return {"line": line, "lang": lang, "shot": shot_index, "backend": base.identity("voice", backend)}


@stage("voice", version="1", key_parts=_key, task_run_name="voice-shot-{shot_index}", **infra_retries())
def voice_stage(ref: ReelRef, line: str, lang: str, shot_index: int, backend: str) -> StageRecord:
    return speak_line(ref.store(), line, lang, shot_index, backend)
