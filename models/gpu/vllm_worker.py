"""vLLM offline inference in a child process, and the parent's side of talking to it.

vLLM runs in its own process because that is the one reliable way to give all of its GPU memory
back (engine, KV cache, CUDA graphs, the caching allocator): the process exits. Two modes:

  python -m models.gpu.vllm_worker request.json reply.json   one request, then exit (the director)
  python -m models.gpu.vllm_worker --serve '<engine json>'     JSON lines on stdin/stdout (the critic)

A request is {"engine": {...} (file mode only), "messages": [OpenAI-style chat messages],
"sampling": {"temperature", "max_tokens", "seed", "json_schema"}, "chat_template_kwargs": {...}};
a reply is {"text": ...} or {"error": ..., "kind": "unavailable" | "failed"}.
This module imports vllm only inside functions: the parent imports it for the client side.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the checkout: models/gpu/ -> repo root
LOAD_TIMEOUT_S = 1800.0  # a 35B checkpoint: weights from disk, then torch.compile and CUDA graphs
REQUEST_TIMEOUT_S = 900.0


# ---------------------------------------------------------------- inside the worker (imports vllm)


def build_sampling_params(schema: dict | None, temperature: float, max_tokens: int, seed: int | None = None):
    """SamplingParams, JSON-constrained when `schema` is given. Since vLLM 0.12 the constraint must be
    `structured_outputs=StructuredOutputsParams(json=...)`: the old guided_* fields are silently ignored."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    structured = StructuredOutputsParams(json=schema) if schema is not None else None
    return SamplingParams(temperature=temperature, max_tokens=max_tokens, seed=seed, structured_outputs=structured)


# Under this much GPU memory Qwen3.5-35B-A3B runs in FP8 (vLLM's recipe for one card): in bf16 its
# ~65 GiB of weights leave an 80 GB card ~6 GiB for KV cache and activations.
FP8_BELOW_GIB = 100.0
# A model id that names its own quantization carries it in its config; vLLM reads it from there.
PREQUANTIZED = ("fp8", "awq", "gptq", "nvfp4", "int4", "int8", "bnb", "gguf")


def quantization_for(choice: str | None, model: str, gpu_total_gib: float | None) -> str | None:
    """vLLM's `quantization` for the engine's "quantization": "auto" or absent (the default: FP8 on
    cards under FP8_BELOW_GIB, unless the checkpoint is quantized already), "bf16"/"none" (as
    stored), or a vLLM method name such as "fp8". The model host may set it from the memory plan."""
    choice = (choice or "auto").lower()
    if choice in ("none", "bf16", "off"):
        return None
    if choice != "auto":
        return choice
    if any(tag in model.lower() for tag in PREQUANTIZED) or gpu_total_gib is None:
        return None
    return "fp8" if gpu_total_gib < FP8_BELOW_GIB else None


def gpu_total_gib() -> float | None:
    """The visible GPU's memory (the worker sees one: CUDA_VISIBLE_DEVICES), or None without one."""
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / 2**30


def engine_kwargs(engine: dict, total_gib: float | None = None) -> dict:
    """LLM(...) keyword arguments from the engine options the parent sends. `text_only` starts the
    model language-model-only (no vision tower, no multimodal profiling: the director); otherwise
    `max_images` sizes what the profiler reserves for images (the critic: what one question sends)."""
    kwargs = {"model": engine["model"], "max_model_len": int(engine.get("max_model_len", 32768)),
              "gpu_memory_utilization": float(engine.get("gpu_memory_utilization", 0.9))}
    quantization = quantization_for(engine.get("quantization", "auto"), engine["model"], total_gib)
    if quantization:
        kwargs["quantization"] = quantization
    if engine.get("text_only"):
        kwargs["language_model_only"] = True
        kwargs["limit_mm_per_prompt"] = {"image": 0, "video": 0}
    elif engine.get("max_images") is not None:  # a vision checkpoint: reserve room for this many images
        kwargs["limit_mm_per_prompt"] = {"image": int(engine["max_images"]), "video": 0}
    if engine.get("max_num_seqs"):  # from the memory plan (runtime/memory_plan.py)
        kwargs["max_num_seqs"] = int(engine["max_num_seqs"])
    if engine.get("load_format"):  # "dummy": random weights at real size (the GPU check, no download)
        kwargs["load_format"] = engine["load_format"]
    return kwargs


def build_llm(engine: dict):
    from vllm import LLM

    total = gpu_total_gib() if (engine.get("quantization") or "auto") == "auto" else None  # only "auto" asks
    return LLM(**engine_kwargs(engine, total))


