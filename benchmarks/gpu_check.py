"""GPU check: the whole stack at real size with random weights, on one card.

By default every model runs through its own backend, vLLM included (benchmarks/gpu_stack.py). With
`--pipelines`, the diffusers pipelines alone, as below.

No weights and no network: each component is built from the real config shipped in
configs/models/{video,image}.json directly on the GPU in bf16 (the Wan VAE in fp32, as diffusers
recommends), and a byte-level tokenizer stands in for the checkpoints' (token ids only pick
embedding rows; the sequence lengths the pipelines pad to are the real ones). Measured, one row each:

- umT5-XXL encoding the prompt and the negative prompt (then freed, as the model host would);
- WanImageToVideoPipeline, Wan2.2-I2V-A14B (both 14B experts, boundary 0.9), 832x480, 81 frames,
  2 and 4 steps, with and without diffusers' First-Block Cache on both experts (denoising only),
  then the VAE decode of the 81 frames;
- the turbo preset's two renders side by side, same frames and size: the default preset's full
  steps (24, b-roll) with CFG and FBCache 0.08, against a step-distilled first attempt (4 steps,
  no CFG, no cache) with random rank-64 LoRAs on both experts, as lightx2v's distill LoRAs sit;
- Flux2KleinPipeline, FLUX.2 [klein] 4B, a 1280x704 keyframe edited from one reference, 4 steps;
- the free memory after each model is unloaded.

Per row: wall seconds, peak GPU memory allocated, free memory after, and for Wan how many expert
forwards really ran all their blocks (random weights rarely let the cache skip: the figure is what
the cache costs and how often it fired, not the speed-up on the real checkpoint).

    python -m benchmarks.gpu_check                 # the whole stack; target under 8 min (not yet run on a card)
    python -m benchmarks.gpu_check --pipelines     # the pipeline rows below
    python -m benchmarks.gpu_check --tiny          # the same code on CPU with tiny configs (tests)
"""

from __future__ import annotations

import argparse
import gc
import time
from dataclasses import dataclass

from benchmarks.offline_tokenizer import byte_tokenizer

GIB = 1024**3
PROMPT = "Slow dolly in. A violinist plays on a Paris bridge at dusk, warm street lamps. shot on Arri Alexa"
NEGATIVE = "blurry, static, distorted hands, text, watermark"
FBCACHE = 0.08  # the default preset's threshold
# The modules lightx2v's Wan2.2 distill LoRAs cover (every attention projection and feed-forward
# layer of each block): diffusers' names, and the original Wan layout's names in their files.
LORA_MODULES = {"attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v",
                "attn1.to_out.0": "self_attn.o", "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k",
                "attn2.to_v": "cross_attn.v", "attn2.to_out.0": "cross_attn.o", "ffn.net.0.proj": "ffn.0",
                "ffn.net.2": "ffn.2"}
# Wan2.2-I2V-A14B-Diffusers model_index.json and scheduler/scheduler_config.json.
WAN_BOUNDARY = 0.9
WAN_SCHEDULER = {"prediction_type": "flow_prediction", "use_flow_sigmas": True, "flow_shift": 5.0,
                 "solver_order": 2, "num_train_timesteps": 1000}
WAN_TEXT_LEN = 512  # the pipeline pads the prompt to 512 umT5 tokens

# Tiny mode: the same components with a few layers and channels (constraints as in tests/tiny_models.py).
TINY = {
    "video": {
        "transformer": {"num_attention_heads": 2, "attention_head_dim": 12, "text_dim": 32, "freq_dim": 32,
                        "ffn_dim": 32, "num_layers": 2},
        "text_encoder": {"d_model": 32, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_heads": 4, "vocab_size": 264,
                         "relative_attention_num_buckets": 8, "relative_attention_max_distance": 16},
        "vae": {"base_dim": 3, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1},
    },
    "image": {
        "transformer": {"in_channels": 4, "num_layers": 1, "num_single_layers": 1, "attention_head_dim": 16,
                        "num_attention_heads": 2, "joint_attention_dim": 48, "timestep_guidance_channels": 32,
                        "axes_dims_rope": [4, 4, 4, 4]},
        "text_encoder": {"vocab_size": 264, "hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 27,
                         "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8,
                         "max_position_embeddings": 1024},
        "vae": {"latent_channels": 1, "block_out_channels": [4, 4, 4, 4], "layers_per_block": 1, "norm_num_groups": 1,
                "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
                "use_quant_conv": False, "use_post_quant_conv": False, "mid_block_add_attention": False},
    },
}
TINY["video"]["transformer_2"] = TINY["video"]["transformer"]
# turbo: (full steps, distilled steps, LoRA rank): the default preset's b-roll steps against
# reel.presets' turbo_steps, with lightx2v's rank-64 LoRAs.
REAL_SIZES = {"wan": (832, 480, 81), "flux": (1280, 704), "steps": (2, 4), "flux_steps": 4, "turbo": (24, 4, 64)}
TINY_SIZES = {"wan": (64, 32, 9), "flux": (64, 64), "steps": (2, 4), "flux_steps": 2, "turbo": (10, 4, 4)}

