"""Formulas of the memory plan (runtime/memory_plan.py): what a component of the stack holds beyond its
weights at a preset's sizes (activations, vLLM's KV cache and profile run), and parameter counts from
a config where the installed library lacks the class. Every figure is an estimate from the real
config and the preset's sizes; benchmarks/gpu_check.py measures the real peaks on a card.
"""

from __future__ import annotations

GIB = 1024**3
# What a card cannot give a model: the CUDA context, cuBLAS workspaces and allocator fragmentation.
RESERVED_GIB = 1.5
# vLLM's own default ceiling; above it PyTorch fragmentation and a second CUDA context can OOM it.
VLLM_MAX_UTILIZATION = 0.90
# Our estimate of vLLM's profile run may be short of vLLM's own; a short share fails at start-up.
VLLM_MARGIN = 1.1
VLLM_OVERHEAD_GIB = 2.0  # CUDA graphs, sampler and NCCL buffers outside the profiled forward
VLLM_BATCHED_TOKENS = 8192  # vLLM's profile run: one chunked-prefill batch of dummy tokens
CRITIC_SEQS = 8  # the shots of a reel ask in parallel (6 by default)
MAX_MODEL_LEN = 32768
# The critic's question: 4 frames of the clip + the portraits of the shot's characters (tasks/critique.py).
CRITIC_IMAGES = 8
# vLLM profiles the vision tower on worst-case images: the processor's largest (16384 merged tokens,
# 32x32 pixels each, Qwen3-VL's longest_edge), as many as limit_mm_per_prompt allows in max_model_len.
VISION_WORST_TOKENS = 16384

# What the caching allocator keeps reserved beyond the tensors alive at a stage's peak: the freed
# activation blocks of one step stay cached for the next, and blocks split for smaller requests
# fragment. Measured once, by StudioMI300 on its MI300X (seeds 000, "VRAM per phase": "the ROCm
# allocator caches ~30 GB on top of any active model", for Wan2.2-A14B at 1280x704, 121 frames, with
# expandable segments on). Our activation estimate for that render (wan_activations) is 19.5 GiB; the
# 30 GB (27.9 GiB) on top of it is 1.43 times that, so a stage reserves 1.43x its activation estimate
# beyond them. One measurement on one card: benchmarks/gpu_check.py prints the measured reserved peak
# beside the plan's figure for every stage, and this is the number to correct from its table.
SEED_WAN_CACHED_GIB = 30e9 / 1024**3
SEED_WAN_RENDER = (1280, 704, 121)


def allocator_reserve(activations_gib: float) -> float:
    """GiB the caching allocator holds on top of a stage's weights and activations at its peak."""
    return activations_gib * reserve_ratio()


def reserve_ratio() -> float:
    """The seed's cached GiB over our activation estimate of the render it measured (see above)."""
    from reel import prompts

    cfg = prompts.table("models/video.json")
    return SEED_WAN_CACHED_GIB / wan_activations(cfg, *SEED_WAN_RENDER)[0]


def qwen35_moe_params(c: dict) -> tuple[int, int]:
    """Qwen3.5-MoE's language model counted from its config (equal to the meta-device count with
    transformers 5.23): for an install whose transformers predates the class."""
    h, vocab, layers = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"]
    full = layers // c["full_attention_interval"]
    hd, nk, nv = c["head_dim"], c["linear_num_key_heads"], c["linear_num_value_heads"]
    dk, dv = c["linear_key_head_dim"], c["linear_value_head_dim"]
    experts, shared = c["num_experts"], c["shared_expert_intermediate_size"]
    moe = h * experts + experts * 3 * h * c["moe_intermediate_size"] + 3 * h * shared + h  # router, experts, shared
    q = c["num_attention_heads"] * hd
    attention = h * q * 2 + 2 * h * c["num_key_value_heads"] * hd + q * h + 2 * hd  # q doubles for the output gate
    conv = 2 * nk * dk + nv * dv
    delta = h * (2 * nk * dk + 2 * nv * dv) + h * 2 * nv + conv * c["linear_conv_kernel_dim"] + 2 * nv + dv + nv * dv * h
    total = 2 * vocab * h + layers * (2 * h + moe) + full * attention + (layers - full) * delta + h
    norms = layers * 2 * h + h + full * 2 * hd + (layers - full) * (2 * nv + dv)
    return total, total - 2 * vocab * h - norms  # FP8 leaves the embeddings, the head and the norms


# ---------------------------------------------------------------- activation estimates (formulas)


