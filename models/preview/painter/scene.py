"""What a frame will show, read from the plan's text before anything is drawn.

The scene description (setting type, time of day, weather, props drawn, things named that the
animatic cannot draw) is what the painter draws from and what tests read. Time and weather words
come from the director's table (director_rules.json), so "twilight" means the same to both.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from reel import prompts
from reel.schema import Plan, Shot

from .common import table

RULES = "director_rules.json"


@dataclass(frozen=True)
class SceneDescription:
    setting: str  # a key of animatic.json setting_keywords (or its default)
    time: str  # a director time name (dawn, overcast, night ...)
    weather: str | None  # rain, snow, fog, wind, or None
    props: tuple[str, ...]  # things drawn, in order of mention
    unnamed: tuple[str, ...]  # things named that the animatic cannot draw: written in the caption

    @property
    def interior(self) -> bool:
        return self.setting in table()["interiors"]

    @property
    def palette(self) -> str:
        return table()["palette_of"].get(self.time, self.time)


def visible_text(text: str) -> str:
    """The text without portraits' parenthesised heads: a 'sand linen coat' is not a beach."""
    return re.sub(r"\([^)]*\)", " ", text)


@functools.lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern:
    body = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({body})(?![\w])", re.IGNORECASE)


def _hits(keywords: dict[str, list[str]], text: str) -> list[tuple[int, str, re.Match]]:
    """(position, key, match) for every keyword in the text, in order."""
    words = {w.lower(): key for key, ws in keywords.items() for w in ws}
    if not words:
        return []
    return [(m.start(), words[m.group(1).lower()], m) for m in _pattern(tuple(words)).finditer(text)]


def _first(keywords: dict[str, list[str]], *texts: str, skip=lambda text, m: False) -> str | None:
    for text in texts:
        hits = [(pos, key) for pos, key, m in _hits(keywords, text) if not skip(text, m)]
        if hits:
            return hits[0][1]
    return None


def _followed_by(words: list[str]):
    def skip(text: str, m: re.Match) -> bool:
        nxt = re.match(r"[\s-]*([\w-]+)", text[m.end():])
        return text[m.end():].startswith("-") or bool(nxt and nxt.group(1).lower() in words)
    return skip


def time_of_day(*texts: str) -> str:
    """The first time word of the first text that has one (the director's words); hints, then the default."""
    rules = prompts.table(RULES)
    texts = tuple(visible_text(t) for t in texts)
    times = {name: t["keywords"] for name, t in rules["times"].items()}
    found = _first(times, *texts, skip=_followed_by(rules["time_compounds"]))
    return found or _first(rules["time_hints"], *texts) or rules["default_time"]


def weather_of(*texts: str) -> str | None:
    rules = prompts.table(RULES)
    texts = tuple(visible_text(t) for t in texts)
    drawn = {k: w["keywords"] for k, w in rules["weather"].items() if k in table()["weather"]}
    return _first(drawn, *texts, skip=_followed_by(rules["weather_compounds"]))


_CITY_NAME = re.compile(r"\b([A-Z][\w'-]+) (?:City|Town)\b")  # "Mexico City market" is a market


def setting_of(*texts: str, heads: tuple[str, ...] = ()) -> str:
    """heads: the characters' names and roles ('Owen the street musician'): a trade names no place."""
    texts = tuple(_CITY_NAME.sub(r"\1", visible_text(functools.reduce(lambda t, h: t.replace(h, " "), heads, t)))
                  for t in texts)
    return _first(table()["setting_keywords"], *texts) or table()["default_setting"]


def props_of(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(drawable props, props named but not drawable), each once, in order of mention."""
    props = table()["props"]
    drawn: list[str] = []
    unnamed: list[str] = []
    for _, key, _m in _hits({k: p["keywords"] for k, p in props.items()}, visible_text(text)):
        target = drawn if ("icon" in props[key] or "shape" in props[key]) else unnamed
        if key not in drawn and key not in unnamed:
            target.append(key)
    return tuple(drawn), tuple(unnamed)


def plan_text(plan: Plan) -> str:
    return " ".join([plan.story_logline, *(s.prompt for s in plan.shots)])


def describe(plan: Plan, shot: Shot | None = None) -> SceneDescription:
    """What the frame for `shot` (or the scene master, shot=None) shows."""
    everything = plan_text(plan)
    texts = (shot.prompt, plan.story_logline, everything) if shot else (plan.story_logline, everything)
    # A shot prompt's first sentence is the camera's ("Static camera, ..."): props come after it.
    shots = [shot] if shot else plan.shots
    props, unnamed = props_of(" ".join([*([] if shot else [plan.story_logline]),
                                        *(s.prompt.split(". ", 1)[-1] for s in shots)]))
    heads = tuple(p.split(" (", 1)[0] for p in plan.characters.values())
    return SceneDescription(setting=setting_of(*texts, heads=heads), time=time_of_day(*texts), weather=weather_of(*texts),
                            props=props, unnamed=unnamed)