def component(stage: str, name: str, tiny: bool, device: str, dtype):
    """configs/models/<stage>.json's component `name`, built with random weights on `device` in `dtype`."""
    import importlib

    import torch

    from runtime import memory_plan

    spec = memory_plan.load_config(stage)["components"][name]
    config = {**spec["config"], **(TINY[stage].get(name, {}) if tiny else {})}
    library = importlib.import_module(spec.get("module", spec["library"]))
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):  # initialised where it runs: no CPU copy of 14B parameters
            if spec["library"] == "transformers":
                import transformers

                model = getattr(library, spec["class"])(getattr(transformers, spec["config_class"])(**config))
            else:
                model = getattr(library, spec["class"])(**config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval().requires_grad_(False)


@dataclass
class Row:
    what: str
    seconds: float
    peak_gib: float | None = None  # allocated (a vLLM row: the card's memory its worker held)
    free_gib: float | None = None
    note: str = ""
    reserved_gib: float | None = None  # what the caching allocator held at the peak
    plan_gib: float | None = None  # the memory plan's figures for this stage on this card
    plan_reserved_gib: float | None = None


class Meter:
    """Wall time and peak memory allocated of one block of work on the device (CUDA only)."""

    def __init__(self, device: str):
        import torch

        self.torch, self.device, self.cuda = torch, device, device.startswith("cuda")

    def free_gib(self) -> float | None:
        return self.torch.cuda.mem_get_info(self.device)[0] / GIB if self.cuda else None

    def measure(self, what: str, fn, note=lambda result: ""):
        if self.cuda:
            self.torch.cuda.synchronize(self.device)
            self.torch.cuda.reset_peak_memory_stats(self.device)
        start = time.perf_counter()
        result = fn()
        if self.cuda:
            self.torch.cuda.synchronize(self.device)
        seconds = time.perf_counter() - start
        peak = self.torch.cuda.max_memory_allocated(self.device) / GIB if self.cuda else None
        reserved = self.torch.cuda.max_memory_reserved(self.device) / GIB if self.cuda else None
        return result, Row(what, seconds, peak, self.free_gib(), note(result), reserved)

    def unloaded(self, backend, what: str) -> Row:
        """A backend's own unload (its hand-over), then the free memory the next model finds."""
        backend.unload()
        return self.freed(f"{what} unloaded")

    def freed(self, what: str) -> Row:
        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()
        return Row(what, 0.0, None, self.free_gib())


class BlockCount:
    """Expert forwards, and how many ran every block (the last block's feed-forward ran)."""

    def __init__(self, experts):
        self.calls = self.full = 0
        self.handles = []
        for expert in experts:
            self.handles.append(expert.register_forward_hook(self._call))
            self.handles.append(expert.blocks[-1].ffn.register_forward_hook(self._ran))

    def _call(self, *_):
        self.calls += 1

    def _ran(self, *_):
        self.full += 1

    def close(self) -> str:
        for h in self.handles:
            h.remove()
        return f"{self.full}/{self.calls} forwards ran all blocks"


def check_wan(meter: Meter, tiny: bool, device: str) -> list:
    import numpy as np
    import torch
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline
    from diffusers.hooks import FirstBlockCacheConfig
    from PIL import Image

    bf16 = torch.bfloat16  # in tiny mode too: the CPU runs the same dtypes as the card
    width, height, frames = (TINY_SIZES if tiny else REAL_SIZES)["wan"]
    rows = []

    def encode():
        encoder = component("video", "text_encoder", tiny, device, bf16)
        tokenizer = byte_tokenizer()
        embeds = []
        for text in (PROMPT, NEGATIVE):
            ids = tokenizer(text, padding="max_length", max_length=WAN_TEXT_LEN, truncation=True, return_tensors="pt",
                            return_attention_mask=True)
            with torch.no_grad():
                out = encoder(ids.input_ids.to(device), ids.attention_mask.to(device)).last_hidden_state
            embeds.append(out.to(bf16))
        del encoder
        return embeds

    (prompt_embeds, negative_embeds), row = meter.measure("umT5-XXL: build + encode prompt, negative", encode)
    rows += [row, meter.freed("umT5-XXL unloaded")]

    def build():
        experts = {name: component("video", name, tiny, device, bf16) for name in ("transformer", "transformer_2")}
        vae = component("video", "vae", tiny, device, torch.float32)  # fp32: diffusers' advice for the Wan VAE
        scheduler = UniPCMultistepScheduler(**WAN_SCHEDULER)
        pipe = WanImageToVideoPipeline(tokenizer=None, text_encoder=None, vae=vae, scheduler=scheduler,
                                       image_processor=None, image_encoder=None, boundary_ratio=WAN_BOUNDARY, **experts)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    pipe, row = meter.measure("Wan2.2 A14B: build (2 experts + VAE)", build)
    rows.append(row)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8))
    experts = [pipe.transformer, pipe.transformer_2]
    latents = None
    for steps in (TINY_SIZES if tiny else REAL_SIZES)["steps"]:
        for cache in (None, FBCACHE):
            for expert in experts:
                if cache is not None:
                    expert.enable_cache(FirstBlockCacheConfig(threshold=cache))
            counter = BlockCount(experts)

            def denoise():
                return pipe(image=image, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds,
                            height=height, width=width, num_frames=frames, num_inference_steps=steps,
                            guidance_scale=3.5, guidance_scale_2=3.5, output_type="latent",
                            generator=torch.Generator("cpu").manual_seed(0)).frames

            label = f"Wan2.2 A14B: {width}x{height}x{frames}, {steps} steps, FBCache {cache or 'off'}"
            latents, row = meter.measure(label, denoise)
            row.note = counter.close()
            rows.append(row)
            for expert in experts:
                if expert.is_cache_enabled:
                    expert.disable_cache()

    rows += check_turbo(meter, pipe, image, prompt_embeds, negative_embeds, tiny)

    def decode():
        vae = pipe.vae
        z = latents.to(vae.dtype)
        mean = torch.tensor(vae.config.latents_mean).view(1, vae.config.z_dim, 1, 1, 1).to(z.device, z.dtype)
        std = torch.tensor(vae.config.latents_std).view(1, vae.config.z_dim, 1, 1, 1).to(z.device, z.dtype)
        with torch.no_grad():
            return vae.decode(z * std + mean, return_dict=False)[0]

    video, row = meter.measure(f"Wan VAE (fp32): decode {frames} frames", decode)
    row.note = f"video {tuple(video.shape)}"
    rows.append(row)
    pipe = experts = latents = video = prompt_embeds = negative_embeds = None  # dropped: the memory goes back
    rows.append(meter.freed("Wan2.2 A14B unloaded"))
    return rows


