"""Wan2.2 image-to-video backend (VideoModel) through diffusers' WanImageToVideoPipeline.

Every knob of an attempt comes from its RenderKnobs (prompt, negative prompt, frames, steps,
flow_shift, CFG per expert, FBCache threshold, seed), never from the environment, so a retry
strategy changes exactly what it names. Accelerations from the seed project: First-Block Cache on
both experts at each call's threshold (models/gpu/fbcache.py: diffusers' own hook by default,
ParaAttention's with REEL_FBCACHE=para-attn) and selective torch.compile of the low-noise expert
(REEL_COMPILE_VIDEO). `last_accel` says what the last render ran with, for its record.

Step-distilled experts for a turbo preset's first attempts (`use_weights`): LoRAs on both experts
(REEL_TURBO_LORA) or a distilled checkpoint folder (REEL_MODEL_VIDEO_TURBO). The model host
switches between them and the base experts as it plans any other model change (models/host.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from models import base
from models.gpu import accel
from models.gpu.fbcache import FirstBlockCache, check_impl
from models.gpu.encode import write_mp4
from reel.errors import BackendUnavailable
from reel.schema import Plan, RenderKnobs, Shot

log = logging.getLogger(__name__)

SETTING = "REEL_MODEL_VIDEO"
LORA_ADAPTER = "distilled"


def frames_to_render(frames: int, temporal: int = 4) -> int:
    """The smallest count >= frames the VAE can decode (temporal * k + 1); the extra are trimmed."""
    return max(1, -(-(frames - 1) // temporal) * temporal + 1)


def snap(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


class Wan22Video(accel.PipelineBackend):
    """Wan2.2 through diffusers (VideoModel protocol). `model` (REEL_MODEL_VIDEO) picks the family:

    - Wan2.2-I2V-A14B (default, "Wan-AI/Wan2.2-I2V-A14B-Diffusers"): two experts, `transformer`
      for high noise and `transformer_2` for low noise, switched at `boundary_ratio`;
      knobs.guidance and knobs.guidance_2 are their CFG scales; an end frame turns on
      first-last-frame conditioning (`last_image`).
    - Wan2.2-TI2V-5B, the consumer path ("Wan-AI/Wan2.2-TI2V-5B-Diffusers"): the same
      WanImageToVideoPipeline loads its folder (one transformer, `expand_timesteps` in the
      config, a 16x VAE, so sizes snap to multiples of 32). guidance_2 and end frames do not apply
      (logged, not fatal).
    - Step-distilled checkpoints in diffusers layout (AMD's Hummingbird-XT, distilled from
      TI2V-5B for 3 steps; lightx2v's 4-step A14B): point the setting at the folder and give the
      preset their step count and guidance 1.0 (no CFG); nothing else changes. Or keep the base
      model and name the distilled weights for a turbo preset's first attempts: `turbo_lora`
      (REEL_TURBO_LORA: the high-noise and the low-noise LoRA files, comma-separated, e.g.
      lightx2v's wan2.2_i2v_A14b_{high,low}_noise_lora_rank64_lightx2v_4step files; one file goes
      into every expert) or `turbo_model` (REEL_MODEL_VIDEO_TURBO: a distilled pipeline folder).

    flow_shift is set per call (5 hero, 8 b-roll) by re-creating the checkpoint's own scheduler
    with it. Frame counts the VAE cannot decode (not 4k+1) are rendered up to the next one and
    trimmed; off-grid sizes are rendered at the nearest valid size and resized, so the mp4 always
    has knobs.frames frames of knobs.width x knobs.height.
    """

    name = "wan22"
    pipeline_class, role, setting = "WanImageToVideoPipeline", "video", SETTING

    distills = True  # takes step-distilled weights (a turbo preset): see `use_weights`

    def __init__(self, device: str = "cuda:0", model: str = "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
                 compile_video: bool = False, fbcache: str = "diffusers", turbo_lora: str = "",
                 turbo_model: str = ""):
        self.device = device
        self.model_id = model
        self.turbo_lora = [p.strip() for p in turbo_lora.split(",") if p.strip()]
        if len(self.turbo_lora) > 2:
            raise BackendUnavailable(f"REEL_TURBO_LORA names {len(self.turbo_lora)} files; give the high-noise "
                                     "and the low-noise LoRA (two files, comma-separated) or one for both experts")
        self.turbo_model = turbo_model.strip()
        self.weights = base.FULL  # which experts the pipeline runs: base.FULL or base.DISTILLED
        self.compile_video = compile_video
        self.fbcache_impl = check_impl(fbcache)  # a wrong REEL_FBCACHE fails before anything loads
        self.pipe = None
        self._scheduler_config: dict = {}
        self._cache: FirstBlockCache | None = None  # the loaded pipeline's cache state
        self._compiled = False
        self.last_accel: dict = {}  # what the last render ran with (cache, compile), for its record

    @property
    def distilled_id(self) -> str:
        """The step-distilled weights this backend switches to, for cache keys ('' when none)."""
        if self.turbo_lora:
            return "lora:" + ",".join(self.turbo_lora)
        return f"experts:{self.turbo_model}" if self.turbo_model else ""

    def folder(self) -> str:
        """What load() reads: the distilled checkpoint while it is the one in use."""
        return self.turbo_model if self.weights == base.DISTILLED and not self.turbo_lora else self.model_id

    def use_weights(self, which: str) -> None:
        """Run the next renders on `which` experts (base.FULL or base.DISTILLED). LoRAs load into
        both experts once (diffusers' load_lora_weights; load_into_transformer_2 for the low-noise
        one) and unload (unload_lora_weights) when a render asks for the base again, leaving the
        base weights untouched; a distilled checkpoint replaces the loaded pipeline (a model load).
        Before the first load it only chooses what load() brings in."""
        if which == self.weights:
            return
        if which == base.DISTILLED and not self.distilled_id:
            raise BackendUnavailable(base.NO_DISTILLED_WEIGHTS)
        loaded = self.pipe is not None
        if not self.turbo_lora:  # the other checkpoint: load() reads the other folder
            self.unload()
        self.weights = which
        if loaded and self.turbo_lora:
            self._load_loras() if which == base.DISTILLED else self.pipe.unload_lora_weights()

    def _load_loras(self) -> None:
        high, low = (self.turbo_lora * 2)[:2]
        try:
            for path in (high, low):
                if not Path(path).expanduser().is_file():
                    raise OSError(f"no file {path}")
            if self.pipe.transformer is not None:
                self.pipe.load_lora_weights(str(Path(high).expanduser()), adapter_name=LORA_ADAPTER)
            if self.pipe.transformer_2 is not None:
                self.pipe.load_lora_weights(str(Path(low).expanduser()), adapter_name=LORA_ADAPTER,
                                            load_into_transformer_2=True)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            self.pipe.unload_lora_weights()  # a half-loaded pair leaves the base experts as they were
            self.weights = base.FULL
            reason = " ".join(str(exc).split())[:300]
            raise BackendUnavailable(f"cannot load the distilled LoRAs {', '.join(self.turbo_lora)} into "
                                     f"{self.model_id} ({reason}); REEL_TURBO_LORA wants the high- and low-noise "
                                     "Wan2.2 LoRA .safetensors files made for this model") from exc

    def _loaded(self) -> None:
        self._scheduler_config = dict(self.pipe.scheduler.config)
        self._cache = FirstBlockCache(self.fbcache_impl)
        if self.weights == base.DISTILLED and self.turbo_lora:
            self._load_loras()

    def _unloaded(self) -> None:
        if self._compiled:  # dynamo's caches hold the compiled expert's graphs (and its weights) alive
            import torch

            torch._dynamo.reset()
        self._cache, self._compiled = None, False

    def render(self, plan: Plan, shot: Shot, keyframe: Path, end_frame: Path | None,
               knobs: RenderKnobs, out: Path) -> None:
        import torch

        self.use_weights(base.DISTILLED if knobs.distilled else base.FULL)  # the host switched already, if it planned
        self.load()
        pipe = self.pipe
        self._set_flow_shift(knobs.flow_shift)
        two_experts = pipe.config.boundary_ratio is not None
        first_last = not pipe.config.expand_timesteps  # TI2V-5B conditions on the first frame only
        grid = pipe.vae_scale_factor_spatial * self._expert().config.patch_size[1]
        w, h = snap(knobs.width, grid), snap(knobs.height, grid)
        extra = {}
        if two_experts:
            extra["guidance_scale_2"] = knobs.guidance_2
        if end_frame is not None:
            # The next shot's keyframe when that shot continues this one (FLF2V keeps the renders
            # parallel: see tasks/render.py), else this shot's own keyframe as an identity anchor.
            if first_last:
                extra["last_image"] = _fit(end_frame, w, h)
            else:
                log.warning("%s conditions on the first frame only; end frame %s ignored (an uncut "
                            "boundary into the next shot stays a cut)", self.model_id, end_frame.name)
        # The cache's hooks go on before the compile, so the compiled graph sees the cached forward.
        with self._cache.during(pipe, knobs.fbcache, knobs.steps, cfg=knobs.guidance > 1) as cache_ran:
            if self.compile_video:
                self._compile()
            frames = pipe(
                image=_fit(keyframe, w, h), prompt=knobs.prompt, negative_prompt=knobs.negative_prompt,
                height=h, width=w, num_frames=frames_to_render(knobs.frames, pipe.vae_scale_factor_temporal),
                num_inference_steps=knobs.steps, guidance_scale=knobs.guidance,
                generator=torch.Generator("cpu").manual_seed(knobs.seed),  # same noise on every device
                output_type="np", **extra,
            ).frames[0][: knobs.frames]
        self.last_accel = {"fbcache": cache_ran, "compiled": self._compiled_name(),
                           "weights": self.distilled_id if self.weights == base.DISTILLED else "base"}
        if (w, h) != (knobs.width, knobs.height):
            frames = _resized(frames, knobs.width, knobs.height)
        write_mp4(frames, knobs.width, knobs.height, knobs.fps, out)

    def _expert(self):
        return self.pipe.transformer if self.pipe.transformer is not None else self.pipe.transformer_2

    def _set_flow_shift(self, shift: float) -> None:
        """The checkpoint's scheduler again, with this attempt's shift (UniPC/DPM: flow_shift;
        flow-match Euler: shift)."""
        cfg = self._scheduler_config
        key = "flow_shift" if "flow_shift" in cfg else "shift" if "shift" in cfg else None
        if key is None:
            log.warning("%s's scheduler has no shift setting; flow_shift %s ignored", self.model_id, shift)
            return
        self.pipe.scheduler = type(self.pipe.scheduler).from_config(cfg, **{key: shift})

    def _compile(self) -> None:
        """torch.compile of the low-noise expert only (the seed's measured 1.2x; compiling both
        costs twice the warm-up for little more). Default mode: max-autotune/fullgraph crash on
        Wan2.2 (diffusers#12728). In place, so the pipeline and para-attn see the same module."""
        if self._compiled:
            return
        self._compile_target().compile()
        self._compiled = True

    def _compile_target(self):
        return self.pipe.transformer_2 if self.pipe.transformer_2 is not None else self.pipe.transformer

    def _compiled_name(self) -> str | None:
        if not self._compiled:
            return None
        return "transformer_2" if self.pipe.transformer_2 is not None else "transformer"


def _fit(path: Path, w: int, h: int):
    """The picture resized to fill w x h, centre-cropping what the aspect ratio leaves over."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return ImageOps.fit(im.convert("RGB"), (w, h), Image.LANCZOS)


def _resized(frames, w: int, h: int):
    import cv2

    return [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA if f.shape[1] > w else cv2.INTER_CUBIC)
            for f in frames]
