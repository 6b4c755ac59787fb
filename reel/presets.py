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


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


ASPECTS = ("16:9", "9:16")


def for_aspect(preset: Preset, aspect: str) -> Preset:
    """The preset with its frame sizes turned for a vertical reel."""
    if aspect not in ASPECTS:
        raise UserError(f"unknown aspect {aspect!r}; choose one of: {', '.join(ASPECTS)}")
    if aspect == "16:9":
        return preset
    swap = lambda s: (s[1], s[0])  # noqa: E731
    return preset.model_copy(update={"render_size": swap(preset.render_size),
                                     "master_size": swap(preset.master_size),
                                     "final_size": swap(preset.final_size)})
