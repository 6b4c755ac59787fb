"""Stopping, crashing and sharing: real `reel` processes, real signals, a real Prefect API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.helpers import ROOT

PROMPT = "a fisherman mends his nets in Lisbon at noon"


def _start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 400) -> list[str]:
    lines, deadline = [], time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"never saw {needle!r}: {''.join(lines)}{proc.stderr.read() if proc.poll() is not None else ''}")


def _stop(proc: subprocess.Popen, sig: int) -> tuple[float, list[psutil.Process], str]:
    """Send one signal; return seconds to exit, the processes that were below the CLI, stderr."""
    below = psutil.Process(proc.pid).children(recursive=True)
    sent = time.time()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return time.time() - sent, below, err


def _our_runs(client, began: float, name: str):
    """The reel flow run this test started, its shot subflows and all their task runs: the session
    server also holds other tests' runs (some left RUNNING by a kill), which must not count."""
    from datetime import datetime, timezone

    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterName, FlowRunFilterParentFlowRunId,
                                                FlowRunFilterStartTime, TaskRunFilter, TaskRunFilterFlowRunId)

    after = datetime.fromtimestamp(began - 1, timezone.utc)
    reels = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        name=FlowRunFilterName(any_=[name]), start_time=FlowRunFilterStartTime(after_=after)))
    if not reels:
        return None, [], []
    (reel_run,) = reels
    shots = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[reel_run.id])))
    tasks = client.read_task_runs(task_run_filter=TaskRunFilter(
        flow_run_id=TaskRunFilterFlowRunId(any_=[reel_run.id, *(s.id for s in shots)])), limit=200)
    return reel_run, shots, tasks


