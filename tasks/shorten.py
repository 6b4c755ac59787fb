"""Stage 7b: a shorter narration line, written by the director when a line spoken as fast as is
natural still runs past its shot (see flows/narration.py)."""

from __future__ import annotations

from models import base
from runtime import host
from reel.records import ReelRef, StageOutput, StageRecord
from reel.stage import infra_retries, stage, timed


class ShortenOutput(StageOutput):
    line: str
    shorter: str  # the same line when the director cannot make it shorter
    fraction: float


def shorten_line(line: str, lang: str, shot_index: int, fraction: float, seed: int, director: str) -> StageRecord:
    record = timed("shorten", f"shot {shot_index}")
    with host.use("director", director) as (d, held):
        shorter = d.shorten(line, lang, fraction, seed)
    record.backend, record.model_id = d.name, d.model_id
    record.meta = ShortenOutput(line=line, shorter=shorter, fraction=round(fraction, 3)).meta() | {
        "gpu_window": held.window}
    return record.finish()


def _key(ref, line, lang, shot_index, fraction, seed, director):
    return {"line": line, "lang": lang, "fraction": round(fraction, 3), "seed": seed,
            "director": base.identity("director", director)}


@stage("shorten", version="1", key_parts=_key, role="director",
       task_run_name="shorten-shot-{shot_index}", **infra_retries())
def shorten_stage(ref: ReelRef, line: str, lang: str, shot_index: int, fraction: float, seed: int,
                  director: str) -> StageRecord:
    return shorten_line(line, lang, shot_index, fraction, seed, director)
