"""The GPU memory plan: what each model of the stack weighs, what it peaks at for a preset's sizes,
and, for a card of a given size, which models stay resident together, which need model CPU offload
or FP8 weights, and the vLLM engine knobs. One source for `reel bench memory` and the model host.

Weights are counted, not written down: each component is built at full size on the meta device
(no memory, no download) from the real config shipped in configs/models/*.json, with the class the
backend loads (diffusers, transformers, kokoro). Activation peaks are estimates from the same
configs and the preset's sizes (formulas below, named as estimates in the table), and on top of them
what the caching allocator keeps reserved (memory_formulas.allocator_reserve): a mode is chosen only
if weights + activations + reserve fit the card. The GPU check (benchmarks/gpu_check.py) measures
the real allocated and reserved peaks on a card beside these figures.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from runtime.memory_formulas import (CRITIC_IMAGES, CRITIC_SEQS, GIB, MAX_MODEL_LEN, RESERVED_GIB,
                                    VLLM_MARGIN, VLLM_MAX_UTILIZATION, ace_activations, allocator_reserve,
                                    flux_activations, kokoro_activations, qwen35_moe_params, vllm_needs, wan_activations)

FORMULAS = {"Qwen3_5MoeForCausalLM": qwen35_moe_params}  # for installs that lack the class

STAGES = ("director", "image", "video", "critic", "music", "voice")
CONFIG_OF = {"critic": "director"}  # the critic shares the director's checkpoint (with its vision tower)


def load_config(stage: str) -> dict:
    """configs/models/<stage>.json through the one table loader (checked against its schema); a copy."""
    import copy

    from reel import prompts

    return copy.deepcopy(prompts.table(f"models/{CONFIG_OF.get(stage, stage)}.json"))


def _instantiate(component: dict):
    """The component's real class at full size on the meta device (no memory is allocated)."""
    import importlib

    import torch

    library = importlib.import_module(component.get("module", component["library"]))
    cls = getattr(library, component["class"])
    with torch.device("meta"):
        if component["library"] == "transformers":
            import transformers

            config = getattr(transformers, component["config_class"])(**component["config"])
            return cls._from_config(config)
        if component["library"] == "kokoro":  # KModel reads its weights from a file: give it none
            with tempfile.TemporaryDirectory() as tmp:
                empty = Path(tmp, "empty.pth")
                torch.save({}, empty)
                return cls(repo_id="hexgrad/Kokoro-82M", config=component["config"], model=str(empty))
        return cls(**component["config"])


use_cache = True  # `reel bench memory` turns it off: it always builds the models


@functools.cache
def count(stage: str, name: str) -> tuple[int, int]:
    """(parameters, parameters FP8 can store in one byte) of one component, from its meta model.
    FP8 covers matrix weights (Linear and fused expert tensors), not embeddings, norms, biases or the head.
    Kept in ~/.cache/reel/param_counts.json (beside the GPU lock) by the component's config digest: building the 35B MoE on
    the meta device takes ~15 s, and every flow-run process plans."""
    import hashlib

    component = load_config(stage)["components"][name]
    digest = hashlib.sha256(json.dumps(component, sort_keys=True).encode()).hexdigest()[:16]
    from reel.settings import get_settings

    cache = get_settings().gpu_lock.parent / "param_counts.json"  # reel's cache folder
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if digest in known and use_cache:
        return tuple(known[digest])
    counted = _count(component)
    known[digest] = counted
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known), encoding="utf-8")
        tmp.replace(cache)  # atomic: concurrent processes never read half a file
    except OSError:
        pass  # a read-only home: count again next time
    return counted




def source(component: dict) -> str:
    """How a component is counted here: "meta" (its class built on the meta device) or "formula"."""
    import importlib

    try:
        getattr(importlib.import_module(component.get("module", component["library"])), component["class"])
        return "meta"
    except (ImportError, AttributeError):
        return "formula" if component["class"] in FORMULAS else "missing"


def _count(component: dict) -> tuple[int, int]:
    import torch

    how = source(component)
    if how == "formula":
        return FORMULAS[component["class"]](component["config"])
    if how == "missing":
        from reel.errors import UserError

        raise UserError(f"{component['library']} here has no {component['class']}; install the GPU stack "
                        "(`pip install -e .[gpu-test]` on CPU) to count it")
    model = _instantiate(component)
    keep = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    head = getattr(model, "lm_head", None)
    if head is not None:
        keep.add(id(head.weight))
    total = matrix = 0
    for p in model.parameters():
        total += p.numel()
        if p.dim() >= 2 and id(p) not in keep:
            matrix += p.numel()
    return total, matrix


