"""The tables in configs/: cost figures, delivery targets, QC thresholds, retry strategies and the
models' real-size configs for the memory plan."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from reel.table_schemas.table import Span, Table, Words


class RoleCost(Table):
    load_s: float
    run_s: float
    weights_gb: float
    model: str
    measured: Words
    switch_s: float | None = None  # switching distilled weights on or off (the video model, turbo)


class CostReference(Table):
    video_frames: int
    video_pixels: int
    video_steps: int
    image_pixels: int
    image_steps: int
    music_seconds: float


class Card(Table):
    speed: float
    price_per_hour: float
    memory_gb: float


class Costs(Table):
    roles: dict[str, RoleCost]
    reference: CostReference
    masters_assumed: int
    output_gb_per_shot_attempt: float
    cards: dict[str, Card]


Aspects = dict[Literal["16:9", "9:16", "1:1", "4:5"], Any]


class LoudnessTargets(Table):
    targets_lufs: dict[str, float]
    custom_range_lufs: Span
    true_peak_dbtp: float
    true_peak_aim_dbtp: float
    lra: float
    speech_over_bed_lu: float
    default: dict[Literal["16:9", "9:16", "1:1", "4:5"], str]


class SafeArea(Table):
    bottom: float
    sides: float


class Subtitles(Table):
    modes: list[Literal["burn", "srt", "off"]]
    default: dict[Literal["16:9", "9:16", "1:1", "4:5"], Literal["burn", "srt", "off"]]
    safe_area: dict[Literal["16:9", "9:16", "1:1", "4:5"], SafeArea]
    font_height: dict[Literal["16:9", "9:16", "1:1", "4:5"], float]
    min_font_px: int
    max_lines: int
    outline_fraction: float
    min_seconds: float


class NarrationFit(Table):
    gap_s: float
    max_tempo: float
    shorten_rounds: int
    fade_s: float


class Delivery(Table):
    loudness: LoudnessTargets
    subtitles: Subtitles
    fonts: dict[str, Words]  # caption font families per narration language, preferred first
    narration: NarrationFit


class Band(Table):
    """A measure's scale: at `good` it scores 10, at `fail` the pass line, at `worst` 0."""

    good: float
    fail: float
    worst: float


class CameraMove(Band):
    """The camera-move band, and when a keyframe's shapes run one way (a horizon): judged across them
    (structure-tensor coherence at least one_way_coherence), not at all under one_way_min_px across."""

    one_way_coherence: float
    one_way_min_px: float


class Structure(Band):
    """The structure band, and when a keyframe has too few shapes to judge it on (edge-magnitude std
    over cell_edge_floor in under min_cells_with_shapes of its cells)."""

    cell_edge_floor: float
    min_cells_with_shapes: Annotated[float, Field(ge=0, le=1)]


class Registration(Table):
    """How the keyframe is found in a frame (models.measured.registration): features refined by ECC,
    kept when the refined affine is a camera's view and fits the low frequencies."""

    width: int
    blur: float
    min_overlap: Annotated[float, Field(gt=0, le=1)]
    min_fit: Annotated[float, Field(ge=-1, le=1)]
    max_scale: Annotated[float, Field(gt=1)]
    scale_steps: Annotated[int, Field(ge=1)]
    max_shear: Annotated[float, Field(ge=0, le=1)]


class Sampling(Table):
    width: int
    motion_step: int
    min_motion_pairs: int
    min_frames: int


class Freeze(Band):
    pixel_diff: float


class Black(Band):
    luma_floor: int
    min_luma_floor: int


class ColourDrift(Band):
    min_overlap: float


class Wardrobe(Band):
    saturation_floor: int
    value_floor: int
    hue_window: int
    min_presence: float


class MarginBand(Band):
    margin: float


class Stylized(Table):
    value_floor: int
    saturation: MarginBand
    clipped: MarginBand


class SceneCut(Band):
    window: int
    min_jump: float


class Continuity(Table):
    judge_until: float


class Weights(Table):
    character_match: float
    scene_match: float
    composition: float
    artifact_free: float


class QcThresholds(Table):
    sampling: Sampling
    freeze: Freeze
    black: Black
    flicker: Band
    camera_static: Band
    camera_move: CameraMove
    colour_drift: ColourDrift
    wardrobe: Wardrobe
    stylized: Stylized
    structure: Structure
    registration: Registration
    scene_cut: SceneCut
    continuity: Continuity
    weights: Weights


class Changes(Table):
    """What one retry changes: knob deltas, switches and prompt edits (reel/strategies.py)."""

    flow_shift: float | None = None
    steps: int | None = None
    guidance: float | None = None
    guidance_2: float | None = None
    keyframe_source: Literal["master", "chained"] | None = None
    end_on_keyframe: bool | None = None
    camera: Literal["static", "plain"] | None = None
    append: str | None = None
    direction: bool | None = None
    wardrobe: bool | None = None
    negative: str | None = None


class Strategy(Table):
    why: str
    first: Changes
    again: Changes


class Strategies(Table):
    limits: dict[Literal["flow_shift", "steps", "guidance", "guidance_2"], Span]
    labels: dict[str, Strategy]
    plain_camera: dict[str, str]
    direction_sentence: str
    wardrobe_words: Words
    lens_anchor: str


class Component(Table):
    library: str
    class_: str = Field(alias="class")
    config_class: str | None = None
    module: str | None = None
    expert: bool | None = None
    fp32: bool | None = None
    vision_only: bool | None = None
    config: dict[str, Any]


class ModelConfig(Table):
    """configs/models/<role>.json: a model's real-size config, for the memory plan."""

    model: str
    source: str
    runtime: Literal["vllm", "diffusers", "kokoro"]
    components: dict[str, Component]
