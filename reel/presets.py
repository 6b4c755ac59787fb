"""Render presets: the one table of quality/speed settings (figures from the seed project)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from reel.errors import UserError


class Preset(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    frames: int
    fps: int
    hero_steps: int
    broll_steps: int
    fbcache: float | None
    pass_threshold: float
    attempts: int
    backends: str  # "gpu" or "preview": which backend family each role uses by default
    flow_shift_hero: float = 5.0
    flow_shift_broll: float = 8.0
    guidance: float = 3.5  # high-noise expert
    guidance_2: float = 3.0  # low-noise expert
    render_size: tuple[int, int] = (832, 480)
    master_size: tuple[int, int] = (1280, 704)
    final_size: tuple[int, int] = (1280, 704)
    image_steps: int = 4
    # Roles whose models may stay loaded together (e.g. [["image", "voice"]]); others swap.
    fits_together: tuple[tuple[str, str], ...] = ()
    # Turbo: attempt 1 of every shot renders with step-distilled Wan2.2 experts (LoRAs on both, or
    # distilled checkpoints: REEL_TURBO_LORA / REEL_MODEL_VIDEO_TURBO), without CFG and without
    # FBCache; a shot the critic fails is rendered again at this preset's full steps with the
    # undistilled experts (reel/strategies.py). turbo_heroes false: hero shots start at full steps.
    turbo: bool = False
    turbo_heroes: bool = True
    # The distillers' own schedule for Wan2.2-I2V-A14B: LightX2V's configs/wan22/wan_moe_i2v_distill.json
    # (and wan_moe_t2v_distill_lora.json for the 4-step LoRAs) run infer_steps 4, sample_shift 5.0,
    # enable_cfg false, boundary_step_index 2 over denoising_step_list [1000, 750, 500, 250];
    # Wan2.2-Lightning's README: "4 steps without the need of CFG". In diffusers the same four
    # timesteps come from the checkpoint's flow scheduler at shift 5 (1000, 938, 833, 625), and the
    # pipeline's boundary 0.9 hands steps 3-4 to the low-noise expert, as boundary_step_index 2 does.
    turbo_steps: int = 4
    turbo_shift: float = 5.0

    @property
    def spec(self) -> str:
        """The preset as `--preset` names it: its name and the options set on it (`default+turbo`)."""
        base = PRESETS.get(self.name)
        changed = [] if base is None else [k for k in OPTIONS if getattr(self, k) != getattr(base, k)]
        extra = ["turbo" if k == "turbo" and self.turbo else f"{k}={str(getattr(self, k)).lower()}" for k in changed]
        return "+".join([self.name, *extra])

    @property
    def shot_seconds(self) -> float:
        return self.frames / self.fps


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(name="default", frames=81, fps=16, hero_steps=30, broll_steps=24, fbcache=0.08,
               pass_threshold=7, attempts=3, backends="gpu"),
        # 121 frames at 24 fps rippled on Wan2.2-A14B in the seed's tests; kept for those who want it.
        Preset(name="cinematic", frames=121, fps=24, hero_steps=30, broll_steps=24, fbcache=0.05,
               pass_threshold=7, attempts=3, backends="gpu"),
        Preset(name="fast", frames=81, fps=16, hero_steps=20, broll_steps=18, fbcache=0.08,
               pass_threshold=6, attempts=2, backends="gpu"),
        # default's look and retries, with a step-distilled first attempt for every shot.
        Preset(name="turbo", frames=81, fps=16, hero_steps=30, broll_steps=24, fbcache=0.08,
               pass_threshold=7, attempts=3, backends="gpu", turbo=True),
        Preset(name="draft", frames=81, fps=16, hero_steps=14, broll_steps=14, fbcache=0.10,
               pass_threshold=5, attempts=1, backends="gpu"),
        # Wiring check of the GPU backends at toy sizes (tiny models in tests, or a first smoke
        # test of real weights): not a look anyone should ship.
        Preset(name="smoke", frames=9, fps=8, hero_steps=2, broll_steps=2, fbcache=None, pass_threshold=1,
               attempts=1, backends="gpu", render_size=(64, 32), master_size=(64, 64), final_size=(256, 144),
               image_steps=2),
        # CPU animatic: measured critic, no diffusion steps.
        Preset(name="preview", frames=81, fps=16, hero_steps=0, broll_steps=0, fbcache=None,
               pass_threshold=6, attempts=2, backends="preview"),
    ]
}


# Options any preset takes after its name: `fast+turbo`, `turbo+turbo_heroes=false`.
OPTIONS = ("turbo", "turbo_heroes")


def get_preset(spec: str) -> Preset:
    """A preset by name, with options after '+': `turbo` (or turbo=true|false), turbo_heroes=true|false."""
    name, *options = spec.split("+")
    try:
        preset = PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
    update = {}
    for option in options:
        key, _, value = option.partition("=")
        value = value.lower() or "true"
        if key not in OPTIONS or value not in ("true", "false"):
            raise UserError(f"unknown preset option {option!r} in {spec!r}; options: turbo, turbo_heroes=false "
                            "(e.g. --preset fast+turbo)")
        update[key] = value == "true"
    return preset.model_copy(update=update) if update else preset


# Width:height of each aspect a reel is composed for. 16:9 is the presets' own sizes, 9:16 turns
# them; the others keep the preset's pixel count at their own shape (sides multiples of 16).
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}
SIZE_STEP = 16


def size_for(size: tuple[int, int], aspect: str) -> tuple[int, int]:
    """A 16:9 frame size recomposed for `aspect`: same area, that shape, sides snapped to 16."""
    if aspect == "16:9":
        return size
    if aspect == "9:16":
        return size[1], size[0]
    rw, rh = ASPECTS[aspect]
    width = (size[0] * size[1] * rw / rh) ** 0.5
    snap = lambda v: max(SIZE_STEP, round(v / SIZE_STEP) * SIZE_STEP)  # noqa: E731
    return snap(width), snap(width * rh / rw)


def for_aspect(preset: Preset, aspect: str) -> Preset:
    """The preset with every frame size (render, masters and keyframes, final) at the aspect's shape."""
    if aspect not in ASPECTS:
        raise UserError(f"unknown aspect {aspect!r}; choose one of: {', '.join(ASPECTS)}")
    return preset.model_copy(update={"render_size": size_for(preset.render_size, aspect),
                                     "master_size": size_for(preset.master_size, aspect),
                                     "final_size": size_for(preset.final_size, aspect)})


