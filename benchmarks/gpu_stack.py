"""The GPU check's whole stack: every model through its own backend, at real size, random weights.

The order is a reel's: director (vLLM), FLUX.2 klein keyframe, Wan2.2-A14B renders, critic (vLLM),
ACE-Step music, Kokoro narration. Each model is built from configs/models/<stage>.json with random
weights (no checkpoint to read, so the one step of a backend's load() skipped is from_pretrained);
it is placed on the card as this card's memory plan says (accel.place: resident or offloaded, bf16 or
FP8) and then runs through the backend's own method: VllmDirector.complete, Flux2KleinImage.keyframe,
Wan22Video.render, VllmCritic.ask, AceStepMusic.compose, KokoroVoice.speak. Per row the peak
allocated and reserved memory stand beside the plan's figures for that stage, and after each
hand-over the free memory of the card.

vLLM runs in the project's worker process with the real Qwen3.5-35B-A3B config and
load_format="dummy" (random weights at real size); its row is the card's memory in use, sampled while
it runs, against the plan's share. With `--tiny` on a CPU the same code runs with tiny configs; vLLM
cannot start an engine there, so its LLM class is the one stand-in (STANDIN, with the reason).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from benchmarks.gpu_check import (NEGATIVE, PROMPT, TINY, TINY_SIZES, WAN_BOUNDARY, WAN_SCHEDULER, Meter, Row,
                                  component)
from benchmarks.gpu_vllm import check_critic, check_director, llm_folder, vllm_engine
from benchmarks.offline_tokenizer import byte_tokenizer

TINY_CARD_GIB = 192.0
NARRATION = "La ciudad despierta despacio bajo la lluvia."  # Spanish: espeak-ng, no extra download
# FBCache runs on schedules longer than a step-distilled one (models/gpu/fbcache.py): 10 steps, and the
# compiled run 10 too (its first steps pay the compile; the cache is on in both).
REAL = {"wan": (832, 480, 81), "steps": 10, "compiled_steps": 10, "flux": (1280, 704), "music_s": 30.0,
        "max_tokens": 256}
TINY_RUN = {"wan": TINY_SIZES["wan"], "steps": 10, "compiled_steps": 10, "flux": (64, 64), "music_s": 2.0,
            "max_tokens": 16}
TINY.update({
    # as tests/tiny_models.py's build_tiny_acestep (its constraints are noted there)
    "music": {"transformer": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                              "num_key_value_heads": 2, "head_dim": 8, "in_channels": 24, "audio_acoustic_hidden_dim": 8,
                              "sliding_window": 16},
              "condition_encoder": {"hidden_size": 32, "intermediate_size": 64, "text_hidden_dim": 16, "timbre_hidden_dim": 8,
                                    "num_lyric_encoder_hidden_layers": 1, "num_timbre_encoder_hidden_layers": 1,
                                    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8},
              "text_encoder": {"vocab_size": 264, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                               "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8},
              "vae": {"encoder_hidden_size": 4, "downsampling_ratios": [4, 8], "decoder_channels": 4,
                      "decoder_input_channels": 8, "channel_multiples": [1, 2], "sampling_rate": 800}},
    "voice": {"plbert": {"hidden_size": 128, "num_attention_heads": 2, "intermediate_size": 256,
                         "max_position_embeddings": 512, "num_hidden_layers": 2, "dropout": 0.1},
              "istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6], "gen_istft_hop_size": 5,
                           "gen_istft_n_fft": 20, "resblock_dilation_sizes": [[1, 3, 5]], "resblock_kernel_sizes": [3],
                           "upsample_initial_channel": 512},
              "n_layer": 1},
})

def _place(backend, pipe, stage, device: str, dtype):
    """The backend takes this card's plan for its stage and the random-weight pipeline in its place."""
    from models.gpu import accel

    backend.apply_plan(stage)
    backend.pipe = accel.place(pipe, device, backend.offload, backend.fp8, dtype)
    backend._loaded()
    return backend


def _build_at(backend_offload: bool, device: str) -> str:
    """Where to initialise a pipeline: on the card when it stays there, in CPU RAM when it is offloaded."""
    return "cpu" if backend_offload else device


def _against(row: Row, stage) -> Row:
    row.plan_gib, row.plan_reserved_gib = stage.allocated_gib, stage.peak_gib
    return row


# ---------------------------------------------------------------- diffusers and Kokoro backends


