"""The tables in prompts/ that only the CPU family reads: the animatic painter's looks, shot types,
props and icons (animatic.json) and the MIDI music's instruments and levels (music_preview.json)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reel.table_schemas.table import RGB, Byte, Table, Words


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
    setting_by_wordnet: dict[str, str]  # WordNet hypernym word -> a setting_keywords key
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
