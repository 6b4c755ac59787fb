"""The spine, end to end: real `reel` runs on the preview profile against a real Prefect server,
real ffmpeg, real files. One reel is made once and reused by the tests that only read it."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from reel.media import probe
from tests.helpers import reel_cli
from tests.media_checks import decode_audio, integrated_loudness, rms_db

PROMPT = "Two friends share a last coffee on a Paris rooftop at dawn before one of them leaves for good"
SHOT_SECONDS = 81 / 16
pytestmark = pytest.mark.usefixtures("prefect_server")


def _reel_dir(root: Path) -> Path:
    (d,) = [p for p in root.iterdir() if p.is_dir()]
    return d


def _manifest(reel_dir: Path) -> dict:
    return json.loads((reel_dir / "manifest.json").read_text())


def _not_cached(reel_dir: Path) -> set[str]:
    return {f"{s['stage']} {s['subject']}".strip() for s in _manifest(reel_dir)["stages"] if not s["cached"]}


def _artifact_state(reel_dir: Path) -> dict[str, tuple[float, str]]:
    skip = {"manifest.json", "request.json"}
    return {str(p.relative_to(reel_dir)): (p.stat().st_mtime, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in reel_dir.rglob("*") if p.is_file() and p.name not in skip and ".results" not in p.parts}


@pytest.fixture(scope="module")
def first_reel(tmp_path_factory):
    root = tmp_path_factory.mktemp("first") / "outputs"
    started = time.time()
    proc = reel_cli("make", PROMPT, "--preset", "preview", "--out", str(root))
    seconds = time.time() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, _reel_dir(root), proc, seconds


def test_first_command_makes_a_finished_reel(first_reel):
    root, reel_dir, proc, seconds = first_reel
    print(f"first run: {seconds:.1f}s")
    assert "reel ready:" in proc.stdout and str(reel_dir / "reel.mp4") in proc.stdout
    info = probe(reel_dir / "reel.mp4")
    assert (info.width, info.height) == (1280, 704)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    assert abs(info.duration - 6 * SHOT_SECONDS) <= 0.2, info.duration
    assert abs(integrated_loudness(reel_dir / "reel.mp4") - (-18.0)) <= 1.0

    plan = json.loads((reel_dir / "plan.json").read_text())
    assert len(plan["shots"]) == 6 and plan["vo_lang"] == "f"
    audio = decode_audio(reel_dir / "reel.mp4")
    rate = 16000
    louder = 0
    for i in range(6):
        vo = decode_audio(reel_dir / "vo" / f"vo_{i:02d}.wav", rate)
        assert rms_db(vo) > -35, f"narration line {i} is silent"
        start, speech = int(i * SHOT_SECONDS * rate), len(vo)
        with_voice = audio[start + rate // 10:start + speech]
        music_only = audio[start + speech + rate // 5:int((i + 1) * SHOT_SECONDS * rate)]
        if len(music_only) > rate // 2:
            assert rms_db(music_only) > -45, f"music is not audible after narration in shot {i}"
            louder += rms_db(with_voice) > rms_db(music_only) + 1.0
    assert louder >= 3, "narration does not stand out over the music bed"

    manifest = _manifest(reel_dir)
    paths = {a["path"] for a in manifest["artifacts"]}
    assert {"plan.json", "music.wav", "reel.mp4", "masters/master_A.png", "keyframes/keyframe_0.png"} <= paths
    for art in manifest["artifacts"]:
        assert hashlib.sha256((reel_dir / art["path"]).read_bytes()).hexdigest() == art["sha256"]
        assert art["backend"] and art["model_id"]
    assert [s["shipped_attempt"] for s in manifest["shots"]] and len(manifest["shots"]) == 6
    assert len((reel_dir / "verdicts.jsonl").read_text().splitlines()) >= 6
    assert not list(reel_dir.rglob("*.tmp-*"))


def test_second_run_is_all_cached_and_writes_nothing(first_reel):
    root, reel_dir, _, first_seconds = first_reel
    before = _artifact_state(reel_dir)
    started = time.time()
    proc = reel_cli("make", PROMPT, "--preset", "preview", "--out", str(root))
    seconds = time.time() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(f"first run {first_seconds:.1f}s, cached re-run {seconds:.1f}s")
    assert _manifest(reel_dir)["all_cached"] is True
    stage_lines = [line for line in proc.stdout.splitlines() if ": cached" in line or ": done in" in line]
    assert stage_lines and all(": cached" in line for line in stage_lines)
    assert _artifact_state(reel_dir) == before
    assert seconds < 0.5 * first_seconds


def test_changed_artifact_is_not_trusted(first_reel):
    root, reel_dir, _, _ = first_reel
    clip = reel_dir / "clips" / "shot_01_attempt_1.mp4"
    good = hashlib.sha256(clip.read_bytes()).hexdigest()
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # a truncated, "partial" file
    proc = reel_cli("make", PROMPT, "--preset", "preview", "--out", str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "render shot 1 attempt 1" in _not_cached(reel_dir)
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == good


def test_killed_run_resumes_from_last_good_artifact(first_reel, tmp_path):
    _, first_dir, _, _ = first_reel
    root = tmp_path / "outputs"
    killed = reel_cli("make", PROMPT, "--preset", "preview", "--out", str(root), env={"REEL_FAIL_AT": "kill:shot:3"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    reel_dir = _reel_dir(root)
    assert not (reel_dir / "reel.mp4").exists()
    # Shots run at once, so "before the kill" is whatever finished: a clip with a verdict beside it
    # was rendered by a task that had returned (its record persisted) before the critique began.
    judged = sorted(p.name.replace(".verdict.json", "") for p in (reel_dir / "clips").glob("*.verdict.json"))
    resumed = reel_cli("resume", reel_dir.name, "--out", str(root))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    stages = _manifest(reel_dir)["stages"]
    reused = {f"{s['stage']} {s['subject']}".strip() for s in stages if s["cached"]}
    assert {"plan", "master A", "master B", "master group", "master scene"} <= reused
    assert {f"keyframe shot {i}" for i in range(6)} <= reused
    for name in judged:  # e.g. shot_00_attempt_1
        _, shot, _, attempt = name.split("_")
        assert f"render shot {int(shot)} attempt {attempt}" in reused, name
    assert not any(s["cached"] for s in stages if s["subject"].startswith("shot 3 "))
    # Same request, same seeds: the resumed reel has the uninterrupted one's plan and pictures.
    # (Not its exact audio bytes: espeak-ng's synthesis is not bit-reproducible between runs.)
    shipped = [s["clip"] for s in _manifest(reel_dir)["shots"]]
    assert shipped == [s["clip"] for s in _manifest(first_dir)["shots"]]
    for rel in ["plan.json", "masters/master_A.png", *shipped]:
        assert (reel_dir / rel).read_bytes() == (first_dir / rel).read_bytes(), rel
    assert abs(probe(reel_dir / "reel.mp4").duration - probe(first_dir / "reel.mp4").duration) < 0.05
    assert not list(reel_dir.rglob("*.tmp-*"))


def test_editing_one_shot_rerenders_that_shot_and_the_mix(first_reel, tmp_path):
    root, reel_dir, _, _ = first_reel
    plan = json.loads((reel_dir / "plan.json").read_text())
    # A different camera move: the shot's picture really changes, so the mix must too.
    first, rest = plan["shots"][2]["prompt"].split(". ", 1)
    plan["shots"][2]["prompt"] = ("Static camera. " if not first.lower().startswith("static") else "Slow pan left. ") + rest
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(plan, ensure_ascii=False))
    proc = reel_cli("make", "--plan", str(edited), "--reel-id", reel_dir.name, "--out", str(root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rerun = _not_cached(reel_dir)
    expected = {"plan", "keyframe shot 2", "mix"}
    assert expected <= rerun
    assert {s for s in rerun if s not in expected} == {s for s in rerun if s.startswith(("render shot 2 ",
                                                                                          "critique shot 2 "))}
    assert any(s.startswith("render shot 2 ") for s in rerun)


def test_preview_model_calls_hold_no_gpu(first_reel):
    """CPU backends take no GPU turn (runtime/host.py), so no stage of a preview reel held the slot.
    That their calls run side by side is proved in tests/test_gpu_memory.py: here the shots'
    subflows start a second or two apart, so whether two renders overlap is up to the box's load."""
    _, reel_dir, _, _ = first_reel
    stages = _manifest(reel_dir)["stages"]
    assert not any(s["gpu_window"] for s in stages)