@dataclass
class Component:
    name: str
    params: int
    matrix: int
    fp32: bool = False  # kept in float32 (diffusers recommends the Wan VAE in fp32)

    def gib(self, fp8: bool) -> float:
        if self.fp32:
            return self.params * 4 / GIB
        if fp8:
            return (self.matrix + 2 * (self.params - self.matrix)) / GIB
        return self.params * 2 / GIB


@dataclass
class Stage:
    name: str
    model: str
    runtime: str  # vllm | diffusers | kokoro
    components: list[Component]
    activations_gib: float  # estimated peak on top of the weights, at the preset's sizes
    activations_note: str = ""
    # What the caching allocator holds beyond weights and activations at the peak (0 for vLLM: its
    # gpu_memory_utilization bounds the whole process, and it sizes its KV cache from what is left).
    reserve_gib: float = 0.0
    # decided by the plan for a card:
    mode: str = ""  # resident | offload | does not fit
    fp8: bool = False
    peak_gib: float = 0.0  # reserved while it runs: weights on the card + activations + allocator reserve
    why: str = ""  # why a cheaper mode was passed over (one line), "" when the first one fitted
    resident_gib: float = 0.0  # while it is loaded and idle (what it costs the next model)
    vllm: dict = field(default_factory=dict)

    def weights_gib(self, fp8: bool = False) -> float:
        return sum(c.gib(fp8) for c in self.components)

    @property
    def allocated_gib(self) -> float:
        """The peak of tensors alive (what torch.cuda.max_memory_allocated measures)."""
        return self.peak_gib - self.reserve_gib


def _stage_components(stage: str) -> list[Component]:
    spec = load_config(stage)["components"]
    out = []
    for name, comp in spec.items():
        if stage == "director" and comp.get("vision_only"):
            continue  # the director runs language-model-only: no vision tower is loaded
        params, matrix = count(stage, name)
        out.append(Component(name, params, matrix, comp.get("fp32", False)))
    return out


# ---------------------------------------------------------------- the plan for a card


@dataclass
class Plan:
    gpu_gib: float | None  # None: no GPU found (every heavy model swaps)
    stages: dict[str, Stage]
    together: list[tuple[str, str]]

    @property
    def usable_gib(self) -> float:
        return max(0.0, (self.gpu_gib or 0.0) - RESERVED_GIB)

    def stage(self, role: str) -> Stage:
        return self.stages[role]


def build_stage(stage: str, size: tuple[int, int] = (832, 480), frames: int = 81, fps: int = 16,
                master: tuple[int, int] = (1280, 704), shots: int = 6, max_model_len: int = 0,
                max_num_seqs: int = 0, max_images: int = 0) -> Stage:
    cfg = load_config(stage)
    comps = _stage_components(stage)
    if cfg["runtime"] == "vllm":
        seqs = max_num_seqs or (CRITIC_SEQS if stage == "critic" else 1)
        images = max_images or (CRITIC_IMAGES if stage == "critic" else 0)
        act, note = vllm_needs(stage, cfg, max_model_len or MAX_MODEL_LEN, seqs, images)
        s = Stage(stage, cfg["model"], "vllm", comps, act, note)
        s.vllm = {"max_model_len": max_model_len or MAX_MODEL_LEN, "max_num_seqs": seqs,
                  "limit_mm_per_prompt": {"image": images} if stage == "critic" else {"image": 0}}
        return s
    if stage == "video":
        act, note = wan_activations(cfg, *size, frames)
    elif stage == "image":
        act, note = flux_activations(cfg, *master)
    elif stage == "music":
        act, note = ace_activations(cfg, shots * frames / fps)
    else:
        act, note = kokoro_activations(cfg)
    return Stage(stage, cfg["model"], cfg["runtime"], comps, act, note, reserve_gib=allocator_reserve(act))