def vllm_needs(stage: str, cfg: dict, max_model_len: int, max_num_seqs: int, max_images: int) -> tuple[float, str]:
    """KV cache + linear-attention state for max_num_seqs full sequences, the profile run's activations,
    and the vision encoder's profile for `max_images` worst-case images (the critic)."""
    text = cfg["components"]["language_model"]["config"]
    layers, interval = text["num_hidden_layers"], text["full_attention_interval"]
    full, linear = layers // interval, layers - layers // interval
    kv_per_token = full * 2 * text["num_key_value_heads"] * text["head_dim"] * 2  # bf16 K and V
    state = linear * text["linear_num_value_heads"] * text["linear_key_head_dim"] * text["linear_value_head_dim"] * 4
    kv = max_num_seqs * (max_model_len * kv_per_token + state)
    t, h = VLLM_BATCHED_TOKENS, text["hidden_size"]
    moe = 3 * t * text["num_experts_per_tok"] * 2 * text["moe_intermediate_size"] * 2  # fused-MoE caches
    act = t * h * 2 * 16 + moe + max_num_seqs * text["vocab_size"] * 4  # hidden states, fp32 logits
    vision = 0.0
    if stage == "critic" and max_images:
        v = cfg["components"]["vision_tower"]["config"]
        merge = v["spatial_merge_size"] ** 2
        patches = merge * min(max_images * VISION_WORST_TOKENS, max_model_len)
        per_patch = (5 * v["hidden_size"] + v["intermediate_size"]) * 2
        vision = patches * per_patch + min(max_images * VISION_WORST_TOKENS, max_model_len) * h * 2
    note = (f"KV {kv / GIB:.1f} GiB for {max_num_seqs}x{max_model_len} tokens ({full} full-attention layers), "
            f"profile {act / GIB:.1f} GiB" + (f", vision {vision / GIB:.1f} GiB for {max_images} images" if vision else ""))
    # The CUDA context is inside vLLM's share too: gpu_memory_utilization bounds the whole process.
    return (kv + act + vision) / GIB + VLLM_OVERHEAD_GIB + RESERVED_GIB, note


def wan_activations(cfg: dict, width: int, height: int, frames: int) -> tuple[float, str]:
    """One expert's forward on every latent token (CFG runs the two passes one after the other) plus
    the VAE decode in fp32 (four-frame causal chunks at full resolution, ~8 live feature maps)."""
    t = cfg["components"]["transformer"]["config"]
    v = cfg["components"]["vae"]["config"]
    latent_frames = (frames - 1) // 4 + 1
    tokens = latent_frames * (height // 16) * (width // 16)
    d = t["num_attention_heads"] * t["attention_head_dim"]
    dit = tokens * (5 * d + t["ffn_dim"]) * 2
    vae = 4 * width * height * v["base_dim"] * 4 * 8 + frames * 3 * width * height * 4
    return (dit + vae) / GIB, f"{tokens} latent tokens at {width}x{height}x{frames}; VAE decode {vae / GIB:.1f} GiB"


def flux_activations(cfg: dict, width: int, height: int) -> tuple[float, str]:
    t = cfg["components"]["transformer"]["config"]
    v = cfg["components"]["vae"]["config"]
    tokens = (width // 16) * (height // 16) + 512  # image tokens (8x VAE, 2x2 patches) + text
    d = t["num_attention_heads"] * t["attention_head_dim"]
    dit = tokens * (5 * d + 2 * int(t["mlp_ratio"] * d)) * 2
    vae = width * height * v["block_out_channels"][0] * 2 * 4
    return (dit + vae) / GIB, f"{tokens} tokens at {width}x{height}; VAE decode {vae / GIB:.1f} GiB"


def ace_activations(cfg: dict, seconds: float) -> tuple[float, str]:
    v = cfg["components"]["vae"]["config"]
    samples = int(seconds * v["sampling_rate"])
    vae = samples * v["audio_channels"] * v["decoder_channels"] * 2 * 4
    return vae / GIB + 0.5, f"{seconds:.0f} s at {v['sampling_rate']} Hz; VAE decode {vae / GIB:.1f} GiB"


def kokoro_activations(cfg: dict) -> tuple[float, str]:
    k = cfg["components"]["kmodel"]["config"]
    samples = 20 * 24000  # the longest narration line, ~20 s at 24 kHz
    act = samples * k["istftnet"]["upsample_initial_channel"] // 4 * 4 * 4
    return act / GIB + 0.2, "one ~20 s line at 24 kHz"