def check_image(meter: Meter, plan, tiny: bool, device: str, sizes: dict, tmp: Path, reference: Path) -> list:
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline

    from models.gpu.flux2_image import Flux2KleinImage

    backend, stage = Flux2KleinImage(device=device), plan.stage("image")
    backend.apply_plan(stage)
    at = _build_at(backend.offload, device)

    def build():
        parts = {n: component("image", n, tiny, at, torch.bfloat16) for n in ("transformer", "text_encoder", "vae")}
        pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), tokenizer=byte_tokenizer(True),
                                  is_distilled=True, **parts)
        return _place(backend, pipe, stage, device, torch.bfloat16)

    _, built = meter.measure(f"FLUX.2 klein 4B: build, {stage.mode}", build)
    out = tmp / "keyframe.png"
    width, height = sizes["flux"]
    _, row = meter.measure(f"FLUX.2 klein 4B: Flux2KleinImage.keyframe {width}x{height}, 1 reference",
                           lambda: backend.keyframe(None, _Shot(), [reference], 0, (width, height), out))
    row.note = f"{out.name} written" if out.is_file() else "no keyframe written"
    return [built, _against(row, stage), meter.unloaded(backend, "FLUX.2 klein")]


class _Shot:
    prompt = PROMPT  # all Flux2KleinImage.keyframe reads of a shot


def check_video(meter: Meter, plan, tiny: bool, device: str, sizes: dict, tmp: Path, keyframe: Path,
                end_frame: Path) -> list:
    import torch
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline

    from models.gpu.wan_video import Wan22Video
    from reel.schema import RenderKnobs

    width, height, frames = sizes["wan"]
    backend, stage = Wan22Video(device=device), plan.stage("video")
    backend.apply_plan(stage)
    at = _build_at(backend.offload, device)

    def build():
        bf16 = torch.bfloat16
        parts = {n: component("video", n, tiny, at, bf16) for n in ("transformer", "transformer_2", "text_encoder")}
        vae = component("video", "vae", tiny, at, torch.float32)  # as the backend loads it: configs say fp32
        pipe = WanImageToVideoPipeline(tokenizer=byte_tokenizer(), vae=vae, scheduler=UniPCMultistepScheduler(**WAN_SCHEDULER),
                                       image_processor=None, image_encoder=None, boundary_ratio=WAN_BOUNDARY, **parts)
        return _place(backend, pipe, stage, device, bf16)

    _, built = meter.measure(f"Wan2.2 A14B: build (2 experts, umT5, VAE fp32), {stage.mode}", build)
    rows = [built]
    for compiled, steps in ((False, sizes["steps"]), (True, sizes["compiled_steps"])):
        backend.compile_video = compiled
        knobs = RenderKnobs(seed=0, prompt=PROMPT, negative_prompt=NEGATIVE, frames=frames, fps=16, width=width,
                            height=height, steps=steps, flow_shift=5.0, guidance=3.5, guidance_2=3.5, fbcache=0.08)
        out = tmp / f"clip_{int(compiled)}.mp4"
        label = (f"Wan2.2 A14B: Wan22Video.render {width}x{height}x{frames}, {steps} steps, FLF2V"
                 + (", compiled transformer_2" if compiled else ""))
        _, row = meter.measure(label, lambda: backend.render(None, None, keyframe, end_frame, knobs, out))
        accel, cache = backend.last_accel, backend.last_accel.get("fbcache") or {}
        cached = (f"FBCache {cache['threshold']} on {cache['experts']} experts" if cache.get("threshold")
                  else f"FBCache {cache.get('note', 'off')}")
        row.note = (f"{cached}, compiled {accel.get('compiled') or 'nothing'}, "
                    f"VAE {str(backend.pipe.vae.dtype).removeprefix('torch.')}, {out.stat().st_size // 1024} KiB mp4")
        rows.append(_against(row, stage))
    return rows + [meter.unloaded(backend, "Wan2.2 A14B")]


def check_music(meter: Meter, plan, tiny: bool, device: str, sizes: dict, tmp: Path) -> list:
    import torch
    from diffusers import AceStepPipeline, FlowMatchEulerDiscreteScheduler

    from models.gpu.acestep_music import AceStepMusic

    backend, stage = AceStepMusic(device=device), plan.stage("music")
    backend.apply_plan(stage)
    at = _build_at(backend.offload, device)

    def build():
        parts = {n: component("music", n, tiny, at, torch.bfloat16)
                 for n in ("transformer", "condition_encoder", "text_encoder", "vae")}
        pipe = AceStepPipeline(tokenizer=byte_tokenizer(), scheduler=FlowMatchEulerDiscreteScheduler(
            num_train_timesteps=1, shift=1.0), **parts)
        return _place(backend, pipe, stage, device, torch.bfloat16)

    _, built = meter.measure(f"ACE-Step 1.5: build, {stage.mode}", build)
    out, seconds = tmp / "music.wav", sizes["music_s"]
    _, row = meter.measure(f"ACE-Step 1.5: AceStepMusic.compose {seconds:g} s",
                           lambda: backend.compose("ambient piano, 72 BPM, in D minor", seconds, 0, out))
    row.note = f"{out.stat().st_size // 1024} KiB wav"
    return [built, _against(row, stage), meter.unloaded(backend, "ACE-Step")]


