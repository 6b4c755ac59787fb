"""The offline director backend: plans a reel from one sentence with rules and tables, no model.

It follows the same rules as the LLM director (prompts/planner_system.md) so the rest of the
pipeline can run and be tested anywhere: the plan is a pure function of (prompt, n_shots, seed).
"""

from __future__ import annotations

import re

from models.cpu.narration_cut import shorter_line
from reel import prompts
from reel.errors import UserError
from reel.ids import prompt_words
from reel.schema import MAX_SHOTS, Plan

from . import wordnet
from .cast import Character, build_characters, find_cast
from .day_periods import in_english
from .facts import facts_of
from .lexicon import read_prompt
from .parsed import action_of, lead_mentions, place_of, said_thing, sun_time, things_of, tool_of
from .reading import Phrase, read
from .narration import logline, music_style, narration
from .places import detect_locale
from .setting import Action, detect_place, detect_things, detect_weather, lead_action, subject_end, time_of_day
from .shots import Scene, make_shot, shot_slots, things_for_shots
from .text import CAST, RULES, find_phrases, fold, rng_for
from models.base import BackendBase


class HeuristicDirector(BackendBase):
    """Director backend that needs no model: rules and tables, deterministic per (prompt, n_shots, seed)."""

    name = "heuristic"
    cpu = True  # no GPU: takes no GPU turn (runtime/host.py)
    data_files = ("director_rules.json", "characters.json", "locales.json", "narration.json", "camera_verbs.json",
                  "director_lexicon.json", "day_periods.json")
    model_id = "heuristic-director-v1"

    def load(self) -> None:
        """Nothing to load (the gazetteer loads on the first prompt that needs it)."""

    def unload(self) -> None:
        """Nothing to free."""

    def shorten(self, line: str, lang: str, fraction: float, seed: int = 0) -> str:
        """A narration line cut to about `fraction` of its length (it ran past its shot)."""
        return shorter_line(line, lang, fraction)

    def plan(self, prompt: str, n_shots: int = 6, seed: int = 0) -> Plan:
        if not isinstance(n_shots, int) or not 1 <= n_shots <= MAX_SHOTS:
            raise UserError(f"n_shots must be a whole number from 1 to {MAX_SHOTS}, got {n_shots!r}")
        prompt = prompt_words(prompt)
        if not prompt:
            raise UserError("the prompt is empty: describe the reel in one sentence")
        reading = read_prompt(prompt)
        text = in_english(reading.text)  # "عند منتصف الليل" reads "عند midnight"
        locale = detect_locale(prompt)
        lang = locale.lang if locale.match or not reading.vo_lang else reading.vo_lang
        parsed = read(text) if reading.language is None else None  # the parse reads English; glosses use the tables
        mentions = lead_mentions(parsed, find_cast(text), text)
        people = build_characters(text, seed, lang, mentions)
        action = action_of(parsed, mentions)
        table_action = _action(text, mentions)  # the verb alone ('go' of 'go fishing'): the table's reading says more
        if action is None or (table_action and len(action.text.split()) < 2 <= len(table_action.text.split())):
            action = table_action
        weather = detect_weather(_without_verb(text, parsed))
        place = place_of(parsed, locale, text, tuple(p.role or "" for p in people)) or detect_place(
            text, detect_locale(text) if reading.language else locale,  # the gloss says "in Tokyo"
            [(m.start, m.end) for m in mentions if m.role])
        if locale.match and not locale.is_city and fold(locale.match.text) not in fold(place):
            place = f"{locale.match.text} {place}"  # a country or region the place phrase did not say: 'Puerto Rico rooftop'
        if locale.match and locale.city and locale.city in place and fold(locale.city) == fold(locale.match.text):
            place = place.replace(locale.city, locale.match.text)  # as the prompt spells it: 'Montreal', not 'Montréal'
        things, said, story = _things(text, action, parsed, place, people)
        scene = Scene(text, seed, people, place, sun_time(parsed) or time_of_day(text, weather), weather, None,
                      things, action, said)
        scene.story_object = story or _story_object(_named_first(things, text, parsed), scene) or \
            _gear(people, scene, parsed.lead.text if parsed and parsed.lead else "") or _role_object(people)
        slots = shot_slots(n_shots, len(people))
        extra = things_for_shots(scene, slots)
        shots, previous = [], None
        for i, slot in enumerate(slots):
            shot, previous = make_shot(i, slot, scene, previous, extra.get(i, []))
            shots.append(shot)
        return Plan(
            characters={p.key: p.portrait for p in people},
            story_logline=logline(scene, rng_for(prompt, seed, "logline")),
            shots=shots,
            music_style=music_style(text, scene.time, lang, rng_for(prompt, seed, "music")),
            vo_script_per_shot=narration(slots, people, scene.time, lang, rng_for(prompt, seed, "narration")),
            vo_lang=lang,
            scene=facts_of(scene),
        )


def _without_verb(text: str, parsed) -> str:
    """The prompt less its main verb when someone does it: 'winds a pocket watch' says no wind ('it
    rains' keeps its rain)."""
    if parsed is None or not parsed.verb or parsed.lead is None or parsed.lead.head == "it":
        return text
    return re.sub(rf"\b{re.escape(parsed.verb)}\b", " " * len(parsed.verb), text, count=1)