def generate(llm, request: dict) -> str:
    s = request.get("sampling", {})
    params = build_sampling_params(s.get("json_schema"), float(s.get("temperature", 0.7)),
                                   int(s.get("max_tokens", 4096)), s.get("seed"))
    outputs = llm.chat(request["messages"], params, use_tqdm=False,
                       chat_template_kwargs=request.get("chat_template_kwargs") or None)
    return outputs[0].outputs[0].text


def _load(engine: dict) -> tuple[Any, dict | None]:
    """(llm, None) or (None, error reply). Anything failing before the first token is `unavailable`:
    vLLM missing, weights missing, no GPU, out of memory."""
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        return None, {"kind": "unavailable", "error": f"vLLM is not installed in {sys.executable} ({exc}); build "
                                                      "its environment with `make gpu-cuda` or `make gpu-rocm` "
                                                      "(.venv-vllm), or point REEL_VLLM_PYTHON at a Python that has it"}
    try:
        return build_llm(engine), None
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        return None, {"kind": "unavailable", "error": _one_line(exc)}


def _answer(llm, request: dict) -> dict:
    try:
        return {"text": generate(llm, request)}
    except Exception as exc:  # noqa: BLE001
        return {"kind": "failed", "error": _one_line(exc)}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:600]}"


def _serve(engine: dict) -> int:
    # Keep the protocol on a private copy of stdout and send everything else (vLLM logs to stdout)
    # to stderr, so a library print can never corrupt a JSON line.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    llm, error = _load(engine)
    proto.write(json.dumps(error or {"ready": True}) + "\n")
    if error:
        return 1
    for line in sys.stdin:  # EOF (the parent closed the pipe or died): exit, freeing the GPU
        if line.strip():
            proto.write(json.dumps(_answer(llm, json.loads(line))) + "\n")
    return 0


