"""Narration that fits its shot: real espeak lines measured after synthesis, sped up with ffmpeg's
atempo, shortened by the director, in a real Prefect flow against the test server."""

from __future__ import annotations

import pytest
from prefect import flow

from flows.narration import fit_narration, max_line_seconds
from models.cpu.narration_cut import shorter_line
from reel.presets import get_preset, with_length
from reel.records import ReelRef
from reel.stage import Ledger, run
from tasks.voice import voice_stage

# 33 frames at 16 fps: 2.06 s shots, so a line may last 1.76 s.
PRESET = with_length(get_preset("preview"), 3, shot_seconds=2.0)


def test_shorter_line_keeps_the_opening_clause_or_the_first_words():
    assert shorter_line("After the storm, the harbour lights come back one by one.", "a", 0.5) == "After the storm."
    assert shorter_line("The rain follows her down the empty street.", "a", 0.7) == "The rain follows her down."
    assert shorter_line("她独自走过夜晚的城市", "z", 0.5) == "她独自走过。"
    assert shorter_line("Rain falls.", "a", 0.5) == "Rain falls."  # as short as a line gets


@flow(name="narration-fit-test")
def _fit(root: str, lines: list[str]):
    ref = ReelRef(root=root, reel_id="fit")
    ledger = Ledger()
    voices = [run(voice_stage, ref, ledger, line=line, lang="a", shot_index=i, backend="espeak",
                  max_seconds=max_line_seconds(PRESET)) for i, line in enumerate(lines)]
    fitted, report = fit_narration(ref, ledger, voices, PRESET, {"director": "heuristic", "voice": "espeak"}, seed=0)
    return [v.meta for v in fitted], report, [e["stage"] for e in ledger.entries if not e["cached"]]


@pytest.mark.usefixtures("prefect_server")
def test_each_line_fits_faster_or_shorter_and_the_report_says_which(tmp_path):
    lines = ["Rain falls.", "The city wakes up slowly.", "The rain follows her down the long and empty street at night."]
    metas, report, ran = _fit(str(tmp_path), lines)
    limit = max_line_seconds(PRESET)
    print([(r["fit"], r["seconds"], r["tempo"], r["spoken_line"]) for r in report])
    assert [r["fit"] for r in report] == ["fits", "faster", "shortened"]
    assert all(m["seconds"] <= limit for m in metas)
    assert 1.0 < report[1]["tempo"] <= 1.25 and report[1]["spoken_line"] == lines[1]
    assert report[2]["spoken_line"] != lines[2] and lines[2].startswith(report[2]["spoken_line"].rstrip(".")[:10])
    assert metas[2]["take"] >= 1 and "shorten" in ran
    # A second run is all cached: every take has its own file.
    _, again, ran_again = _fit(str(tmp_path), lines)
    assert again == report and ran_again == []