def check_turbo(meter: Meter, pipe, image, prompt_embeds, negative_embeds, tiny: bool) -> list:
    """A full-step render with CFG and FBCache against a distilled one (LoRAs on, no CFG, no cache),
    same frames and size, and one line comparing them."""
    import torch
    from diffusers.hooks import FirstBlockCacheConfig
    from peft import LoraConfig

    sizes = TINY_SIZES if tiny else REAL_SIZES
    width, height, frames = sizes["wan"]
    full_steps, distilled_steps, rank = sizes["turbo"]
    experts = [pipe.transformer, pipe.transformer_2]

    def render(label: str, steps: int, guidance: float) -> Row:
        counter = BlockCount(experts)
        _, row = meter.measure(label, lambda: pipe(
            image=image, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds if guidance > 1 else None,
            height=height, width=width, num_frames=frames, num_inference_steps=steps, guidance_scale=guidance,
            guidance_scale_2=guidance, output_type="latent", generator=torch.Generator("cpu").manual_seed(0)).frames)
        row.note = counter.close()
        return row

    for expert in experts:
        expert.enable_cache(FirstBlockCacheConfig(threshold=FBCACHE))
    full = render(f"turbo check: full {full_steps} steps, CFG 3.5, FBCache {FBCACHE}", full_steps, 3.5)
    for expert in experts:
        expert.disable_cache()
        torch.manual_seed(1)
        expert.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                      target_modules=list(LORA_MODULES)))
    distilled = render(f"turbo check: distilled {distilled_steps} steps, no CFG, LoRA r{rank}, no cache",
                       distilled_steps, 1.0)
    for expert in experts:
        expert.unload_lora()
    peak = ("" if full.peak_gib is None else
            f", peak {distilled.peak_gib:.1f} vs {full.peak_gib:.1f} GiB")
    summary = Row("turbo check: distilled vs full", 0.0, note=f"{distilled.seconds:.1f} s vs {full.seconds:.1f} s "
                  f"({full.seconds / distilled.seconds:.1f}x){peak}, {width}x{height}x{frames} both")
    return [full, distilled, summary]


