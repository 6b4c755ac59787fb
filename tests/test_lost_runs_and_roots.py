"""Operating reel as a hostile or unlucky user would, on the session's real Prefect server with
prefect.yaml deployed by `deployments/ops.sh deploy` and real process workers:

- a machine lost with its run (worker and flow-run process killed together, nobody reports): the
  run is marked Crashed by the heartbeat automation `make deploy` creates (app/lost_runs.py) within
  a bounded time, and `prefect flow-run retry` then finishes it from the cache;
- a deployment's `root` parameter: only inside the roots the worker allows (REEL_ALLOWED_ROOTS,
  default its REEL_ROOT); any other is one clear failure and nothing is written there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from app.lost_runs import SILENT_BEATS, heartbeat_s
from tests.helpers import ROOT
from tests.test_operate import POOL, _client, _manifest, _prefect, _reel_id, _stop, _submit, _tail, _wait_final, ops  # noqa: F401

pytestmark = pytest.mark.usefixtures("prefect_server")
LOST = "a lighthouse keeper climbs the stairs in a Faroe storm at dusk"
ELSEWHERE = "a potter shapes a bowl in a quiet Kyoto workshop at noon"


def _worker(ops, name: str, **extra: str) -> subprocess.Popen:
    log = ops.logs / f"worker-{name}.log"
    ops.workers.append(log)
    return subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--name",
                             f"{name}-{uuid.uuid4().hex[:6]}"], cwd=ROOT, env=ops.worker_env(**extra),
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait(what: str, check, timeout: float, logs=()) -> float:
    started = time.time()
    while not check():
        if time.time() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f}s\n" + "\n".join(_tail(p, 2500) for p in logs))
        time.sleep(1)
    return time.time() - started


def test_the_automation_is_deployed_and_every_flow_run_beats_often_enough(ops):
    """`make deploy` made the automation; its window is SILENT_BEATS of the heartbeat reel sets."""
    from prefect.automations import Automation

    from app.lost_runs import NAME

    found = Automation.read(name=NAME)
    assert found.enabled and found.trigger.within.total_seconds() == SILENT_BEATS * heartbeat_s() == 120
    assert os.environ["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"  # conftest, as reel/env.py and make worker
    import yaml

    from reel.env import DEFAULTS

    pool = yaml.safe_load((ROOT / "prefect.yaml").read_text())["definitions"]["work_pool"]
    assert pool["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == \
        DEFAULTS["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == str(heartbeat_s())


def test_a_run_whose_worker_and_process_die_together_is_crashed_and_retry_finishes_it(ops):
    reel_dir = ops.root / _reel_id(LOST, 3)
    worker = _worker(ops, "doomed")
    try:
        run_id = _submit("reel/preview", {"prompt": LOST, "n_shots": 3}).id
        with _client() as c:
            _wait("the run starts and plans", lambda: c.read_flow_run(run_id).state.is_running()
                  and (reel_dir / "plan.json").exists(), 300, ops.workers)
        victims = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
        assert any("prefect.engine" in " ".join(p.cmdline()) or "flows.reel_flow" in " ".join(p.cmdline())
                   for p in victims[1:]), [p.cmdline() for p in victims]
        for p in victims:  # the machine is gone: nothing gets to say goodbye
            p.send_signal(signal.SIGKILL)
        killed = time.time()
    finally:
        _stop(worker)
    with _client() as c:
        bound = SILENT_BEATS * heartbeat_s() + 60  # the window, a last beat already on its way, the trigger's loop
        seconds = _wait("the lost run is marked Crashed", lambda: c.read_flow_run(run_id).state.is_crashed(), bound)
        crashed = c.read_flow_run(run_id)
    print(f"lost run: Crashed {time.time() - killed:.0f}s after its worker and process were killed "
          f"(bound {bound}s; heartbeat {heartbeat_s()}s x {SILENT_BEATS})")
    assert "no heartbeat" in (crashed.state.message or ""), crashed.state.message
    assert not (reel_dir / "reel.mp4").exists() and seconds >= 0

    retried = _worker(ops, "rescue")
    try:
        retry = _prefect("flow-run", "retry", str(run_id))
        assert retry.returncode == 0, retry.stdout + retry.stderr
        (done,) = _wait_final([run_id], logs=ops.workers)
    finally:
        _stop(retried)
    assert done.state.is_completed(), f"{done.state.name}: {done.state.message}"
    stages = _manifest(reel_dir)["stages"]
    assert next(s for s in stages if s["stage"] == "plan")["cached"], "the plan was made again"
    assert (reel_dir / "reel.mp4").stat().st_size > 0


def test_a_deployment_root_outside_the_allowed_roots_is_one_clear_failure(ops, tmp_path):
    """A worker with no REEL_ALLOWED_ROOTS writes only under its REEL_ROOT; one whose
    REEL_ALLOWED_ROOTS names a shared folder writes there too."""
    elsewhere, shared = tmp_path / "etc-reel-test", tmp_path / "shared"
    shared.mkdir()
    worker = _worker(ops, "own-root-only")
    try:
        (refused,) = _wait_final([_submit("reel/preview", {"prompt": ELSEWHERE, "n_shots": 1,
                                                           "root": str(elsewhere)}).id], logs=ops.workers)
        (refused_shared,) = _wait_final([_submit("reel/preview", {"prompt": ELSEWHERE, "n_shots": 1,
                                                                  "root": str(shared)}).id], logs=ops.workers)
    finally:
        _stop(worker)
    for run, root in ((refused, elsewhere), (refused_shared, shared)):
        message = run.state.message or ""
        assert run.state.is_failed(), f"{run.state.name}: {message}"
        assert f"root '{root}' is not a root this worker writes to ({ops.root})" in message, message
        assert "REEL_ALLOWED_ROOTS" in message and "Traceback" not in message, message
    assert not elsewhere.exists() and not any(shared.iterdir())
    print(f"refused root: {refused.state.message}")

    worker = _worker(ops, "shared-too", REEL_ALLOWED_ROOTS=f"{ops.root},{shared}")
    try:
        (inside,) = _wait_final([_submit("reel/preview", {"prompt": ELSEWHERE, "n_shots": 1,
                                                          "root": str(shared / "team")}).id], logs=ops.workers)
    finally:
        _stop(worker)
    assert inside.state.is_completed(), f"{inside.state.name}: {inside.state.message}"
    assert (shared / "team" / _reel_id(ELSEWHERE, 1) / "reel.mp4").stat().st_size > 0
