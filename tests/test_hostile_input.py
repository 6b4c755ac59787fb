"""Hostile text: control characters in prompts and plans are refused with one line naming the
character and where it is (never cleaned silently: ids, subtitles and speech never see them);
place names match whole words in scripts that have them; the prompt limit says what it is.
Through the real `reel` command and, for the API path, a real flow run on the session's server."""

from __future__ import annotations

import json

import pytest

from tests.helpers import reel_cli

VIOLIN = "a violinist plays in a Brooklyn subway station at midnight"
MIXED = "عازف كمان يعزف in a Brooklyn subway station عند منتصف الليل"


def _one_line(proc) -> str:
    line = proc.stderr.strip()
    assert proc.returncode == 2 and "\n" not in line and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return line


def test_a_terminal_escape_in_a_cli_prompt_is_refused_before_any_reel_is_named(tmp_path):
    out = tmp_path / "out"
    line = _one_line(reel_cli("make", "a \x1b[31mBrooklyn\x1b[0m violinist at midnight", "--out", str(out)))
    assert "the prompt contains the control character '\\x1b' (U+001B) at character 3" in line, line
    assert "\x1b" not in line  # named, not sent to the terminal
    assert not out.exists() or not any(out.iterdir())


def test_a_nul_in_a_plan_narration_is_refused_naming_its_field(tmp_path):
    plan = json.loads(reel_cli("plan", VIOLIN, "--shots", "2").stdout)
    plan["vo_script_per_shot"][1] = plan["vo_script_per_shot"][1].replace(" ", " \x00", 1)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    line = _one_line(reel_cli("make", "--plan", str(path), "--out", str(tmp_path / "out")))
    assert "vo_script_per_shot.1 contains the control character '\\x00' (U+0000)" in line, line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.usefixtures("prefect_server")
def test_a_nul_in_a_prompt_through_the_api_fails_the_run_before_it_writes(tmp_path):
    """What a deployment run does with a NUL in its `prompt` parameter: the flow fails at once."""
    from flows.reel_flow import reel_flow

    state = reel_flow(prompt="a violinist\x00 plays in Brooklyn", preset="preview", n_shots=1,
                      root=str(tmp_path / "out"), return_state=True)
    assert state.is_failed() and "U+0000" in (state.message or ""), (state.name, state.message)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_prompt_limit_message_says_what_the_limit_is():
    at_limit = (VIOLIN + " ") * 34
    at_limit = (at_limit + "x" * 2000)[:2000]
    assert reel_cli("plan", at_limit, "--shots", "1").returncode == 0
    line = _one_line(reel_cli("plan", at_limit + "y", "--shots", "1"))
    assert "the prompt is 2001 characters; the limit is 2000" in line, line


def test_place_names_match_whole_words_in_spaced_scripts_and_runs_in_unspaced_ones():
    from models.cpu.director.places import detect_locale, find_places

    def names(text: str) -> list[str]:
        return [p.name for _, p in find_places(text)]

    # "مان" (Man, Côte d'Ivoire) inside "كمان" (violin), "ليل" (Lille) inside "الليل" (the night)
    assert names(MIXED) == ["Brooklyn"]
    assert names("كمان في القاهرة") == ["Cairo"]  # a whole Arabic word still names its city
    assert names("a walk in Москва at night") == ["Moscow"]
    assert names("a walk in Москвариум at night") == []  # a longer Cyrillic word is not Moscow
    assert names("東京の夜、雨の中を歩く") == ["Tokyo"]  # unspaced: the longest run at each spot
    assert names("a dancer in 北京市 tonight") == ["Beijing"]
    assert detect_locale(MIXED).lang == "a"


def test_the_arabic_and_english_prompt_is_narrated_in_english_in_brooklyn_at_midnight(tmp_path):
    proc = reel_cli("plan", MIXED, "--shots", "3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = json.loads(proc.stdout)
    assert plan["vo_lang"] == "a"
    assert "Brooklyn" in plan["story_logline"] and all("Brooklyn" in s["prompt"] for s in plan["shots"])
    # "منتصف الليل" is CLDR's Arabic midnight: the scene's time and every shot's light, never a thing
    assert plan["scene"]["time"] == "midnight" and all("midnight" in s["prompt"] for s in plan["shots"]), plan
    assert not any("الليل" in t for t in plan["scene"]["things"]) and "الليل" not in json.dumps(plan["shots"])