# Wan2.2's VAE decodes 4k+1 frames; every clip length keeps to that grid. 17 frames is the
# shortest clip that still carries a camera move; 161 the longest the seed's card rendered.
FRAME_STEP, MIN_FRAMES, MAX_FRAMES = 4, 17, 161


def with_length(preset: Preset, n_shots: int, seconds: float | None = None,
                shot_seconds: float | None = None) -> Preset:
    """The preset with its clip length set from a total (`seconds` over n_shots) or a per-shot
    length: the nearest valid frame count at the preset's fps. Unset: the preset's own."""
    if seconds is not None and shot_seconds is not None:
        raise UserError("give the reel's length as --seconds (total) or --shot-seconds, not both")
    if seconds is None and shot_seconds is None:
        return preset
    if (seconds if seconds is not None else shot_seconds) <= 0:
        raise UserError("a reel's length must be a positive number of seconds")
    wanted = shot_seconds if shot_seconds is not None else seconds / n_shots
    frames = round((wanted * preset.fps - 1) / FRAME_STEP) * FRAME_STEP + 1
    if not MIN_FRAMES <= frames <= MAX_FRAMES:
        low, high = MIN_FRAMES / preset.fps, MAX_FRAMES / preset.fps
        raise UserError(f"{wanted:.2f} s per shot is outside what preset {preset.name!r} can render "
                        f"({low:.2f}-{high:.2f} s at {preset.fps} fps); change --shots or the length")
    return preset.model_copy(update={"frames": frames})
