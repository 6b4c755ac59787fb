"""Tiny, randomly initialised diffusers pipelines built offline from configs, saved as folders.

Each builder assembles the real pipeline class (Flux2KleinPipeline, WanImageToVideoPipeline,
AceStepPipeline) from components a few layers deep and a few channels wide, saves it with
save_pretrained, and returns the folder, so a backend can be tested through its real
`from_pretrained(folder)` path on CPU in about a second. Nothing is downloaded: the tokenizer is
a byte-level BPE with no merges (every text tokenizes, one token per byte) built with the
`tokenizers` library. What each tiny config must satisfy is noted where it is built.

    from tests.tiny_models import build_tiny_flux2, build_tiny_wan, build_tiny_acestep
    build_tiny_wan(tmp / "wan")  # -> tmp / "wan", loadable by models.gpu.wan_video.Wan22Video

torch, diffusers and transformers are imported inside the builders.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.gpu_check import LORA_MODULES  # one home: the GPU check uses it too
from benchmarks.offline_tokenizer import SPECIAL_TOKENS, byte_tokenizer as tiny_tokenizer

VOCAB_SIZE = 256 + len(SPECIAL_TOKENS)
TEXT_VOCAB = 264  # text encoders' embedding rows: the tokenizer's vocabulary, rounded up


def build_tiny_flux2(path: str | Path) -> Path:
    """FLUX.2 [klein]: Flux2KleinPipeline with a 27-layer, 16-wide Qwen3 text encoder.

    The pipeline stacks the text encoder's hidden states 9, 18 and 27 (its default
    text_encoder_out_layers), so the encoder needs >= 27 layers and the transformer's
    joint_attention_dim is 3 x its hidden size. The VAE has 4 blocks like the real one
    (8x down, so sizes snap to multiples of 16); the transformer's in_channels is 4 x the VAE's
    latent channels (2x2 patches); axes_dims_rope sums to attention_head_dim.
    """
    import torch
    from diffusers import AutoencoderKLFlux2, FlowMatchEulerDiscreteScheduler, Flux2KleinPipeline, Flux2Transformer2DModel
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    hidden = 16
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=TEXT_VOCAB, hidden_size=hidden, intermediate_size=16, num_hidden_layers=27,
        num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=1024))
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * hidden, timestep_guidance_channels=32,
        axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False)
    vae = AutoencoderKLFlux2(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(4, 4, 4, 4), layers_per_block=1,
        latent_channels=1, norm_num_groups=1, sample_size=32, use_quant_conv=False, use_post_quant_conv=False,
        mid_block_add_attention=False)  # its attention over every latent pixel dominates at 1280x704
    pipe = Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=text_encoder,
                              tokenizer=tiny_tokenizer(chat_template=True), transformer=transformer,
                              is_distilled=True)
    return _save(pipe, path)


def build_tiny_wan(path: str | Path, ti2v: bool = False, seed: int = 0) -> Path:
    """Wan2.2: WanImageToVideoPipeline, A14B-style by default (transformer + transformer_2 +
    boundary_ratio, no CLIP image encoder), or TI2V-5B-style with ti2v=True (one transformer,
    expand_timesteps, the 48-channel VAE that patchifies 2x2 and downsamples 16x).

    A14B: the transformer takes latents + condition latents + 4 mask channels (16 + 16 + 4 = 36).
    text_dim equals the UMT5 encoder's d_model. The scheduler is the UniPC flow scheduler the real
    checkpoints ship, so the backend's per-call flow_shift is exercised.
    """
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=TEXT_VOCAB, d_model=32, d_kv=8, d_ff=32, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=16, pad_token_id=256,
        eos_token_id=258, decoder_start_token_id=256))
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    if ti2v:
        z = 48
        vae = AutoencoderKLWan(base_dim=3, z_dim=z, in_channels=12, out_channels=12, is_residual=True,
                               patch_size=2, latents_mean=[0.0] * z, latents_std=[1.0] * z, dim_mult=[1, 1, 1, 1],
                               num_res_blocks=1, scale_factor_spatial=16, scale_factor_temporal=4,
                               temperal_downsample=[False, True, True])
        extra = dict(transformer=_wan_transformer(z, z), transformer_2=None, boundary_ratio=None,
                     expand_timesteps=True)
    else:
        vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                               temperal_downsample=[False, True, True])
        extra = dict(transformer=_wan_transformer(36, 16), transformer_2=_wan_transformer(36, 16),
                     boundary_ratio=0.875)
    pipe = WanImageToVideoPipeline(tokenizer=tiny_tokenizer(), text_encoder=text_encoder, vae=vae,
                                   scheduler=scheduler, image_processor=None, image_encoder=None, **extra)
    return _save(pipe, path)


def _wan_transformer(in_channels: int, out_channels: int):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=in_channels,
        out_channels=out_channels, text_dim=32, freq_dim=32, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=1024)  # positions up to 1024 patches per axis, as the real one


def build_tiny_wan_loras(folder: str | Path, wan: str | Path, rank: int = 4) -> tuple[Path, Path]:
    """A high-noise and a low-noise LoRA for the tiny Wan2.2 in `wan` (build_tiny_wan), made with
    peft on its transformer's real modules (every attention projection and feed-forward layer, as
    lightx2v's distill LoRAs cover), random weights (B not zero, so the output changes), saved as
    safetensors in the original Wan layout with lora_down/lora_up/alpha keys, as the real files are."""
    import torch
    from diffusers import WanTransformer3DModel
    from peft import LoraConfig, get_peft_model_state_dict
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (expert, name) in enumerate((("transformer", "high_noise"), ("transformer_2", "low_noise"))):
        torch.manual_seed(100 + i)
        model = WanTransformer3DModel.from_pretrained(Path(wan) / expert)
        model.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                     target_modules=list(LORA_MODULES)))
        state = {}
        for key, tensor in get_peft_model_state_dict(model).items():  # blocks.0.attn1.to_q.lora_A.weight
            module, kind = key.rsplit(".lora_", 1)
            prefix, block, inner = module.split(".", 2)
            original = f"diffusion_model.{prefix}.{block}.{LORA_MODULES[inner]}"
            state[f"{original}.{'lora_down' if kind.startswith('A') else 'lora_up'}.weight"] = tensor.contiguous()
            state[f"{original}.alpha"] = torch.tensor(float(rank))
        paths.append(folder / f"wan2.2_tiny_{name}_lora_rank{rank}_4step.safetensors")
        save_file(state, paths[-1])
    return paths[0], paths[1]


ACE_SAMPLE_RATE = 800  # tiny audio: 800 Hz, 32x down -> 25 latents per second like the real VAE


def build_tiny_acestep(path: str | Path) -> Path:
    """ACE-Step 1.5: AceStepPipeline with a tiny Qwen3 text encoder (a base model: the pipeline
    reads last_hidden_state), condition encoder, DiT and a stereo Oobleck VAE.

    The condition encoder's text_hidden_dim equals the text encoder's hidden size and its
    timbre_hidden_dim equals the DiT's audio_acoustic_hidden_dim (its silence_latent feeds the
    timbre encoder); the DiT's in_channels = acoustic dim x 3 (noisy latents + context latents +
    chunk mask); the VAE's decoder_input_channels = the acoustic dim. The pipeline derives its
    sample rate and latent rate from the VAE config (sampling_rate / prod(downsampling_ratios)).
    """
    import torch
    from diffusers import AceStepPipeline, AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import AceStepConditionEncoder
    from transformers import Qwen3Config, Qwen3Model

    torch.manual_seed(0)
    acoustic = 8
    text_encoder = Qwen3Model(Qwen3Config(
        vocab_size=TEXT_VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=4096))
    transformer = AceStepTransformer1DModel(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        head_dim=8, in_channels=3 * acoustic, audio_acoustic_hidden_dim=acoustic, patch_size=2,
        rope_theta=10000.0, sliding_window=16)
    condition_encoder = AceStepConditionEncoder(
        hidden_size=32, intermediate_size=64, text_hidden_dim=16, timbre_hidden_dim=acoustic,
        num_lyric_encoder_hidden_layers=1, num_timbre_encoder_hidden_layers=1, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, rope_theta=10000.0, sliding_window=16)
    vae = AutoencoderOobleck(encoder_hidden_size=4, downsampling_ratios=[4, 8], decoder_channels=4,
                             decoder_input_channels=acoustic, audio_channels=2, channel_multiples=[1, 2],
                             sampling_rate=ACE_SAMPLE_RATE)
    pipe = AceStepPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tiny_tokenizer(), transformer=transformer,
                           condition_encoder=condition_encoder,
                           scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0))
    return _save(pipe, path)


def _save(pipe, path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(path)
    return path


def _kokoro_config() -> dict:
    """Kokoro-82M's architecture (kokoro/model.py, istftnet.py) with a smaller ALBERT, one predictor
    layer and one vocoder resblock so a random-weight model builds and speaks in seconds; the decoder's
    widths are fixed in kokoro's code, so they stay, and so does the 300-sample hop (24 kHz at 80 fps).
    The vocabulary covers the IPA symbols misaki emits; KModel skips unknown ones, as the real one does."""
    from benchmarks.gpu_stack import kokoro_vocab  # one home for the phoneme vocabulary

    vocab = kokoro_vocab()
    return {"istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6], "gen_istft_hop_size": 5,
                         "gen_istft_n_fft": 20, "resblock_dilation_sizes": [[1, 3, 5]], "resblock_kernel_sizes": [3],
                         "upsample_initial_channel": 512},
            "dim_in": 64, "dropout": 0.2, "hidden_dim": 512, "max_conv_dim": 512, "max_dur": 50,
            "multispeaker": True, "n_layer": 1, "n_mels": 80, "n_token": 178, "style_dim": 128,
            "text_encoder_kernel_size": 5,
            "plbert": {"hidden_size": 128, "num_attention_heads": 2, "intermediate_size": 256,
                       "max_position_embeddings": 512, "num_hidden_layers": 2, "dropout": 0.1},
            "vocab": vocab}


def build_tiny_kokoro(folder: Path) -> Path:
    """A Kokoro model folder laid out as the real one (config.json, one .pth, voices/<name>.pt),
    with random weights and a voice for every language in prompts/locales.json."""
    import torch
    from kokoro import KModel

    from reel import prompts

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(_kokoro_config()))
    torch.save({}, folder / "empty.pth")
    torch.manual_seed(0)
    model = KModel(repo_id="hexgrad/Kokoro-82M", config=str(folder / "config.json"), model=str(folder / "empty.pth"))
    (folder / "empty.pth").unlink()
    # Random weights predict ~25 frames (0.3 s) per phoneme; a zeroed duration head with a fixed bias
    # gives 2 frames (25 ms) per phoneme, so a line lasts about a second and the test stays fast.
    with torch.no_grad():
        model.predictor.duration_proj.linear_layer.weight.zero_()
        model.predictor.duration_proj.linear_layer.bias.fill_(-3.0)
    torch.save({k: getattr(model, k).state_dict() for k in ("bert", "bert_encoder", "predictor", "text_encoder",
                                                             "decoder")}, folder / "kokoro-v1_0.pth")
    (folder / "voices").mkdir()
    for lang in prompts.table("locales.json")["languages"].values():
        # KPipeline indexes a voice pack by phoneme count: [510, 1, 256] (decoder style | prosody style).
        torch.save(torch.randn(510, 1, 256) * 0.1, folder / "voices" / f"{lang['kokoro_voice']}.pt")
    return folder