def _alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(" ".join(p.cmdline()[:4]))
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.usefixtures("prefect_server")
def test_sigterm_mid_render_stops_within_5s_marks_the_run_and_frees_everything(tmp_path):
    from prefect.client.orchestration import get_client

    out, began = tmp_path / "out", time.time()
    # The stall drill holds shot 0's render open, so the stop lands on work in progress every time.
    proc = _start("make", PROMPT, "--shots", "2", "--seed", "11", "--out", str(out),
                  env={"REEL_FAIL_AT": "stall:shot:0"})
    _wait_for_line(proc, "keyframe shot 1:")
    # Wait until the stalled render really is running: the stop must interrupt work in progress.
    with get_client(sync_client=True) as client:
        deadline = time.time() + 120
        while time.time() < deadline and not any(
                t.name.startswith("render-shot-0") and t.state_type and t.state_type.value == "RUNNING"
                for t in _our_runs(client, began, "reel-preview-11")[2]):
            time.sleep(0.2)
    seconds, below, err = _stop(proc, signal.SIGTERM)
    print(f"SIGTERM to exit: {seconds:.2f}s")
    assert seconds < 5, (seconds, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    reel_id = next(p.name for p in out.iterdir())
    assert "SIGTERM" in lines[0] and "while running" in lines[0] and "render shot 0 attempt 1" in lines[0] and "are kept" in lines[0], lines[0]
    assert f"reel resume {reel_id} --out {out}" in lines[0], lines[0]
    assert below and not _alive(below), _alive(below)
    with get_client(sync_client=True) as client:
        reel_run, shots, tasks = _our_runs(client, began, "reel-preview-11")
        assert reel_run.state_type.value in ("CRASHED", "CANCELLED"), reel_run.state
        assert shots and all(r.state_type.value in ("COMPLETED", "CRASHED", "CANCELLED") for r in shots), shots
        open_tasks = [t.name for t in tasks if t.state_type.value in ("RUNNING", "PENDING")]
        assert not open_tasks, open_tasks
        assert client.read_global_concurrency_limit_by_name("gpu").active_slots == 0


def test_ctrl_c_on_the_ephemeral_api_leaves_no_server_and_the_printed_resume_finishes(tmp_path):
    # No PREFECT_API_URL: `reel make` starts Prefect's ephemeral API server as a child process.
    env = {"PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect-home")}
    out = tmp_path / "out"
    proc = _start("make", PROMPT, "--shots", "1", "--seed", "12", "--out", str(out), env=env)
    _wait_for_line(proc, "keyframe shot 0:")
    time.sleep(1.0)
    below = psutil.Process(proc.pid).children(recursive=True)
    assert any("uvicorn" in " ".join(p.cmdline()) for p in below), [p.cmdline()[:4] for p in below]
    seconds, _, err = _stop(proc, signal.SIGINT)
    print(f"SIGINT to exit: {seconds:.2f}s")
    assert seconds < 5 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (seconds, err)
    assert not _alive(below), _alive(below)
    resume = err.split("resume with: ", 1)[1].split()
    assert resume[0] == "reel", err
    done = subprocess.run([sys.executable, "-m", "app.cli", *resume[1:]], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "keyframe shot 0: cached" in done.stdout and "reel ready:" in done.stdout, done.stdout


def _holder(seconds: float, env: dict | None = None) -> subprocess.Popen:
    """Another process holding the gpu slot (a model task stand-in: the slot is the point here)."""
    code = ("import sys, time; from models.gpu_slot import ensure_gpu_limit, gpu_slot; ensure_gpu_limit()\n"
            f"with gpu_slot():\n    print('held', flush=True); time.sleep({seconds})")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.usefixtures("prefect_server")
def test_a_killed_holder_frees_the_gpu_slot_for_the_next_task():
    from models.gpu_slot import gpu_slot

    holder = _holder(600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.time()
    with gpu_slot() as held:
        pass
    assert held.start - started < 5, held.start - started


@pytest.mark.usefixtures("prefect_server")
def test_a_holder_that_died_on_another_machine_is_freed_when_its_lease_lapses(tmp_path, capsys, monkeypatch):
    """Its lock file and holder record are on that machine (here: another folder), so no waiter
    here can see it died: the server's repossessor frees the slot once the 60 s lease lapses,
    and meanwhile the waiter says it waits for a holder with no record here."""
    from models.gpu_slot import LEASE_S, gpu_slot

    monkeypatch.setenv("REEL_PROGRESS", "1")
    holder = _holder(600, env={"REEL_GPU_LOCK": str(tmp_path / "elsewhere" / "gpu.lock")})
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.time()
    with gpu_slot() as held:
        pass
    waited = held.start - started
    print(f"slot freed after {waited:.1f}s (lease {LEASE_S:.0f}s)")
    assert 5 < waited < LEASE_S + 30, waited
    said = capsys.readouterr().out
    assert "held by a holder with no record in" in said and "prefect gcl update gpu --active-slots 0" in said, said


@pytest.mark.usefixtures("prefect_server")
def test_a_waiter_says_what_it_waits_for(capsys, monkeypatch):
    from models.gpu_slot import gpu_slot

    monkeypatch.setenv("REEL_PROGRESS", "1")
    holder = _holder(9)
    with gpu_slot():
        pass
    holder.wait()
    said = capsys.readouterr().out
    assert "for the 'gpu' slot, held by" in said and f"pid {holder.pid}" in said, said
    assert "prefect gcl update gpu --active-slots 0" in said, said


@pytest.mark.usefixtures("prefect_server")
def test_two_runs_of_one_reel_take_turns_and_the_manifest_matches_every_file(tmp_path):
    import hashlib
    import json

    out = tmp_path / "out"
    args = ("make", PROMPT, "--shots", "1", "--seed", "13", "--out", str(out), "--reel-id", "same-reel")
    first = _start(*args)
    _wait_for_line(first, "reel same-reel ->")
    second = _start(*args)
    outs = [p.communicate(timeout=900) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], [o[1][-2000:] for o in outs]
    assert "is being written by pid" in outs[1][0], outs[1][0]
    reel_dir = out / "same-reel"
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    assert manifest["all_cached"], "the second run found the first one's stages finished"
    assert manifest["artifacts"]
    for art in manifest["artifacts"]:
        assert hashlib.sha256((reel_dir / art["path"]).read_bytes()).hexdigest() == art["sha256"], art["path"]


@pytest.mark.usefixtures("prefect_server")
def test_a_plan_printed_by_reel_plan_renders_into_its_prompts_reel_and_says_what_changed(tmp_path):
    import json

    out = tmp_path / "out"
    made = subprocess.run([sys.executable, "-m", "app.cli", "make", PROMPT, "--shots", "2", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), timeout=900)
    assert made.returncode == 0, made.stderr[-2000:]
    (reel_dir,) = list(out.iterdir())
    planned = subprocess.run([sys.executable, "-m", "app.cli", "plan", PROMPT, "--shots", "2"], cwd=ROOT,
                             capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert planned.returncode == 0, planned.stderr
    hint = planned.stderr.strip().splitlines()[-1].split("with: ", 1)[1].split()
    assert hint[:4] == ["reel", "make", "--plan", "plan.json"] and hint[hint.index("--reel-id") + 1] == reel_dir.name
    plan = json.loads(planned.stdout)
    plan["vo_script_per_shot"][1] = plan["vo_script_per_shot"][1].rstrip(".") + ", encore."
    edited = tmp_path / "plan.json"
    edited.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "app.cli", *hint[1:3], str(edited), *hint[4:], "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "changed: shot 1 (narration); kept: shots 0" in again.stdout, again.stdout
    assert list(out.iterdir()) == [reel_dir]
    stages = json.loads((reel_dir / "manifest.json").read_text())["stages"]
    redone = {f"{s['stage']} {s['subject']}".strip() for s in stages if not s["cached"]}
    assert "voice shot 1" in redone and not any(s.startswith(("render", "keyframe", "master")) for s in redone), redone
