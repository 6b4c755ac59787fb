"""The tables in prompts/ for planning and prompting: the director's words and rules, the cast, the
camera verbs, the image prompts, locales, day periods and narration (the CPU family's own drawing
and music tables are in animatic_tables.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from reel.table_schemas.table import Span, Table, Words, Years


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
    kind_ages: dict[str, Years]  # WordNet synset word -> ages
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
