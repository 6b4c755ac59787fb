"""The critic loop end to end: real reels (preview profile, real Prefect server, real files)
with a fault-injecting video backend and a scripted tier-2 critic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import reel_cli

pytestmark = pytest.mark.usefixtures("prefect_server")

PASS = {"character_match": 9, "scene_match": 9, "composition": 9, "artifact_free": 9, "overall": 9, "issues": []}
SCRIPT = {
    # shot 0: fails tier 2 with CAMERA_IGNORED once, then passes
    "0:1": "```json\n" + json.dumps({"character_match": 8, "scene_match": 8, "composition": 3, "artifact_free": 8,
                                     "overall": 4, "issues": ["CAMERA_IGNORED: frames 1-4 framed identically"]})
           + "\n```",
    # shot 1: garbage twice on attempt 1
    "1:1": ["I like it a lot!", "Still no JSON, sorry."],
    # shot 2: fails both attempts; the better one must ship with its issues on the record
    "2:1": json.dumps({"character_match": 4, "scene_match": 6, "composition": 5, "artifact_free": 5, "overall": 4,
                       "issues": ["WARDROBE_DRIFT: coat turns grey in frame 3"]}),
    "2:2": json.dumps({"character_match": 5, "scene_match": 6, "composition": 6, "artifact_free": 5, "overall": 5,
                       "issues": ["OBJECT_MORPHING: lamp post bends in frame 4"]}),
    "*": json.dumps(PASS),
}
PROMPT = "a baker and her son open their shop in Lyon at dawn"


def _dir(root: Path) -> Path:
    (d,) = [p for p in root.iterdir() if p.is_dir()]
    return d


def _verdicts(reel_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (reel_dir / "verdicts.jsonl").read_text().splitlines()]


def _script(tmp: Path) -> Path:
    path = tmp / "critic_script.json"
    path.write_text(json.dumps(SCRIPT))
    return path


@pytest.fixture(scope="module")
def scripted_reel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scripted")
    script = _script(tmp)
    proc = reel_cli("make", PROMPT, "--shots", "3", "--out", str(tmp / "out"),
                    env={"REEL_BACKEND_CRITIC": "scripted", "REEL_MODEL_CRITIC": str(script)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _dir(tmp / "out"), script, proc


def test_tier1_catches_injected_faults_and_the_next_attempt_shows_the_fix(tmp_path):
    proc = reel_cli("make", "a lighthouse keeper and his daughter walk the cliffs of Cornwall at sunset", "--shots",
                    "3", "--out", str(tmp_path),
                    env={"REEL_BACKEND_VIDEO": "faulty", "REEL_VIDEO_FAULTS": "0:1:frozen,1:1:ignore_camera,2:1:drift"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {(v["shot"], v["attempt"]): v for v in _verdicts(_dir(tmp_path))}
    plan = json.loads((_dir(tmp_path) / "plan.json").read_text())

    frozen = lines[(0, 1)]
    assert not frozen["passed"] and frozen["critic"].endswith("(tier 1)")
    assert any(i["detail"].startswith("frozen:") for i in frozen["issues"]), frozen["issues"]
    assert frozen["measurements"]["freeze_fraction"] > 0.9, frozen["measurements"]

    ignored = lines[(1, 1)]
    camera = [i for i in ignored["issues"] if i["label"] == "CAMERA_IGNORED"]
    assert camera and "measured" in camera[0]["detail"], ignored["issues"]
    assert "CAMERA_IGNORED -> camera sentence reduced to" in ignored["next"]
    retry = lines[(1, 2)]
    assert retry["knobs"]["prompt"].split(". ")[0] != plan["shots"][1]["prompt"].split(". ")[0]
    assert retry["knobs"]["seed"] != ignored["knobs"]["seed"] and retry["passed"]

    drift = lines[(2, 1)]
    colour = [i for i in drift["issues"] if i["label"] == "CHARACTER_DRIFT"]
    assert colour and "deltaE" in colour[0]["detail"], drift["issues"]
    fixed = lines[(2, 2)]["knobs"]
    assert fixed["keyframe_source"] == "master" and fixed["end_frame"] is True
    assert fixed["flow_shift"] == drift["knobs"]["flow_shift"] - 1
    assert (_dir(tmp_path) / "keyframes" / "keyframe_2_master.png").exists()


def test_scripted_critic_fail_then_pass_makes_exactly_two_attempts(scripted_reel):
    reel_dir, _, _ = scripted_reel
    shot0 = [v for v in _verdicts(reel_dir) if v["shot"] == 0]
    assert [v["attempt"] for v in shot0] == [1, 2]
    assert [v["passed"] for v in shot0] == [False, True] and shot0[1]["shipped"]
    assert shot0[0]["critic"].endswith("(tier 2)") and shot0[0]["issues"][0]["label"] == "CAMERA_IGNORED"
    assert shot0[0]["next"].startswith("attempt 2: CAMERA_IGNORED -> camera sentence reduced to")
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    assert manifest["shots"][0]["shipped_attempt"] == 2


def test_garbage_twice_is_unscored_and_never_passes(scripted_reel):
    reel_dir, script, _ = scripted_reel
    first = [v for v in _verdicts(reel_dir) if v["shot"] == 1][0]
    assert first["scored"] is False and first["passed"] is False and first["scores"]["overall"] is None
    assert "unreadable twice" in first["issues"][0]["detail"]
    asked = [json.loads(x) for x in script.with_name(script.name + ".log.jsonl").read_text().splitlines()]
    about = [q for q in asked if q["prompt"].startswith("Shot 1, attempt 1.")]
    assert len(about) == 2 and "could not be read" in about[1]["prompt"]
    assert all(q["images"] >= 4 for q in asked)


def test_when_every_attempt_fails_the_best_ships_with_its_issues(scripted_reel):
    reel_dir, _, _ = scripted_reel
    shot2 = [v for v in _verdicts(reel_dir) if v["shot"] == 2]
    assert [v["passed"] for v in shot2] == [False, False]
    assert [v["shipped"] for v in shot2] == [False, True]
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    entry = manifest["shots"][2]
    assert entry["shipped_attempt"] == 2 and entry["clip"].endswith("shot_02_attempt_2.mp4")
    assert entry["open_issues"] == [{"label": "OBJECT_MORPHING", "detail": "lamp post bends in frame 4"}]


def test_scorecard_artifact_lists_every_attempt(scripted_reel):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.publish import artifact_key

    reel_dir, _, _ = scripted_reel
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[artifact_key(reel_dir.name, "critic-scorecard")])))
    assert arts and arts[0].type == "table"
    rows = json.loads(arts[0].data) if isinstance(arts[0].data, str) else arts[0].data
    assert {(r["shot"], r["attempt"]) for r in rows} == {(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2)}


def test_resume_after_kill_mid_retry_loop_keeps_finished_attempts(tmp_path):
    script = _script(tmp_path)
    env = {"REEL_BACKEND_CRITIC": "scripted", "REEL_MODEL_CRITIC": str(script)}
    args = ("make", PROMPT, "--shots", "1", "--out", str(tmp_path / "out"))
    killed = reel_cli(*args, env=env | {"REEL_FAIL_AT": "kill:shot:0:attempt:2"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    reel_dir = _dir(tmp_path / "out")
    assert (reel_dir / "clips" / "shot_00_attempt_1.mp4").exists()
    resumed = reel_cli("resume", reel_dir.name, "--out", str(tmp_path / "out"), env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    stages = {f"{s['stage']} {s['subject']}": s["cached"]
              for s in json.loads((reel_dir / "manifest.json").read_text())["stages"]}
    assert stages["render shot 0 attempt 1"] and stages["critique shot 0 attempt 1"]
    assert not stages["render shot 0 attempt 2"]
    assert [v["attempt"] for v in _verdicts(reel_dir)] == [1, 2]


def test_infrastructure_faults_are_retried_by_prefect(tmp_path):
    """The render task run of this reel's own flow run (found by its output root, unique to this test;
    the session's server holds other tests' runs of the same names) ran twice and completed."""
    from datetime import datetime, timedelta, timezone

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterParentFlowRunId, FlowRunFilterStartTime,
                                                TaskRunFilter, TaskRunFilterFlowRunId)

    began = datetime.now(timezone.utc) - timedelta(seconds=1)
    proc = reel_cli("make", "a quiet harbour in Naples at noon", "--shots", "1", "--out", str(tmp_path),
                    env={"REEL_FAIL_AT": "crash-once:shot:0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    with get_client(sync_client=True) as client:
        recent = client.read_flow_runs(flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=began)))
        (ours,) = [r for r in recent if r.parameters.get("root") == str(tmp_path)]
        shots = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[ours.id])))
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(
            flow_run_id=TaskRunFilterFlowRunId(any_=[ours.id, *(s.id for s in shots)])), limit=200)
    render = [r for r in runs if r.name == "render-shot-0-attempt-1"]
    assert len(render) == 1, [r.name for r in runs]
    assert render[0].run_count >= 2 and render[0].state.is_completed(), (render[0].run_count, render[0].state_name)


def test_quality_and_input_failures_are_not_retried_as_infrastructure():
    from prefect.states import Failed

    from reel.drills import InjectedFault
    from reel.errors import BackendCrashed, UserError
    from reel.stage import is_infra_fault

    def state(exc):
        return Failed(data=exc)

    assert is_infra_fault(None, None, state(BackendCrashed("worker died")))
    assert is_infra_fault(None, None, state(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")))
    assert not is_infra_fault(None, None, state(UserError("bad plan")))
    assert not is_infra_fault(None, None, state(InjectedFault("drill")))
