"""Test session setup: a real `prefect server` on 127.0.0.1 shared by every test (in-process
flows and `reel` subprocesses alike), a private PREFECT_HOME, and a private gpu lock file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from reel.env import DEFAULTS as _ENV_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="reel-tests-"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()
# Set before Prefect is imported anywhere in the session.
os.environ.update({
    "PREFECT_HOME": str(_HOME / "prefect"),
    "PREFECT_API_URL": f"http://127.0.0.1:{PORT}/api",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # As reel/env.py sets for any SQLite API: wait 30 s for the writer lock before answering 503.
    "PREFECT_SERVER_DATABASE_TIMEOUT": "30",
    # The server frees expired gpu leases every 5 s instead of 15 (the lease itself stays 60 s).
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "5",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "REEL_GPU_LOCK": str(_HOME / "gpu.lock"),
    "REEL_ROOT": str(_HOME / "outputs"),
})
# Every flow run of the session sends heartbeats as often as reel's own processes do: once a test
# deploys the lost-run automation (app/lost_runs.py), a run beating at Prefect's 180 s would be Crashed.
os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", _ENV_DEFAULTS["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"])


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect server for the whole session, stopped at the end."""
    log = open(_HOME / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(PORT)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    deadline = time.time() + 180
    while not _healthy():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"prefect server did not start; log: {(_HOME / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield os.environ["PREFECT_API_URL"]
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def reel_root(tmp_path) -> Path:
    root = tmp_path / "outputs"
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama.cpp's OpenAI-compatible server (xllamacpp) with a real small model (tests/llama_server.py)."""
    from tests.llama_server import LlamaServer

    server = LlamaServer.start(tmp_path_factory.mktemp("llama"))
    yield server
    server.stop()
