"""Narration lines, music style and the logline.

Narration is written in the narration language from its own templates (prompts/narration.json),
one 6-10 word line per shot (6-24 characters in Japanese and Mandarin); the logline names the
lead's action, the place and the things the prompt names, so different prompts read differently.
"""

from __future__ import annotations

import random

from reel import prompts
from reel.schema import UNSPACED_LANGS

from .cast import Character
from .shots import Scene
from .text import NARRATION, RULES, cap, find_phrases, first_phrase

SPACED_WORDS = (6, 10)  # narration words per line, spaced languages
UNSPACED_CHARS = (6, 24)  # narration characters per line, Japanese and Chinese


def _fits(line: str, lang: str) -> bool:
    if lang in UNSPACED_LANGS:
        return UNSPACED_CHARS[0] <= len(line) <= UNSPACED_CHARS[1]
    return SPACED_WORDS[0] <= len(line.split()) <= SPACED_WORDS[1]


def narration(slots: list[str], people: list[Character], time: str, lang: str, rng: random.Random) -> list[str]:
    """One line per shot in the narration language, each different, from the slot's own templates first."""
    table = prompts.table(NARRATION)
    lines = table["languages"][table["aliases"].get(lang, lang)]
    fill = {"name": people[0].name, "other": people[1].name if len(people) > 1 else people[0].name,
            "when": lines["when"][time]}
    every = [t for ts in lines["lines"].values() for t in ts]
    used: list[str] = []
    for slot in slots:
        own = lines["lines"].get(slot, [])
        pools = [rng.sample(own, len(own)), rng.sample(lines["lines"]["beat"], len(lines["lines"]["beat"])), every]
        for template in (t for pool in pools for t in pool):
            if "{other}" in template and len(people) < 2:
                continue
            line = cap(template.format(**fill))
            if line not in used and _fits(line, lang):
                used.append(line)
                break
        else:
            raise RuntimeError(f"narration.json has too few lines for {len(slots)} shots in {lang!r}")
    return used


def music_style(prompt: str, time: str, lang: str, rng: random.Random) -> str:
    """Instrumentation, BPM and mood from the prompt's mood words, time of day and setting."""
    rules = prompts.table(RULES)
    music = rules["music"]
    counts = {name: len(find_phrases(prompt, m["keywords"])) for name, m in music["moods"].items()}
    best = max(counts, key=lambda k: counts[k])  # max keeps the first of equals: table order breaks ties
    mood = music["moods"][best if counts[best] else music["mood_by_time"][time]]
    named = first_phrase(prompt, music["instrument_leads"])
    lead = music["instrument_leads"][named.key] if named else rng.choice(mood["lead"])
    bed = rules["times"][time]["music"]["bed"]
    if bed.split()[-1] in lead:
        bed = "warm pad"
    colour = music["regional"].get(lang, mood["colour"])
    if colour.split()[-1] in lead or colour.split()[-1] in bed:
        colour = mood["colour"]
    bpm = max(50, min(140, rng.randint(*mood["bpm"]) + rules["times"][time]["music"]["bpm_shift"]))
    return music["format"].format(lead=lead, bed=bed, colour=colour, bpm=bpm,
                                  mood=rng.choice(mood["mood"]), drums=mood["drums"])


def _things_clause(scene: Scene, said: str = "") -> str:
    """', with circling gulls and a paper kite': things named that the action does not already say."""
    named = [scene.obj(t)["a"] for t in scene.things
             if t != "dance" and not find_phrases(said, scene.obj(t)["keywords"], plural=True)][:2]
    return (", with " + " and ".join(named)) if named else ""


def logline(scene: Scene, rng: random.Random) -> str:
    rules = prompts.table(RULES)
    when = prompts.table(NARRATION)["languages"]["a"]["when"][scene.time]
    labels = [p.label for p in scene.people] + ["", "", ""]
    size = str(min(len(scene.people), 3))
    lead = scene.people[0]
    if scene.action:
        template = rng.choice(rules["loglines_action"][size])
        action = scene.action.text.format(pos=lead.pronoun("pos"))
        noun = scene.place.split()[-1]
        prep = "on" if find_phrases(scene.place, rules["on_places"]) else "in"
        on_place = "" if find_phrases(action, [noun], plural=True) else f" {prep} the {scene.place}"
        return template.format(When=cap(when), A=labels[0], B=labels[1], C=labels[2], on_place=on_place,
                               action=action, things=_things_clause(scene, action), obj=lead.pronoun("obj"))
    template = rng.choice(rules["loglines"][size])
    with_object = f" with {scene.obj(scene.story_object)['a']}" if scene.story_object else ""
    return template.format(When=cap(when), A=labels[0], B=labels[1], C=labels[2], place=scene.place,
                           with_object=with_object)