def check_voice(meter: Meter, plan, tiny: bool, device: str, tmp: Path) -> list:
    import torch
    from kokoro import KModel

    from models.gpu.kokoro_voice import KokoroVoice, voice_name
    from runtime import memory_plan

    backend, stage = KokoroVoice(device=device), plan.stage("voice")
    config = {**memory_plan.load_config("voice")["components"]["kmodel"]["config"], **(TINY["voice"] if tiny else {}),
              "vocab": kokoro_vocab()}

    def build():
        folder = tmp / "kokoro"
        (folder / "voices").mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(config))
        torch.save({}, folder / "empty.pth")
        model = KModel(repo_id="hexgrad/Kokoro-82M", config=str(folder / "config.json"), model=str(folder / "empty.pth"))
        torch.save(torch.randn(510, 1, 256) * 0.1, folder / "voices" / f"{voice_name('e')}.pt")
        # Random weights predict ~25 frames (0.3 s) a phoneme; a zeroed duration head with a fixed bias gives
        # sigmoid(bias) x max_dur frames: 8 (100 ms, about speech) on a card, 2 on the CPU to stay quick.
        with torch.no_grad():
            model.predictor.duration_proj.linear_layer.weight.zero_()
            model.predictor.duration_proj.linear_layer.bias.fill_(-3.0 if tiny else -1.66)
        backend._kmodel, backend.folder = model.to(device).eval(), folder  # load() minus reading the .pth
        return backend

    _, built = meter.measure("Kokoro-82M: build", build)
    out = tmp / "line.wav"
    seconds, row = meter.measure("Kokoro-82M: KokoroVoice.speak, one Spanish line",
                                 lambda: backend.speak(NARRATION, "e", out))
    row.note = f"{seconds:.1f} s of speech"
    return [built, _against(row, stage), meter.unloaded(backend, "Kokoro")]


def kokoro_vocab() -> dict:
    """Kokoro's phoneme vocabulary: the IPA symbols misaki emits (configs/models/voice.json leaves it out)."""
    symbols = (";:,.!?¡¿—…\"«»“” abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "ɑɐɒæβɔɕçðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔˈˌːʰʲ↓↑→↗↘'ᵊᵻ")
    vocab: dict[str, int] = {}
    for ch in symbols:
        vocab.setdefault(ch, len(vocab) + 1)
    return vocab


# ---------------------------------------------------------------- the whole stack


def pictures(tmp: Path, width: int, height: int) -> dict:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    out = {}
    for name in ("keyframe", "end", "reference", "frame_0", "frame_1", "frame_2", "frame_3", "A", "B", "C"):
        out[name] = tmp / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(out[name])
    return out


def run_stack(meter: Meter, tiny: bool, device: str, card_gib: float | None) -> list:
    from runtime import memory_plan

    sizes = TINY_RUN if tiny else REAL
    width, height, frames = sizes["wan"]
    # On a CPU (tiny) the plan is a 192 GiB card's, so every model takes the resident bf16 path it takes there.
    plan = memory_plan.plan_for(card_gib or TINY_CARD_GIB, size=(width, height), frames=frames, master=sizes["flux"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="reel-gpu-check-") as tmp_name:
        tmp = Path(tmp_name)
        pics = pictures(tmp, width, height)
        folder = llm_folder(tmp / "qwen3.5", tiny)
        start = time.perf_counter()
        with vllm_engine(tiny):
            rows += check_director(meter, plan, folder, device, sizes)
        rows += check_image(meter, plan, tiny, device, sizes, tmp, pics["reference"])
        rows += check_video(meter, plan, tiny, device, sizes, tmp, pics["keyframe"], pics["end"])
        with vllm_engine(tiny):
            rows += check_critic(meter, plan, folder, device, sizes,
                                 [pics[f"frame_{i}"] for i in range(4)], [pics[k] for k in "ABC"])
        rows += check_music(meter, plan, tiny, device, sizes, tmp)
        rows += check_voice(meter, plan, tiny, device, tmp)
        rows.append(Row("whole stack", time.perf_counter() - start, note="target: under 480 s on one card"))
    return rows