def _action(text: str, mentions: list) -> Action | None:
    """The lead's action; after a plural subject ('two friends share', 'a man and his dog watch')
    its base-form verb."""
    if not mentions:
        return None
    action = lead_action(text, mentions[0].end)
    if action is None:
        end, plural = subject_end(text, mentions[0].end, mentions[0].role, [m.end for m in mentions[1:]])
        if plural:
            action = lead_action(text, end, plural=True)
    return action


def _things(text: str, action, parsed, place: str, people: list[Character]) -> tuple[list[str], dict, str | None]:
    """Every thing named: the table's (which know how they move) and, in the prompt's own words,
    each noun phrase the parse found that no table lists. Also the verb's first object, which the
    insert shows."""
    things = detect_things(text + (" " + action.text if action else ""))
    said: dict[str, dict] = {}
    story, story_bare, beside, seen, into, story_head = None, False, None, None, None, None
    objects = {id(p) for p in (parsed.objects if parsed else [])}
    roles = [p.role or "" for p in people] + [p.name for p in people]
    for phrase in things_of(parsed, place, roles):
        known = detect_things(phrase.text)
        if known and _renamed(phrase, known[0]):
            # The table would say another thing ('desk lamp' -> 'a paper lantern', 'roses' -> 'a
            # bouquet'): the prompt's words are kept, and the table's thing only if named elsewhere.
            rest = text[:phrase.start] + " " * (phrase.end - phrase.start) + text[phrase.end:]
            acted = f" {action.text}".replace(f" {phrase.text}", " ") if action else ""  # the verb's words, less it
            if known[0] not in detect_things(rest + acted):
                things.remove(known[0])
            known = []
        key = known[0] if known else phrase.text
        if not known:
            said[key] = said_thing(phrase, held=id(phrase) in objects)
            things.append(key)
        if id(phrase) in objects and (story is None or (story_bare and not phrase.bare)):
            # A counted object before a bare one ('practises ballet ... her cat': the cat; 'grills
            # corn': corn, there being no other): a bare singular names a stuff or an activity.
            story, story_bare, story_head = key, phrase.bare, phrase.head  # its lemma: 'cards' is a game, a card a thing
        elif phrase.start in parsed.beside and beside is None and wordnet.seen(phrase.head):
            beside = key  # what the verb is done against, by or into ('leans against a basket', 'into a flask')
            into = key if phrase.prep in ("into", "onto") else None
        if seen is None and wordnet.seen(phrase.head) and not wordnet.stuff(phrase.head):
            seen = key
    head = story and (story_head or (said[story]["keywords"][0] if story in said else story).split()[-1].lower())
    if story and wordnet.unseen(head):
        story = beside or seen or story  # 'practises ballet ... while her cat watches': the cat
    elif story and wordnet.stuff(head):
        story = into or story  # 'pours a liquid into a flask': the flask ('lights incense at a shrine': incense)
    elif story and wordnet.kind(head) == "noun.body":
        story = beside or story  # 'rests her head on a desk': the desk ('wraps his hands': the hands)
    return things, said, story or beside


def _renamed(phrase, key: str) -> bool:
    """The objects table's words for `key` (what the shots say, and the key's head noun: 'coffee cup'
    says cup) do not say the phrase's head noun (singular or as written)."""
    said = " ".join([prompts.table(RULES)["objects"][key]["a"], key.split()[-1]]).lower().split()
    last = phrase.text.split()[-1].lower()
    # Each noun the phrase says ('a bouquet of sunflowers' says sunflowers, which 'a small bouquet of
    # flowers' loses); the head as written or as its lemma.
    lost = [n for n in phrase.nouns if n != phrase.head and n not in said and f"{n}s" not in said]
    return bool(lost) or (phrase.head not in said and last not in said)


def _named_first(things: list[str], text: str, parsed) -> list[str]:
    """The things, those the prompt names only as a modifier of another noun last ('an empty car
    park': the car park is a place, its car no story object)."""
    if parsed is None:
        return things
    objects = prompts.table(RULES)["objects"]

    def modifier_only(thing: str) -> bool:
        hits = find_phrases(text, objects[thing]["keywords"]) if thing in objects else []
        return bool(hits) and all(h.end in parsed.compounds for h in hits)

    return sorted(things, key=modifier_only)


def _gear(people: list[Character], scene: Scene, lead: str = "") -> str | None:
    """With nothing named, what the lead's own words name ('a kayaker paddles through a canyon': a
    kayak; 'a rickshaw driver haggles': a rickshaw), added to the things; None when no one's word
    names gear. `lead`: the subject as the prompt says it (a cast table may keep its noun alone)."""
    tool = next((t for role in [lead, *(p.role or "" for p in people)] if (t := tool_of(role))), None)
    if tool is None:
        return None
    known = detect_things(tool)
    key = known[0] if known else tool
    if not known:
        scene.said[key] = said_thing(Phrase(tool, tool, 0, len(tool)), held=True)
    scene.things.append(key)
    return key


def _story_object(things: list[str], scene: Scene) -> str | None:
    """What the insert shot is about: the first thing held that the prompt names, else the first thing
    it names that one sees ('scrubs in before an operation': no close-up of an operation)."""
    things = [t for t in things if t not in scene.said or not wordnet.unseen(t.split()[-1].lower())]
    held = [t for t in things if scene.obj(t)["kind"] == "held"]
    return (held or things)[0] if held or things else None


def _role_object(people: list[Character]) -> str | None:
    """The cast table's tool for the lead's role (a fisherman's net); None leaves the insert to the setting."""
    roles = prompts.table(CAST)["roles"]
    return next((roles[p.role]["object"] for p in people if p.role in roles and "object" in roles[p.role]), None)