def check_flux(meter: Meter, tiny: bool, device: str) -> list:
    import numpy as np
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline
    from PIL import Image

    bf16 = torch.bfloat16
    sizes = TINY_SIZES if tiny else REAL_SIZES
    width, height = sizes["flux"]

    def build():
        parts = {name: component("image", name, tiny, device, bf16) for name in ("transformer", "text_encoder", "vae")}
        pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), tokenizer=byte_tokenizer(True),
                                  is_distilled=True, **parts)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    pipe, build_row = meter.measure("FLUX.2 klein 4B: build", build)
    reference = Image.fromarray(np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8))

    def keyframe():
        return pipe(prompt=PROMPT, image=[reference], height=height, width=width, num_inference_steps=sizes["flux_steps"],
                    guidance_scale=1.0, generator=torch.Generator("cpu").manual_seed(0), output_type="np").images

    images, row = meter.measure(f"FLUX.2 klein 4B: keyframe {width}x{height} from 1 reference, "
                                f"{sizes['flux_steps']} steps", keyframe)
    row.note = f"image {tuple(images.shape)}"
    pipe = images = None
    return [build_row, row, meter.freed("FLUX.2 klein unloaded")]


def table(rows: list, device_name: str) -> str:
    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    head = (f"GPU check on {device_name} (GiB; plan: the memory plan's allocated / reserved peak for the stage; "
            "a vLLM row: the card's memory the worker held, against its share)\n")
    lines = [f"{'what':<66} {'seconds':>8} {'peak':>6} {'reserved':>8} {'plan':>6} {'plan res':>8} {'free':>6}  note",
             "-" * 130]
    lines += [f"{r.what:<66} {num(r.seconds or None, '8.1f'):>8} {num(r.peak_gib, '6.1f'):>6} "
              f"{num(r.reserved_gib, '8.1f'):>8} {num(r.plan_gib, '6.1f'):>6} {num(r.plan_reserved_gib, '8.1f'):>8} "
              f"{num(r.free_gib, '6.1f'):>6}  {r.note}" for r in rows]
    return head + "\n".join(lines)


def run(tiny: bool = False, device: str = "cuda:0", pipelines: bool = False) -> tuple[list, str]:
    import torch

    if not tiny and not (device.startswith("cuda") and torch.cuda.is_available()):
        from reel.errors import UserError

        raise UserError(f"the GPU check needs a CUDA or ROCm card ({device} is not available); "
                        "`--tiny` runs the same code on the CPU")
    if tiny:
        device = "cpu"
    torch.manual_seed(0)
    meter = Meter(device)
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU (tiny configs)"
    rows = [Row("start", 0.0, None, meter.free_gib())]
    if pipelines:
        rows += check_wan(meter, tiny, device)
        rows += check_flux(meter, tiny, device)
        return rows, name
    from benchmarks.gpu_stack import run_stack

    card = torch.cuda.get_device_properties(device).total_memory / GIB if device.startswith("cuda") else None
    rows += run_stack(meter, tiny, device, card)
    return rows, name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs on the CPU (checks the code, not the card)")
    parser.add_argument("--pipelines", action="store_true",
                        help="the diffusers pipelines alone: Wan steps with and without FBCache, the turbo comparison, FLUX.2")
    parser.add_argument("--device", default="cuda:0")
    args = parser.parse_args(argv)
    from reel.env import configure
    from reel.errors import UserError

    configure()
    try:
        rows, name = run(args.tiny, args.device, args.pipelines)
    except UserError as exc:
        parser.exit(2, f"gpu_check: {exc}\n")
    print(table(rows, name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