def _file_mode(request_path: str, reply_path: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    llm, reply = _load(request["engine"])
    if llm is not None:
        reply = _answer(llm, request)
    tmp = Path(reply_path + ".part")
    tmp.write_text(json.dumps(reply), encoding="utf-8")
    tmp.replace(reply_path)  # whole or absent: the parent returns as soon as it appears
    return 0 if "text" in reply else 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--serve":
        return _serve(json.loads(argv[1]))
    if len(argv) == 2:
        return _file_mode(*argv)
    print(__doc__, file=sys.stderr)
    return 2


# ---------------------------------------------------------------- the parent's side (no vllm import)


class WorkerError(RuntimeError):
    """The worker could not answer. kind "unavailable": it never got a model up; "failed": a request broke."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# The variables each platform selects GPUs with. ROCm reads HIP_VISIBLE_DEVICES (and its runtime
# ROCR_VISIBLE_DEVICES, applied first); vLLM's ROCm platform refuses to start when
# HIP_VISIBLE_DEVICES is set and differs from CUDA_VISIBLE_DEVICES, so both name the same card.
VISIBLE = ("CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


def worker_python() -> str:
    """The interpreter vLLM runs in: REEL_VLLM_PYTHON, else the vLLM environment beside this checkout
    (.venv-vllm: vLLM cannot share Prefect's environment, see install/vllm-cuda.txt), else this one."""
    chosen = os.environ.get("REEL_VLLM_PYTHON", "")
    if chosen:
        return chosen
    own = ROOT / ".venv-vllm" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def worker_env(device: str) -> dict:
    """The child's environment: this checkout importable, and `cuda:N` pinned to one card with the
    variables CUDA and ROCm read (vLLM uses every GPU it sees, starting from the first). N counts
    the cards this process sees: a list already set (either name) is narrowed, not replaced."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if device.startswith("cuda:"):
        index = int(device.split(":", 1)[1])
        current = next((env[name] for name in ("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES") if env.get(name)), "")
        visible = [v.strip() for v in current.split(",") if v.strip()]
        card = visible[index] if index < len(visible) else str(index)
        for name in VISIBLE:
            env[name] = card
    return env


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def kill_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the process group of `proc`, SIGKILL what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:  # the leader is gone; its children may not be
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        break


REPLY_GRACE_S = 20.0  # after the reply is written: vLLM's own shutdown, then its process group is ended


def run_until_reply(cmd: list[str], reply: Path, timeout: float, grace: float = REPLY_GRACE_S, **popen) -> int | None:
    """Run `cmd` in its own session until it exits or `reply` appears (written whole, by rename).
    Once the reply is there the answer is in: the child gets `grace` seconds to exit (vLLM's
    teardown can hang for minutes), then its whole process group is ended (EngineCore included, so
    the GPU memory is free on return). Returns the exit code (None: ended after its reply).
    Raises TimeoutExpired (group ended) when neither happens within `timeout`."""
    proc = subprocess.Popen(cmd, start_new_session=True, **popen)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if reply.exists():
                try:
                    return proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    kill_group(proc, grace=5.0)
                    return None
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(cmd, timeout)
            time.sleep(0.1)
        _end_group(proc)  # the leader exited: children it left behind still hold the GPU
        return proc.returncode
    except BaseException:  # a timeout, Ctrl-C, a cancelled task: leave nothing behind
        kill_group(proc)
        raise


def _end_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_once(engine: dict, request: dict, device: str = "cuda:0", timeout: float = LOAD_TIMEOUT_S) -> str:
    """One request in a fresh worker (file mode); the worker's processes are gone on return, so its
    GPU memory is free."""
    with tempfile.TemporaryDirectory(prefix="reel-vllm-") as tmp:
        req, reply, log = Path(tmp, "request.json"), Path(tmp, "reply.json"), Path(tmp, "worker.log")
        req.write_text(json.dumps({**request, "engine": engine}), encoding="utf-8")
        with open(log, "w", encoding="utf-8") as out:
            try:
                run_until_reply([worker_python(), "-m", "models.gpu.vllm_worker", str(req), str(reply)], reply,
                                timeout, cwd=ROOT, env=worker_env(device), stdout=out, stderr=subprocess.STDOUT)
            except subprocess.TimeoutExpired as exc:
                raise WorkerError("failed", f"the vLLM worker did not finish within {timeout:.0f} s") from exc
        if not reply.exists():
            raise WorkerError("failed", f"the vLLM worker died without a reply; its log ends: {_tail(log)}")
        answer = json.loads(reply.read_text(encoding="utf-8"))
    if "text" not in answer:
        raise WorkerError(answer.get("kind", "failed"), answer.get("error", "no reply"))
    return answer["text"]


class WorkerProcess:
    """A long-lived worker: the model stays loaded between requests until stop()."""

    def __init__(self, engine: dict, device: str = "cuda:0"):
        self.engine, self.device = engine, device
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self, timeout: float = LOAD_TIMEOUT_S) -> None:
        fd, log = tempfile.mkstemp(prefix="reel-vllm-", suffix=".log")
        self.log_path = Path(log)
        self.proc = subprocess.Popen([worker_python(), "-m", "models.gpu.vllm_worker", "--serve", json.dumps(self.engine)],
                                     cwd=ROOT, env=worker_env(self.device), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=fd, text=True, encoding="utf-8",
                                     start_new_session=True)  # its own group: stop() reaches vLLM's children
        os.close(fd)
        # A reader thread, so every wait has a timeout even though readline() blocks.
        threading.Thread(target=self._read, daemon=True).start()
        first = self._next(timeout, "load the model")
        if not first.get("ready"):
            self.stop()
            self.log_path.unlink(missing_ok=True)  # the worker reported why: the error says it all
            raise WorkerError(first.get("kind", "unavailable"), first.get("error", "the worker did not start"))

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next(self, timeout: float, doing: str) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise WorkerError("failed", f"the vLLM worker did not {doing} within {timeout:.0f} s") from None
        if line is None:
            proc, self.proc = self.proc, None
            code = proc.wait(timeout=30) if proc else None
            raise WorkerError("failed", f"the vLLM worker exited (code {code}) before it could {doing}; "
                                        f"its log ({self.log_path}) ends: {_tail(self.log_path)}")
        return json.loads(line)

    def chat(self, request: dict, timeout: float = REQUEST_TIMEOUT_S) -> str:
        if self.proc is None or self.proc.stdin is None:
            raise WorkerError("failed", "the vLLM worker is not running (call start() first)")
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:  # it died since the last answer; _next reports how (exit code, log)
            pass
        answer = self._next(timeout, "answer")
        if "text" not in answer:
            raise WorkerError(answer.get("kind", "failed"), answer.get("error", "no reply"))
        return answer["text"]

    def stop(self, grace: float = 60.0) -> None:
        """Close stdin (the worker exits on EOF), else SIGTERM then SIGKILL its process group (vLLM's
        engine-core children included): the GPU is free after this."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=grace)
        except (subprocess.TimeoutExpired, OSError):
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, None)):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=wait)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc.returncode == 0 and self.log_path:
            self.log_path.unlink(missing_ok=True)  # keep the log only when something went wrong

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