def test_two_reels_at_once_never_overlap_on_the_gpu_slot(tmp_path):
    import subprocess
    import sys

    from tests.helpers import ROOT

    # Every model call takes a GPU turn, as a GPU backend's does: the preview backends alone hold no
    # GPU and would take none (REEL_GPU_SLOT_FOR=all is the same queue and slot a GPU run uses).
    procs = [subprocess.Popen([sys.executable, "-m", "app.cli", "make", prompt, "--shots", "3", "--out",
                               str(tmp_path / name)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=os.environ | {"REEL_GPU_SLOT_FOR": "all"})
             for name, prompt in [("one", "a fisherman mends his nets in Lisbon at noon"),
                                  ("two", "a dancer rehearses alone in a Tokyo studio at night")]]
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    windows = []
    for name in ("one", "two"):
        for s in _manifest(_reel_dir(tmp_path / name))["stages"]:
            if s["gpu_window"]:
                windows.append((*s["gpu_window"], name, s["stage"]))
    windows.sort()
    assert {w[2] for w in windows} == {"one", "two"}
    interleaved = any(a[2] != b[2] for a, b in zip(windows, windows[1:]))
    for a, b in zip(windows, windows[1:]):
        assert a[1] <= b[0], f"{a} overlaps {b}"
    assert interleaved, "the two reels never ran side by side, so the test proved nothing"


def test_bad_input_gets_one_clear_line(tmp_path):
    cases = [
        (["make", "", "--out", str(tmp_path)], "prompt is empty"),
        (["make", "x" * 2500, "--out", str(tmp_path)], "characters"),
        (["make", "a cat", "--preset", "ultra"], "unknown preset 'ultra'"),
        (["make", "--plan", str(tmp_path / "missing.json")], "not found"),
    ]
    bad_plan = tmp_path / "bad.json"
    bad_plan.write_text(json.dumps({"characters": {"A": "x"}, "story_logline": "y", "shots": [
        {"index": 0, "is_hero": False, "shot_type": "w", "dominant_subject": "Q", "cut": True,
         "prompt": "Static camera on a quiet empty street."}], "music_style": "piano, 70 BPM",
        "vo_script_per_shot": [], "vo_lang": "x"}))
    cases.append((["make", "--plan", str(bad_plan)], "vo_lang"))
    for args, needle in cases:
        proc = reel_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    rules = json.loads(bad_plan.read_text()) | {"vo_lang": "f"}
    bad_plan.write_text(json.dumps(rules))
    proc = reel_cli("make", "--plan", str(bad_plan))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    for field in ("shots.0: shot 0 must have is_hero=true", "dominant_subject 'Q'", "vo_script_per_shot has 0"):
        assert field in proc.stderr, proc.stderr
