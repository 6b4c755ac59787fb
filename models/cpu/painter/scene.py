"""What a frame will show, read from the plan's `scene` (the director's data; for a plan without
one, models.cpu.director.facts derives it once from the plan's text with the director's own
readers, so 'twilight' means the same to both).

The scene description (setting type, time of day, weather, ground colour, props drawn, things
named that the animatic cannot draw) is what the painter draws from and what tests read.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from PIL import ImageColor

from models.cpu.director import detect_locale, wordnet
from models.cpu.director.facts import scene_of  # noqa: F401 (the painter reads the scene through here)
from reel.schema import Plan, Scene, Shot

from .common import RGB, table
from .props import icon_for


@dataclass(frozen=True)
class SceneDescription:
    setting: str  # a key of animatic.json setting_keywords (or its default)
    time: str  # a director time name (dawn, overcast, night ...)
    weather: str | None  # rain, snow, fog, wind, or None
    props: tuple[str, ...]  # things drawn, in order of mention
    unnamed: tuple[str, ...]  # things named that the animatic cannot draw: written in the caption
    ground: RGB | None = None  # the colour a place's own words give it: a lavender field is lavender
    colours: tuple[tuple[str, RGB], ...] = ()  # (prop, colour) a thing's own words give it: a red tractor

    @property
    def interior(self) -> bool:
        return self.setting in table()["interiors"]

    @property
    def palette(self) -> str:
        return table()["palette_of"].get(self.time, self.time)


def visible_text(text: str) -> str:
    """The text without portraits' parenthesised heads: a 'sand linen coat' is not a beach."""
    return re.sub(r"\([^)]*\)", " ", text)


def _word_index(keywords: dict[str, list[str]]) -> dict[str, str]:
    return {w.lower(): key for key, ws in keywords.items() for w in ws}


def _lookup(words: list[str], keywords: dict[str, list[str]]) -> str | None:
    """The key of the longest keyword phrase among the words, trying phrases ending at the last
    word (the head noun) first: 'Provence lavender field' is a field; 'boat deck' a deck of a boat."""
    index = _word_index(keywords)
    low = [w.lower().strip(".,;:'") for w in words]
    for end in range(len(low), 0, -1):
        for start in range(0, end):
            phrase = " ".join(low[start:end])
            if phrase in index:
                return index[phrase]
            if phrase.endswith("s") and phrase[:-1] in index:  # 'stalls', 'boats'
                return index[phrase[:-1]]
    return None


def setting_kind(scene: Scene) -> str:
    """The backdrop for a place, from its own words: the head noun first, then its modifiers; a
    city's street when no word says, the default (open country) outside one."""
    words = scene.place.split()
    if scene.place_kind.lower() != words[-1].lower():
        words.append(scene.place_kind)
    kind = _lookup(words, table()["setting_keywords"]) or _by_wordnet(words[-1])
    if kind is None and detect_locale(scene.place).is_city:
        kind = table()["city_setting"]  # a place no word of ours names, in a city ('a Rio flooded gutter'): a street
    return kind or table()["default_setting"]


def _by_wordnet(noun: str) -> str | None:
    """The backdrop of the nearest WordNet hypernym a setting keyword or setting_by_wordnet names
    ('darkroom' is a room, 'henhouse' a building, 'ridge' a natural elevation); not the noun's own
    synonyms ('stable' is also 'stalls')."""
    index = _word_index(table()["setting_keywords"])
    listed = {k: v for k, v in table()["setting_by_wordnet"].items() if not k.startswith("_")}
    for word in wordnet.ancestors(noun, senses=1, own=False):
        if word.replace("_", " ") in index or word in listed:
            return index.get(word.replace("_", " ")) or listed[word]
    return None


def colour_word(words: list[str]) -> RGB | None:
    """The first colour a place's modifiers name ('lavender field', 'wheat field'): the painter's
    own colour table first, then the CSS colour names Pillow knows. Names (Red Square) are not colours."""
    named = table()["colours"]
    for word in words:
        w = word.lower()
        if word[:1].isupper():
            continue
        if w in named:
            return tuple(named[w])  # type: ignore[return-value]
        if w in ImageColor.colormap:
            return ImageColor.getrgb(w)[:3]
    return None


def pictogram(thing: str) -> str | None:
    """The pictogram for a named thing, by its name or a synonym, head noun first ('paper boats' -> boat):
    the props table's (which know where a thing goes), else Font Awesome's icon for the head noun."""
    props = table()["props"]
    known = _lookup(thing.split(), {k: p["keywords"] for k, p in props.items() if "icon" in p or "shape" in p})
    return known or icon_for(_head(thing))


def _head(thing: str) -> str:
    """The head noun of a thing as said: 'red tractor' -> tractor, 'flock of sheep' -> flock."""
    return thing.split(" of ")[0].split()[-1]


def _in_shot(thing: str, text: str) -> bool:
    """The shot names the thing: its words, or a word of its pictogram's ('his nets' for 'fishing net')."""
    key = pictogram(thing)
    words = [thing, _head(thing), *(table()["props"].get(key, {}).get("keywords", []) if key else [])]
    return bool(_pattern(tuple(w.lower() for w in words)).search(visible_text(text)))


@functools.lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern:
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({body})s?(?![\w])", re.IGNORECASE)


def describe(plan: Plan, shot: Shot | None = None) -> SceneDescription:
    """What the frame for `shot` (or the scene master, shot=None) shows: the reel's scene, with the
    things this shot names (a shot prompt's first sentence is the camera's: things come after it)."""
    scene = scene_of(plan)
    things = [t for t in scene.things if shot is None or _in_shot(t, shot.prompt.split(". ", 1)[-1])]
    drawn = tuple(dict.fromkeys(k for t in things for k in [pictogram(t)] if k))
    unnamed = tuple(t for t in things if pictogram(t) is None)
    weather = scene.weather if scene.weather in table()["weather"] else None
    colours = tuple((pictogram(t), c) for t in things for c in [colour_word(t.split(" of ")[0].split()[:-1])] if c)
    return SceneDescription(setting=setting_kind(scene), time=scene.time, weather=weather, props=drawn,
                            unnamed=unnamed, ground=colour_word(scene.place.split()[:-1]), colours=colours)
