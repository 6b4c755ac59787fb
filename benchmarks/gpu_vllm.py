"""The GPU check's vLLM rows: the director and the critic through the project's own worker process,
on a folder holding the real Qwen3.5-35B-A3B config, with load_format="dummy" (random weights at real
size). The worker is another process, so a row's memory is the card's, sampled while it runs, against
the plan's share. On a CPU (`--tiny`) vLLM's LLM class is the one stand-in (STANDIN, with the reason)."""

from __future__ import annotations

import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from benchmarks.gpu_check import TINY, Meter
from benchmarks.offline_tokenizer import byte_tokenizer

SENTENCE = "a violinist plays on a Paris bridge at dusk"
TINY.update({  # Qwen3.5-MoE a few layers deep, every kind of layer kept (full and linear attention, experts)
    "director": {"num_hidden_layers": 4, "hidden_size": 64, "num_experts": 4, "num_experts_per_tok": 2,
                 "moe_intermediate_size": 32, "shared_expert_intermediate_size": 32, "num_attention_heads": 2,
                 "num_key_value_heads": 1, "head_dim": 32, "linear_num_key_heads": 2, "linear_num_value_heads": 2,
                 "linear_key_head_dim": 16, "linear_value_head_dim": 16, "vocab_size": 512},
    "vision": {"depth": 1, "hidden_size": 32, "intermediate_size": 32, "num_heads": 2, "out_hidden_size": 64},
})

# Why a stand-in: vLLM's engine needs a CUDA (or ROCm) device, and this runs on a CPU. Everything up
# to the engine is real: the worker process and its protocol, the LLM keywords built into vLLM's own
# EngineArgs, the SamplingParams and StructuredOutputsParams the worker builds, the chat call bound to
# the real LLM.chat signature. Loaded through sitecustomize into the worker process only.
STANDIN = '''
import inspect
import os
import sys

_stdout = os.dup(1)
os.dup2(2, 1)  # vLLM logs to stdout as it imports: the worker's protocol owns stdout (it moves logs itself later)
try:
    import vllm
    from vllm.engine.arg_utils import EngineArgs
    from vllm.entrypoints.llm import LLM as _RealLLM
finally:
    sys.stdout.flush()
    os.dup2(_stdout, 1)
    os.close(_stdout)


class _Completion:
    def __init__(self, text):
        self.text = text


class _Output:
    def __init__(self, text):
        self.outputs = [_Completion(text)]


class LLM:
    def __init__(self, model, **kwargs):
        self.args = EngineArgs(model=model, **kwargs)  # a renamed or removed keyword raises here

    def chat(self, messages, sampling_params, *args, **kwargs):
        inspect.signature(_RealLLM.chat).bind(self, messages, sampling_params, *args, **kwargs)
        so = sampling_params.structured_outputs
        text = "{}" if so is not None and so.json is not None else "stand-in engine: no reply on a CPU"
        return [_Output(text)]


vllm.LLM = LLM
'''


class CardSampler:
    """The card's memory in use (every process), sampled every 50 ms while a block runs: what a vLLM
    worker process holds, which this process's allocator statistics cannot see."""

    def __init__(self, meter: Meter):
        self.meter, self.low, self._stop = meter, None, threading.Event()

    def __enter__(self):
        if self.meter.cuda:
            self.low = self.meter.free_gib()
            threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.low = min(self.low, self.meter.free_gib())

    def __exit__(self, *exc):
        self._stop.set()

    def used_since(self, before: float | None) -> float | None:
        return None if before is None or self.low is None else before - self.low


