"""The storyboard review gate on Prefect's own pause/resume: a real `reel make --review` paused on
the real test server, driven through the API as the UI's form would (edit, re-roll, approve)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.review import StoryboardReview, apply, decide, describe
from models.cpu.director import HeuristicDirector
from reel.errors import UserError
from tests.helpers import ROOT

PROMPT = "A fisherman mends his nets on a quiet harbour at dawn"


def test_decisions_fold_in_and_bad_answers_are_named():
    plan = HeuristicDirector().plan(PROMPT, n_shots=2)
    none = {"edits": {}, "rerolls": {}}
    edited, said = decide(plan, none, StoryboardReview(action="edit", shot=1, narration="Rain on the harbour."))
    assert said == "shot 1: narration edited" and apply(plan, edited).vo_script_per_shot[1] == "Rain on the harbour."
    rolled, _ = decide(plan, edited, StoryboardReview(action="reroll", shot=0))
    assert rolled["rerolls"] == {"0": 1} and rolled["edits"] == edited["edits"] and none == {"edits": {}, "rerolls": {}}
    with pytest.raises(UserError, match="shot number from 0 to 1"):
        decide(plan, none, StoryboardReview(action="reroll", shot=5))
    with pytest.raises(UserError, match="new prompt or narration"):
        decide(plan, none, StoryboardReview(action="edit", shot=0, prompt="  "))
    too_short, _ = decide(plan, none, StoryboardReview(action="edit", shot=0, prompt="a boat"))
    with pytest.raises(UserError, match="shots.0.prompt.*2 words"):
        apply(plan, too_short)
    assert "**shot 1**" in describe(plan, "file:///x/storyboard.png", "") and "![storyboard]" in describe(plan, "u", "")


def _paused_run(client, since: int, deadline: float, name: str = "reel-preview-"):
    """The reel run once it is paused at its pause number `since` or later."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    while time.time() < deadline:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_=name)))
        for run in runs:
            if run.state and run.state.is_paused() and int(run.state.state_details.pause_key) >= since:
                return run
        time.sleep(1)
    raise AssertionError("the reel never paused for review")


def _screenshot_form(run_id, out: Path) -> None:
    """The paused run's page in headless chromium with its Resume form open (.ci/run installs
    chromium; without it the API half of the test still runs)."""
    if not Path("/usr/bin/chromium").exists():
        print("no /usr/bin/chromium: review form screenshot not taken (apt-get install -y chromium)")
        return
    from PIL import Image, ImageStat

    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    proc = subprocess.run([sys.executable, "deployments/screenshot.py", "--flow-run", str(run_id), "--ui", ui,
                           "--tab", "Resume", "--wait-text", "Review the storyboard", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with Image.open(out) as im:
        assert max(ImageStat.Stat(im.convert("L")).stddev) > 10, "a blank page"
    print(f"screenshot of the review form: {out}")


@pytest.mark.usefixtures("prefect_server")
def test_review_pauses_takes_edits_and_rerolls_and_redoes_only_what_changed(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    root = tmp_path / "out"
    env = {**os.environ, "REEL_REVIEW_POLL_S": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "make", PROMPT, "--preset", "preview", "--shots", "2",
                             "--shot-seconds", "2", "--review", "--out", str(root)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    try:
        with get_client(sync_client=True) as client:
            run = _paused_run(client, 1, deadline)
            keys = run.state.state_details.run_input_keyset
            schema = json.loads(client.read_flow_run_input(run.id, keys["schema"]))
            assert schema["properties"]["action"]["enum"] == ["approve", "edit", "reroll", "cancel"]
            assert "Review the storyboard" in json.loads(client.read_flow_run_input(run.id, keys["description"]))
            (reel_dir,) = [p for p in root.iterdir() if p.is_dir()]
            _screenshot_form(run.id, tmp_path / "review-form.png")
            first_keyframe = (reel_dir / "keyframes" / "keyframe_0.png").read_bytes()

            resume_flow_run(run.id, run_input={"action": "edit", "shot": 1, "narration": "Rain on the harbour."})
            run = _paused_run(client, 2, deadline)
            described = json.loads(client.read_flow_run_input(run.id, run.state.state_details.run_input_keyset[
                "description"]))
            assert "Done:** shot 1: narration edited" in described and "Rain on the harbour." in described
            resume_flow_run(run.id, run_input={"action": "reroll", "shot": 0})
            run = _paused_run(client, 3, deadline)
            resume_flow_run(run.id, run_input={"action": "approve"})
        out, err = proc.communicate(timeout=max(60, deadline - time.time()))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    cached = lambda stage, subject: [e["cached"] for e in manifest["stages"]  # noqa: E731
                                     if e["stage"] == stage and e["subject"] == subject]
    # Painted, then repainted after the narration edit (all cached), then after the re-roll of shot 0.
    assert cached("keyframe", "shot 0") == [False, True, False]
    assert cached("keyframe", "shot 1") == [False, True, True]
    assert (reel_dir / "keyframes" / "keyframe_0.png").read_bytes() != first_keyframe
    assert "Rain on the harbour." in (reel_dir / "reel.srt").read_text()
    assert json.loads((reel_dir / "review.json").read_text()) == {
        "edits": {"1": {"narration": "Rain on the harbour."}}, "rerolls": {"0": 1}}


@pytest.mark.usefixtures("prefect_server")
def test_cancel_at_the_review_stops_the_reel_before_any_shot_renders(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    root = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "make", "A lighthouse keeper climbs the stairs at dusk",
                             "--preset", "preview", "--shots", "1", "--review", "--out", str(root)], cwd=ROOT,
                            env={**os.environ, "REEL_REVIEW_POLL_S": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        with get_client(sync_client=True) as client:
            run = _paused_run(client, 1, time.time() + 600)
            resume_flow_run(run.id, run_input={"action": "cancel"})
            out, err = proc.communicate(timeout=300)
            assert client.read_flow_run(run.id).state.is_cancelled()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1 and "cancelled at the storyboard review" in out, out + err
    (reel_dir,) = [p for p in root.iterdir() if p.is_dir()]
    assert (reel_dir / "storyboard.png").exists() and not list(reel_dir.glob("clips/*.mp4"))
    assert not (reel_dir / "reel.mp4").exists()
