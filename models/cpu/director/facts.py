"""The plan's `scene`: what the reel shows, as data, in one place.

The director writes it from what it read (`facts_of`); a plan that has none (an LLM wrote it, or
an older plan.json) gets one derived from its own text by the same readers the director uses
(`scene_of`), once. The painter and tests read the scene; nobody re-parses shot prose for it.
"""

from __future__ import annotations

import functools
import re

from reel.schema import Person, Plan, Scene as SceneFacts

from .cast import find_cast
from .places import detect_locale
from .setting import detect_place, detect_things, detect_weather, time_of_day
from .shots import Scene

_AGE = re.compile(r"(\d+)-year-old")


def _kind(place: str) -> str:
    """The place's head noun: its last word ('Provence lavender field' -> 'field')."""
    return place.split()[-1].lower()


def facts_of(scene: Scene) -> SceneFacts:
    """The director's reading of the prompt, as the plan's scene."""
    return SceneFacts(place=scene.place, place_kind=_kind(scene.place), time=scene.time, weather=scene.weather,
                      things=list(dict.fromkeys(scene.things)),
                      people={p.key: Person(role=p.role, age=p.age) for p in scene.people})


def _visible(text: str) -> str:
    """Text without portraits' parenthesised heads: a 'sand linen coat' is no beach."""
    return re.sub(r"\([^)]*\)", " ", text)


def derive(plan: Plan) -> SceneFacts:
    """A scene for a plan written without one, read from its logline and shots with the director's
    own readers (so 'twilight' or 'a windy pier' mean what they mean to the director)."""
    return _derived(tuple(plan.characters.items()), plan.story_logline, tuple(s.prompt for s in plan.shots))


@functools.lru_cache(maxsize=64)
def _derived(characters: tuple[tuple[str, str], ...], logline: str, prompts: tuple[str, ...]) -> SceneFacts:
    # A shot prompt's first sentence is the camera's ("Static camera, ..."): no thing is named there.
    text = _visible(" ".join([logline, *(p.split(". ", 1)[-1] for p in prompts)]))
    for _, portrait in characters:  # a trade names no place: 'street musician'
        text = text.replace(portrait.split(" (", 1)[0], " ")
    weather = detect_weather(text)
    place = detect_place(text, detect_locale(text))
    people = {}
    for key, portrait in characters:
        age = _AGE.search(portrait)
        role = next((m.role for m in find_cast(portrait) if m.role), None)
        people[key] = Person(role=role, age=int(age.group(1)) if age else None)
    return SceneFacts(place=place, place_kind=_kind(place), time=time_of_day(text, weather), weather=weather,
                      things=detect_things(text), people=people)


def scene_of(plan: Plan) -> SceneFacts:
    """The plan's scene; derived once per plan when it has none."""
    return plan.scene if plan.scene is not None else derive(plan)