def decide(s: Stage, gpu_gib: float | None, quantize: str = "auto", offload: str = "auto",
           utilization: float = 0.0) -> Stage:
    """Pick the first mode that fits the card: bf16 resident, then (diffusers) model CPU offload in
    bf16, then FP8 weights; vLLM: bf16 if its share stays under VLLM_MAX_UTILIZATION, else FP8.
    quantize ("auto" | "bf16" | "fp8") and offload ("auto" | "off" | "model") force a choice."""
    usable = max(0.0, (gpu_gib or 0.0) - RESERVED_GIB)
    fp8_choices = {"auto": (False, True), "bf16": (False,), "fp8": (True,)}[quantize]
    if s.runtime == "vllm":
        for fp8 in fp8_choices:
            need = s.weights_gib(fp8) + s.activations_gib
            share = utilization or (math.ceil(need * VLLM_MARGIN / gpu_gib * 100) / 100 if gpu_gib else 0.0)
            if gpu_gib and (utilization or share <= VLLM_MAX_UTILIZATION) and need <= share * gpu_gib + 1e-9:
                s.mode, s.fp8, s.peak_gib = "resident", fp8, share * gpu_gib
                s.resident_gib, s.vllm["gpu_memory_utilization"] = s.peak_gib, share
                return s
        s.mode, s.fp8 = "does not fit", fp8_choices[-1]
        s.peak_gib = s.resident_gib = s.weights_gib(s.fp8) + s.activations_gib
        s.vllm["gpu_memory_utilization"] = VLLM_MAX_UTILIZATION
        return s
    modes = {"auto": ("resident", "offload"), "off": ("resident",), "model": ("offload",)}[offload]
    passed_over = []
    for fp8 in fp8_choices:
        for mode in modes:
            weights = s.weights_gib(fp8) if mode == "resident" else max(c.gib(fp8) for c in s.components)
            peak = weights + s.activations_gib + s.reserve_gib
            if peak <= usable:
                s.mode, s.fp8, s.peak_gib = mode, fp8, peak
                s.resident_gib = s.weights_gib(fp8) if mode == "resident" else 0.0  # offloaded models idle in CPU RAM
                s.why = "; ".join(passed_over)
                return s
            passed_over.append(_passed_over(s, mode, fp8, weights, usable))
    s.mode, s.fp8 = "does not fit", fp8_choices[-1]
    s.peak_gib = max(c.gib(s.fp8) for c in s.components) + s.activations_gib + s.reserve_gib
    s.resident_gib = 0.0
    s.why = "; ".join(passed_over)
    return s


def _passed_over(s: Stage, mode: str, fp8: bool, weights: float, usable: float) -> str:
    """One line: what a mode would hold at its peak, against the usable memory, and whether the
    allocator's reserve is what tipped it over."""
    total = weights + s.activations_gib + s.reserve_gib
    line = (f"{mode} {'fp8' if fp8 else 'bf16'} needs {weights:.1f} GiB weights + {s.activations_gib:.1f} activations"
            f" + {s.reserve_gib:.1f} allocator reserve = {total:.1f} > {usable:.1f} usable")
    if weights + s.activations_gib <= usable:
        line += " (fits without the reserve the allocator keeps)"
    return line


def fits_together(plan_stages: dict[str, Stage], usable: float) -> list[tuple[str, str]]:
    """Pairs that may stay loaded at once: both idle footprints plus the larger running peak fit."""
    names = [n for n in STAGES if n in plan_stages and plan_stages[n].mode != "does not fit"]
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sa, sb = plan_stages[a], plan_stages[b]
            if {a, b} == {"director", "critic"}:
                continue  # one checkpoint: the critic's engine replaces the director's
            if max(sa.resident_gib + sb.peak_gib, sb.resident_gib + sa.peak_gib) <= usable:
                pairs.append((a, b))
    return pairs


def plan_for(gpu_gib: float | None, stages: tuple[str, ...] = STAGES, quantize: str = "auto", offload: str = "auto",
             utilization: float = 0.0, **sizes) -> Plan:
    built = {s: decide(build_stage(s, **sizes), gpu_gib, quantize, offload, utilization) for s in stages}
    llm = [built[s] for s in ("director", "critic") if s in built]
    if len(llm) == 2 and llm[0].fp8 != llm[1].fp8:  # one checkpoint, one precision: the critic's needs decide
        built["director"] = decide(build_stage("director", **sizes), gpu_gib, "fp8", offload, utilization)
    return Plan(gpu_gib, built, fits_together(built, max(0.0, (gpu_gib or 0.0) - RESERVED_GIB)))


# ---------------------------------------------------------------- the card found


def card_gib(device: str = "cuda:0") -> float | None:
    """Total memory of the card behind `device` (REEL_GPU_GB wins), or None without CUDA."""
    from reel.settings import get_settings

    if get_settings().gpu_gb:
        return float(get_settings().gpu_gb)
    total = _mem_get_info(device)
    return total[1] / GIB if total else None


def free_gib(device: str) -> float | None:
    """Free memory on the card now (every process counted), or None without CUDA."""
    info = _mem_get_info(device)
    return info[0] / GIB if info else None


def _mem_get_info(device: str) -> tuple[int, int] | None:
    import sys

    if not device.startswith("cuda") or "torch" not in sys.modules and not _torch_importable():
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.mem_get_info(torch.device(device))


def _torch_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None
