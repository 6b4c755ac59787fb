"""One pydantic model per JSON table in prompts/ and configs/: what each key holds, so a typo or a
wrong type fails `tests/test_tables.py` with the file and the key, not a render.

Keys that start with `_` are notes for people (`_doc`, `_note`) and are not checked. Every model
forbids keys it does not name: a misspelt key is an error, not a silent default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Byte = Annotated[int, Field(ge=0, le=255)]
RGB = tuple[Byte, Byte, Byte]
Span = tuple[float, float]
Years = tuple[int, int]
Words = list[str]


class Table(BaseModel):
    """A table or one of its records: named keys only; `_`-prefixed notes are skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_notes(cls, data: Any) -> Any:
        return _without_notes(data)


def _without_notes(data: Any) -> Any:
    """The data with every `_`-prefixed key (a note for people) left out, at any depth."""
    if isinstance(data, dict):
        return {k: _without_notes(v) for k, v in data.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(data, list):
        return [_without_notes(v) for v in data]
    return data


# --- prompts/ -------------------------------------------------------------------------------


class CameraMove(Table):
    zoom: float
    dx: float
    dy: float


class CameraVerbs(Table):
    phrases: dict[str, str]
    moves: dict[str, CameraMove]


class ImagePrompts(Table):
    style: str
    character: str
    group: str
    scene: str
    joiner: str
    drop_sentences_with: Words


class Language(Table):
    name: str
    iso: str
    kokoro_voice: str
    espeak: str
    scripts: Words
    speech_chars_per_second: float


class Locales(Table):
    default_lang: str
    max_line_seconds: float
    languages: dict[str, Language]
    by_language: dict[str, str]
    deliberate: dict[str, str]
    gazetteer_locales: Words
    not_places: Words
    regions: dict[str, Words]


class NarrationLanguage(Table):
    when: dict[str, str]
    lines: dict[str, Words]


class Narration(Table):
    aliases: dict[str, str]
    languages: dict[str, NarrationLanguage]


class LexiconLanguage(Table):
    name: str
    unspaced: bool = False
    function: Words
    subject: dict[str, str]
    verb: dict[str, str]
    setting: dict[str, str]
    time: dict[str, str]
    weather: dict[str, str]
    thing: dict[str, str]


class DayPeriods(Table):
    hours: dict[str, list[Span]]
    skip_periods: Words
    skip_locales: Words


class DirectorLexicon(Table):
    english_function: Words
    languages: dict[str, LexiconLanguage]


class Role(Table):
    kind: Literal["person", "relation", "profession"]
    gender: Literal["f", "m"] | None = None
    age: Years | None = None
    as_: str | None = Field(default=None, alias="as")
    object: str | None = None
    garment: str | None = None
    colour: str | None = None


class DressClass(Table):
    roles: Words  # a role's last word, as said
    ends: Words  # endings of a role word: 'smith', 'monger'
    garment: str
    colour: str


class WorkDress(Table):
    classes: dict[str, DressClass]


class Pronouns(Table):
    sub: str
    obj: str
    pos: str


class Nouns(Table):
    adult: str
    child: str


class NamedColour(Table):
    name: str
    family: str


class Characters(Table):
    max_characters: int
    number_words: dict[str, int]
    age_words: dict[str, Years]
    default_age: Years
    child_below: int
    roles: dict[str, Role]
    work_dress: WorkDress
    young_when_several: Words
    relations_to_youngest: Words
    relations_to_eldest: Words
    plurals: dict[str, str | None]  # None: a plural that names no one role ('people')
    groups: dict[str, Words]
    gender_pronouns: dict[str, Words]
    pronouns: dict[str, Pronouns]
    nouns: dict[str, Nouns]
    names: dict[str, dict[str, Words]]
    child_builds: Words
    builds: Words
    hair: dict[str, Words]
    old_from: int
    colours: list[NamedColour]
    climate_words: dict[str, Words]
    garments: dict[str, Words]
    accents: Words
    gaits: Words
    skins: Words
    faces: Words
    details: Words
    layers: Words
    bottoms: Words
    shoes: Words


class SlotActions(Table):
    first: str
    rest: str | None = None


class Slot(Table):
    cast: str
    dominant: str
    cut: bool
    actions: SlotActions | None = None
    camera: list[tuple[str, str]]


class ActionLines(Table):
    long: Words
    short: Words


class StoryObject(Table):
    keywords: Words
    a: str
    action: Words
    kind: str
    ambient: str


class TimeMusic(Table):
    bed: str
    bpm_shift: int


class TimeOfDay(Table):
    keywords: Words
    light: str
    light_short: str
    ambient: Words
    music: TimeMusic


class Weather(Table):
    keywords: Words
    ambient: str


class Mood(Table):
    keywords: Words
    lead: Words
    colour: str
    bpm: tuple[int, int]
    mood: Words
    drums: str


class MusicRules(Table):
    moods: dict[str, Mood]
    mood_by_time: dict[str, str]
    instrument_leads: dict[str, str]
    regional: dict[str, str]
    format: str


class ActionWords(Table):
    verbs: dict[str, str]
    skip: Words
    stops: Words
    directions: Words
    possessives: dict[str, str]
    not_verbs: Words
    max_words: int
    third_person_irregular: dict[str, str]


# Actions a slot may name that the director writes itself: "object" is the story object's own action.
CODE_ACTIONS = {"object"}


class SaidThing(Table):
    """The sentences around a thing the prompt names in its own words (director/parsed.py)."""

    held_action: Words
    ambient: Words


class DirectorRules(Table):
    lens_anchor: str
    prompt_words: tuple[int, int]
    layouts: dict[str, Words]
    resolve: dict[str, dict[Literal["solo", "group"], str]]
    slots: dict[str, Slot]
    actions: dict[str, ActionLines]
    objects: dict[str, StoryObject]
    inserts: Words
    insert_details: Words
    places: dict[str, str]
    place_adjectives: Words
    default_place: str
    default_time: str
    times: dict[str, TimeOfDay]
    time_hints: dict[str, Words]
    weather: dict[str, Weather]
    boundaries: dict[str, Words]
    fillers: Words
    loglines: dict[str, Words]
    music: MusicRules
    time_compounds: Words
    default_time_by_weather: dict[str, str]
    setting_inserts: Words
    action_words: ActionWords
    action_tails: Words
    loglines_action: dict[str, Words]
    weather_compounds: Words
    place_prepositions: Words
    on_places: Words
    said_thing: SaidThing
    not_places: Words
    not_things: Words

    @model_validator(mode="after")
    def _slots_named(self) -> "DirectorRules":
        """Every slot a layout or a resolve rule names exists, and every action a slot names."""
        named = {s for layout in self.layouts.values() for s in layout} - set(self.resolve)
        named |= {s for pair in self.resolve.values() for s in pair.values()}
        missing = sorted(named - set(self.slots))
        if missing:
            raise ValueError(f"slots named by layouts/resolve but not defined: {missing}")
        acts = {a for s in self.slots.values() if s.actions for a in (s.actions.first, s.actions.rest) if a}
        acts -= CODE_ACTIONS
        if acts - set(self.actions):
            raise ValueError(f"actions named by slots but not defined: {sorted(acts - set(self.actions))}")
        return self


class Build(Table):
    height: dict[str, float]
    width: dict[str, float]


class TimeLook(Table):
    sky: tuple[RGB, RGB]
    ground: RGB
    sun: tuple[float, float, float]
    sun_colour: RGB
    tint: tuple[float, float, float]
    far: RGB
    near: RGB
    lit: bool
    stars: bool


class ShotType(Table):
    fig: float
    top: float
    bg: float
    blur: float
    solo: bool


class Prop(Table):
    keywords: Words
    where: str
    icon: str | None = None
    shape: str | None = None
    colour: RGB | None = None
    size: float | None = None


class WeatherLook(Table):
    grey: float
    hide_sun: bool
    streaks: int | None = None
    flakes: int | None = None
    veil: float | None = None
    gusts: int | None = None


class NamedIcon(Table):
    """How a thing no props row lists is drawn: the Font Awesome icon its head noun names."""

    where: str
    colour: RGB
    size: float


class Animatic(Table):
    colours: dict[str, RGB]
    slots: dict[str, Words]
    hair_only_colours: Words
    beard_words: Words
    growth: dict[Literal["cm_at_one", "cm_per_year", "adult_cm"], float]
    work_garments: dict[Literal["veil", "one_colour", "apron", "helmet", "cap"], Words]
    skin: dict[str, RGB]
    default_skins: list[RGB]
    default_hairs: list[RGB]
    build: Build
    hair_styles: dict[str, Words]
    dress_words: Words
    default_time: str
    times: dict[str, TimeLook]
    setting_keywords: dict[str, Words]
    default_setting: str
    shot_types: dict[str, ShotType]
    default_shot_type: str
    palette_of: dict[str, str]
    interiors: Words
    props: dict[str, Prop]
    weather: dict[str, WeatherLook]
    city_setting: str
    named_icon: NamedIcon


class Instrument(Table):
    program: Annotated[int, Field(ge=0, le=127)]
    role: str


class Levels(Table):
    low: int
    mid: int
    high: int


class Channel(Table):
    volume: Byte
    pan: Byte
    velocity: Byte


class MusicPreview(Table):
    instruments: dict[str, Instrument]
    negations: Words
    drum_words: Words
    drumless_words: Words
    mood: dict[Literal["minor", "major"], Words]
    energy: dict[Literal["high", "low"], Words]
    default_bpm: int
    bpm_range: tuple[int, int]
    keys: dict[Literal["major", "minor"], list[int]]
    progressions: dict[str, list[list[str]]]
    home_chord: dict[str, str]
    melody_rhythms: dict[Literal["low", "mid", "high"], list[list[float]]]
    drum_patterns: dict[Literal["low", "mid", "high"], dict[str, list[float]]]
    defaults: dict[str, Levels]
    mix: dict[str, Channel]


# --- configs/ -------------------------------------------------------------------------------


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


class Structure(Band):
    """The structure band, and when a keyframe has too few shapes to judge it on (edge-magnitude std
    over cell_edge_floor in under min_cells_with_shapes of its cells)."""

    cell_edge_floor: float
    min_cells_with_shapes: Annotated[float, Field(ge=0, le=1)]


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
    camera_move: Band
    colour_drift: ColourDrift
    wardrobe: Wardrobe
    stylized: Stylized
    structure: Structure
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