def llm_folder(folder: Path, tiny: bool) -> Path:
    """Qwen3.5-35B-A3B as vLLM reads it: config.json (the real text and vision configs), a tokenizer
    with Qwen's chat and vision tokens, and Qwen3-VL's processor config. No weights: load_format dummy."""
    from transformers import Qwen2VLImageProcessor, Qwen3_5MoeConfig

    from runtime import memory_plan

    spec = memory_plan.load_config("director")["components"]
    text = {**spec["language_model"]["config"], **(TINY["director"] if tiny else {})}
    vision = {**spec["vision_tower"]["config"], **(TINY["vision"] if tiny else {})}
    tokenizer = byte_tokenizer(vision=True)
    ids = {name: tokenizer.convert_tokens_to_ids(tok) for name, tok in (
        ("vision_start_token_id", "<|vision_start|>"), ("vision_end_token_id", "<|vision_end|>"),
        ("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>"))}
    config = Qwen3_5MoeConfig(text_config=text, vision_config=vision, **ids)
    config.architectures = ["Qwen3_5MoeForConditionalGeneration"]
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessor(patch_size=vision["patch_size"], temporal_patch_size=vision["temporal_patch_size"],
                          merge_size=vision["spatial_merge_size"]).save_pretrained(folder)
    return folder


@contextmanager
def vllm_engine(tiny: bool):
    """On a CPU the worker process gets the stand-in engine (STANDIN); on a card, the real one."""
    if not tiny:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="reel-vllm-standin-") as tmp:
        Path(tmp, "sitecustomize.py").write_text(STANDIN, encoding="utf-8")
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (tmp, before) if p)
        try:
            yield
        finally:
            os.environ.pop("PYTHONPATH") if before is None else os.environ.update(PYTHONPATH=before)


def check_director(meter: Meter, plan, folder: Path, device: str, sizes: dict) -> list:
    from models.gpu.llm_director import VllmDirector, build_messages, plan_reply_tokens, plan_schema

    director = VllmDirector(device=device, model=str(folder))
    director.apply_plan(plan.stage("director"))
    director.engine_options["load_format"] = "dummy"
    director.max_tokens = sizes["max_tokens"]  # random weights never close the JSON: a bounded reply
    before = meter.free_gib()
    with CardSampler(meter) as card:
        reply, row = meter.measure("director: vLLM worker, dummy weights, 1 plan request", lambda: director.complete(
            build_messages(SENTENCE, 6), plan_schema(6), seed=0, need=plan_reply_tokens(6), what="a 6-shot plan"))
    row.peak_gib = row.reserved_gib = card.used_since(before)
    row.plan_gib = row.plan_reserved_gib = _vllm_share(plan, "director")
    row.note = f"reply {len(reply)} chars, schema-constrained; {_engine_note(director.engine_options)}"
    return [row, meter.freed("director worker exited")]


def check_critic(meter: Meter, plan, folder: Path, device: str, sizes: dict, frames: list, portraits: list) -> list:
    from models.gpu.vlm_critic import VllmCritic

    critic = VllmCritic(device=device, model=str(folder))
    critic.apply_plan(plan.stage("critic"))
    critic.engine_options["load_format"] = "dummy"
    before = meter.free_gib()
    images = frames[:4] + portraits[:3]
    with CardSampler(meter) as card:
        _, start = meter.measure("critic: vLLM worker start, dummy weights", critic.load)
        reply, row = meter.measure(f"critic: 1 question, {len(frames[:4])} frames + {len(portraits[:3])} portraits",
                                   lambda: critic.ask("You are a film critic.", "Score this clip.", images))
    for r in (start, row):
        r.peak_gib = r.reserved_gib = card.used_since(before)
        r.plan_gib = r.plan_reserved_gib = _vllm_share(plan, "critic")
    row.note = f"reply {len(reply)} chars; {_engine_note(critic.engine_options)}"
    return [start, row, meter.unloaded(critic, "critic worker")]


def _vllm_share(plan, role: str) -> float | None:
    stage = plan.stage(role)
    return stage.vllm["gpu_memory_utilization"] * plan.gpu_gib if plan.gpu_gib else None


def _engine_note(options: dict) -> str:
    return ", ".join(f"{k}={options[k]}" for k in ("gpu_memory_utilization", "quantization", "max_num_seqs")
                     if options.get(k) is not None)
