"""Stage 7: voice. Each shot's narration line spoken in the plan's language, one wav per shot,
measured after synthesis and sped up (pitch kept, within a natural range) when it runs longer
than its shot allows."""

from __future__ import annotations

from pathlib import Path

from models import base
from reel.delivery import narration_table
from reel.media import probe, run_ffmpeg
from reel.records import ReelRef, StageOutput, StageRecord
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.model_output import model_output


class VoiceOutput(StageOutput):
    text: str  # the line as spoken
    lang: str
    seconds: float  # as mixed (after any speed-up)
    natural_seconds: float  # as the voice first spoke it
    tempo: float  # 1.0, or the speed-up that made it fit
    max_seconds: float
    take: int  # 0: the plan's line; n: the director's n-th shorter one
    fits: bool


def speed_up(wav: Path, tempo: float, out: Path) -> float:
    """The wav spoken `tempo` times faster at the same pitch (ffmpeg atempo); its new length."""
    run_ffmpeg(["-y", "-i", str(wav), "-af", f"atempo={tempo:.4f}", str(out)], "speeding up the narration")
    return probe(out).duration


def speak_line(store: ArtifactStore, line: str, lang: str, shot_index: int, backend: str,
               max_seconds: float, take: int = 0) -> StageRecord:
    """take 0 is the plan's line; take n the director's n-th shorter one (its own file, so every
    take stays cached)."""
    record = timed("voice", f"shot {shot_index}")
    name = f"vo/vo_{shot_index:02d}.wav" if take == 0 else f"vo/vo_{shot_index:02d}_short{take}.wav"
    with model_output(store, record, "voice", backend, name, text=line, lang=lang) as (model, out):
        natural = model.speak(line, lang, out)
        seconds, tempo = natural, 1.0
        if natural > max_seconds:
            # 20 ms under the limit: atempo's output can run a frame longer than natural / tempo.
            tempo = min(natural / (max_seconds - 0.02), narration_table()["max_tempo"])
            faster = out.with_name(f"{out.stem}_x{tempo:.2f}.wav")
            seconds = speed_up(out, tempo, faster)
            faster.replace(out)
        record.meta = VoiceOutput(text=line, lang=lang, seconds=seconds, natural_seconds=natural, tempo=round(tempo, 4),
                                  max_seconds=max_seconds, take=take, fits=seconds <= max_seconds + 0.01).meta()
    return record.finish()


def _key(ref, line, lang, shot_index, backend, max_seconds, take=0):
    return {"line": line, "lang": lang, "shot": shot_index, "backend": base.identity("voice", backend),
            "max_seconds": round(max_seconds, 3), "max_tempo": narration_table()["max_tempo"], "take": take}


@stage("voice", version="2", key_parts=_key, role="voice",
       task_run_name="voice-shot-{shot_index}", **infra_retries())
def voice_stage(ref: ReelRef, line: str, lang: str, shot_index: int, backend: str, max_seconds: float,
                take: int = 0) -> StageRecord:
    return speak_line(ref.store(), line, lang, shot_index, backend, max_seconds, take)
