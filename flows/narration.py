"""Narration that fits its shot: each line was measured after synthesis (and sped up within a
natural range by the voice stage); a line still too long is shortened by the director and spoken
again, at most a few times; what still does not fit is reported (the mix fades it out at the cut,
so no line ever runs into the next shot)."""

from __future__ import annotations

from typing import Any

from models import host
from reel import progress
from reel.delivery import narration_table
from reel.presets import Preset
from reel.records import ReelRef, StageRecord
from reel.stage import Ledger, run
from tasks.shorten import shorten_stage
from tasks.voice import voice_stage


def max_line_seconds(preset: Preset) -> float:
    return preset.shot_seconds - narration_table()["gap_s"]


def fit_narration(ref: ReelRef, ledger: Ledger, voices: list[StageRecord], preset: Preset, roles: dict[str, str],
                  seed: int) -> tuple[list[StageRecord], list[dict[str, Any]]]:
    """The voices to mix, and per shot how its line was made to fit: fits, faster, shortened or
    too_long (reported). Each round gives the director every long line at once, then the voice
    every shorter one, so a round costs one load of each model, not one per line."""
    table, limit = narration_table(), max_line_seconds(preset)
    current, takes, stuck = list(voices), [0] * len(voices), set()
    with host.Need() as need:  # each request announced, so the model stays loaded for the next line
        for take in range(1, table["shorten_rounds"] + 1):
            shorter: dict[int, str] = {}
            for i, voice in enumerate(current):
                if voice.meta["fits"] or i in stuck:
                    continue
                # Aim for a line that fits at the fastest natural tempo, with a margin.
                fraction = 0.9 * limit * table["max_tempo"] / voice.meta["natural_seconds"]
                need.next("director")
                short = run(shorten_stage, ref, ledger, line=voice.meta["text"], lang=voice.meta["lang"],
                            shot_index=i, fraction=fraction, seed=seed, director=roles["director"])
                if short.meta["shorter"] == voice.meta["text"]:
                    stuck.add(i)  # the director cannot make it shorter
                else:
                    shorter[i] = short.meta["shorter"]
            if not shorter:
                break
            need.next("voice")
            for i, line in shorter.items():
                takes[i] = take
                current[i] = run(voice_stage, ref, ledger, line=line, lang=current[i].meta["lang"], shot_index=i,
                                 backend=roles["voice"], max_seconds=limit, take=take)
    return current, [_report(i, planned.meta["text"], voice, takes[i], limit)
                     for i, (planned, voice) in enumerate(zip(voices, current))]


def _report(shot: int, planned: str, voice: StageRecord, take: int, limit: float) -> dict[str, Any]:
    """One shot's line in the manifest, and a progress line when it did not simply fit."""
    how = ("too_long" if not voice.meta["fits"] else "shortened" if take else
           "faster" if voice.meta["tempo"] > 1.0 else "fits")
    entry = {"shot": shot, "fit": how, "planned_line": planned, "spoken_line": voice.meta["text"],
             "seconds": round(voice.meta["seconds"], 3), "max_seconds": round(limit, 3),
             "tempo": voice.meta["tempo"], "shortened": take}
    if how != "fits":
        progress.say(f"narration shot {shot}: {how.replace('_', ' ')} ({entry['seconds']:.2f} s of {limit:.2f} s, "
                     f"tempo x{voice.meta['tempo']:.2f}" + (f", line shortened: {voice.meta['text']!r}" if take else "")
                     + (", faded out at the cut" if how == "too_long" else "") + ")")
    return entry
