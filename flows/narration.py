"""Narration that fits its shot: each line was measured after synthesis (and sped up within a
natural range by the voice stage); a line still too long is shortened by the director and spoken
again, at most a few times; what still does not fit is reported (the mix fades it out at the cut,
so no line ever runs into the next shot)."""

from __future__ import annotations

from typing import Any

from reel import progress
from reel.delivery import narration_table
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.stage import Ledger, run
from tasks.shorten import ShortenOutput, shorten_stage
from tasks.voice import VoiceOutput, voice_stage


def max_line_seconds(preset: Preset) -> float:
    return preset.shot_seconds - narration_table()["gap_s"]


def fit_narration(ref: ReelRef, ledger: Ledger, voices: list[StageRecord], preset: Preset, roles: dict[str, str],
                  seed: int) -> tuple[list[StageRecord], list[dict[str, Any]]]:
    """The voices to mix, and per shot how its line was made to fit: fits, faster, shortened or
    too_long (reported). Each round gives the director every long line at once, then the voice
    every shorter one, so a round costs one load of each model, not one per line."""
    table, limit = narration_table(), max_line_seconds(preset)
    current, takes, stuck = list(voices), [0] * len(voices), set()
    for take in range(1, table["shorten_rounds"] + 1):
        shorter: dict[int, str] = {}
        for i, record in enumerate(current):
            voice = VoiceOutput.of(record)
            if voice.fits or i in stuck:
                continue
            # Aim for a line that fits at the fastest natural tempo, with a margin.
            fraction = 0.9 * limit * table["max_tempo"] / voice.natural_seconds
            short = ShortenOutput.of(run(shorten_stage, ref, ledger, line=voice.text, lang=voice.lang, shot_index=i,
                                         fraction=fraction, seed=seed, director=roles["director"]))
            if short.shorter == voice.text:
                stuck.add(i)  # the director cannot make it shorter
            else:
                shorter[i] = short.shorter
        if not shorter:
            break
        for i, line in shorter.items():
            takes[i] = take
            current[i] = run(voice_stage, ref, ledger, line=line, lang=VoiceOutput.of(current[i]).lang, shot_index=i,
                             backend=roles["voice"], max_seconds=limit, take=take)
    return current, [_report(i, VoiceOutput.of(planned).text, VoiceOutput.of(voice), takes[i], limit)
                     for i, (planned, voice) in enumerate(zip(voices, current))]


def _report(shot: int, planned: str, voice: VoiceOutput, take: int, limit: float) -> dict[str, Any]:
    """One shot's line in the manifest, and a progress line when it did not simply fit."""
    how = ("too_long" if not voice.fits else "shortened" if take else "faster" if voice.tempo > 1.0 else "fits")
    entry = {"shot": shot, "fit": how, "planned_line": planned, "spoken_line": voice.text,
             "seconds": round(voice.seconds, 3), "max_seconds": round(limit, 3), "tempo": voice.tempo,
             "shortened": take}
    if how != "fits":
        progress.say(f"narration shot {shot}: {how.replace('_', ' ')} ({entry['seconds']:.2f} s of {limit:.2f} s, "
                     f"tempo x{voice.tempo:.2f}" + (f", line shortened: {voice.text!r}" if take else "")
                     + (", faded out at the cut" if how == "too_long" else "") + ")")
    return entry
