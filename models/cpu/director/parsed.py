"""What the parse adds to the plan: a lead no table lists, the verb with its objects, every named
thing in its own words, and the place with its modifiers.

The tables stay for style (how a known thing moves, which light a time word gives); what the
prompt is about comes from the sentence (reading.py). A word nothing knows is carried verbatim.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reel import prompts

from . import ages, wordnet
from .cast import Mention
from .places import Locale, find_places
from .reading import WAY, WITHIN, Phrase, Reading
from .setting import Action, detect_things, detect_weather, _said_of_one
from .text import CAST, RULES, TOKEN, an, cap, find_phrases, fold


def _rules() -> dict:
    return prompts.table(RULES)


def _timely(text: str, prep: str = "") -> bool:
    """A phrase that says when or what weather ('a rainy afternoon', 'low clouds', 'the monsoon'),
    read with its preposition ('after a summer shower')."""
    rules = _rules()
    hints = {k for ks in rules["time_hints"].values() for k in ks}
    words = [k for t in rules["times"].values() for k in t["keywords"]] + [*hints] + rules["not_places"]
    # Its head says so, not a modifier: 'a snowy village street' is a place.
    text = text.strip()
    return any(h.end == len(text) and not (h.key in hints and _made(text.split()[-1]))
               for h in find_phrases(text, words, plural=True)) or \
        detect_weather(f"{prep} {text.split()[-1]}" if text else text) is not None


def _made(noun: str) -> bool:
    """Something one sees that a time word can also hint at: 'hangs lanterns' names lanterns, night
    or not; 'points a telescope at the moon' names the moon."""
    return wordnet.kind(noun) in ("noun.artifact", "noun.object")


def _lighting(phrase: Phrase, text: str) -> bool:
    """'by lamplight', 'in the firelight': the light the scene is lit by, no place or thing; 'a
    flashlight' (counted) is a thing."""
    counted = phrase.plural or re.search(r"\b(an?|one)\s+$", text[:phrase.start], re.IGNORECASE)
    # 'sleeps in the sun': sunlight ('under the stars' names stars one sees)
    return (phrase.head.endswith("light") or (phrase.prep == "in" and wordnet.is_a(phrase.head, {"star"}))) and not counted


def lead_mentions(reading: Reading | None, mentions: list[Mention], text: str) -> list[Mention]:
    """The cast, with the sentence's subject added when no table knew its noun ('a beekeeper',
    'three welders'): a common noun that is no creature, place or weather."""
    if reading is None:
        return mentions
    mentions = [m for m in mentions if not _names_a_thing(m, reading)]
    if reading.lead is None or reading.lead.proper or reading.owned:
        return mentions  # 'a potter's hands shape clay': the potter, not two people called hands
    lead = reading.lead
    mentions = _with_partners(reading, mentions, text)
    if not _a_person(lead, mentions, text):
        return _with_others(reading, mentions, text)
    table = prompts.table(CAST)
    role_words = [w for w in lead.text.split() if fold(w) not in table["age_words"] and fold(w) not in
                  table["number_words"] and w.islower()]
    if not role_words:
        return _with_others(reading, mentions, text)
    role_words[-1] = lead.head if lead.plural else role_words[-1]
    count = max(1, min(reading.count, table["max_characters"]))
    added = [Mention(lead.start + k, role=" ".join(role_words), age=_age(lead, text), end=lead.end) for k in range(count)]
    return _with_others(reading, sorted(added + mentions, key=lambda m: m.start)[: table["max_characters"]], text)


def named_by(role: str) -> list[str]:
    """The nouns before a role's own noun, naming what the work is done with or where ('a vineyard
    worker', 'a rickshaw driver'): nouns in WordNet, no adjectives ('a blind man', 'a local
    fisherman') and no people ('a shepherd boy')."""
    words = [w.lower() for w in role.split()[:-1] if w.isalpha()]
    return [w for w in words if wordnet.kinds(w) and not wordnet.adjective(w) and not wordnet.person(w)]


def tool_of(role: str) -> str | None:
    """What a role is named after: a thing its modifier names ('a rickshaw driver': a rickshaw, 'a
    camel herder': a camel, 'a tea picker': tea), else what an agent noun is named after, where WordNet
    files it as an instrument, a craft or sports gear ('a kayaker': a kayak, 'a harpist': a harp, 'a
    skateboarder': a skateboard; not 'a boxer')."""
    made = [w for w in named_by(role) if wordnet.kind(w) in HANDLED and not wordnet.where(w)]
    if made:
        return made[-1]
    word = role.split()[-1].lower() if role else ""
    for suffix in ("er", "ist", "or", "man"):  # a boatman's boat, a cameraman's camera
        stem = word.removesuffix(suffix)
        if stem == word or len(stem) < 3 or wordnet.base(stem) not in (None, stem):
            continue  # 'a craftsman' is no crafts
        for noun in (stem, stem[:-1] if stem[-1] == stem[-2] else "", stem + "e", stem + "o"):  # 'drumm-er', 'canoe-ist', 'cell-ist'
            if noun and not wordnet.abstract(noun) and wordnet.is_a(noun, GEAR, senses=2):  # a trade is no craft
                return noun
    return None


GEAR = {"musical_instrument", "vehicle", "craft", "sports_equipment", "equipment"}
HANDLED = {"noun.artifact", "noun.animal", "noun.plant", "noun.food"}  # what work is done with or on


def _age(phrase: Phrase, text: str) -> tuple[int, int] | None:
    """The age said around a person phrase ('a seventy-year-old baker', 'an aging boxer', 'a woman in
    her eighties'), else the one its word names ('a toddler', 'an octogenarian')."""
    head = phrase.end - len(phrase.text.split()[-1])
    before = [fold(t.group()) for t in TOKEN.finditer(text[max(0, head - 40):head])][-3:]
    return ages.said_before(text[max(0, head - 40):head], before) or ages.said_after(text[phrase.end:]) or \
        ages.of_kind(phrase.head)


def _with_others(reading: Reading, mentions: list[Mention], text: str) -> list[Mention]:
    """Someone else the sentence names that no table knew ('shaves a customer', 'holds a newborn
    baby', 'pours coffee for a trucker'): one person, a WordNet person noun, not a part of something
    ('a statue of a king') nor what the lead wears."""
    table = prompts.table(CAST)
    others = []
    for phrase in [*reading.objects, *reading.things, *reading.places]:
        if phrase.plural or phrase.proper or phrase.aside or phrase.prep == "of" or not wordnet.someone(phrase.head) \
                or any(m.start < phrase.end and phrase.start < m.end for m in mentions + others):
            continue
        words = [w for w in phrase.text.split() if fold(w) not in table["age_words"] and fold(w) not in table["number_words"]]
        if words and words[-1].islower():
            others.append(Mention(phrase.start, role=" ".join(words), age=_age(phrase, text), end=phrase.end))
    return sorted(mentions + others, key=lambda m: m.start)[: table["max_characters"]] if others else mentions


def _names_a_thing(mention: Mention, reading: Reading) -> bool:
    """A person word that modifies a noun after the subject ('a grandfather clock', 'a baby carriage')."""
    subject = [p for p in [reading.lead, *reading.partners] if p is not None]
    return mention.end in reading.compounds and not any(p.start <= mention.start < p.end for p in subject)


def _a_person(phrase: Phrase, mentions: list[Mention], text: str) -> bool:
    """A common noun no table took for someone, and no time, weather, thing or place."""
    if any(m.start < phrase.end and phrase.start < m.end for m in mentions) or _timely(phrase.text):
        return False
    if wordnet.person(phrase.head):
        return True  # 'a drummer': a person, though the objects table lists a drum under that word
    return not (detect_things(phrase.head) or find_phrases(phrase.head, _rules()["places"], plural=True) or any(
        m.start < phrase.end and phrase.start < m.end for m, _ in find_places(text)))


def _with_partners(reading: Reading, mentions: list[Mention], text: str) -> list[Mention]:
    """'a carpenter and his apprentice': the subject's partners no table knew join the cast."""
    table = prompts.table(CAST)
    added = [Mention(p.start, role=p.text.split()[-1] if not p.plural else p.head, age=_age(p, text), end=p.end)
             for p in reading.partners if not p.proper and p.text.split()[-1].islower() and _a_person(p, mentions, text)]
    return sorted(mentions + added, key=lambda m: m.start)[: table["max_characters"]] if added else mentions


def action_of(reading: Reading | None, mentions: list[Mention]) -> Action | None:
    """The lead's verb with its objects and way, said of one person ('race' -> 'races'), possessives
    as the actor's pronoun placeholder; None when the sentence's subject is not the lead ('snow falls')."""
    if reading is None or not reading.action or not reading.verb or not reading.verb.islower() or reading.lead is None:
        return None
    lead = reading.lead
    if not mentions or not (mentions[0].start < lead.end and lead.start < mentions[0].end):
        return None
    table = _rules()["action_words"]
    words = reading.action.replace(" 's", "'s").split()
    if reading.count > 1 or reading.partners or not words[0].endswith("s") or words[0].endswith("ss"):
        words[0] = _said_of_one(words[0], table)
    if words[0] in table["verbs"]:  # "cycles": "rides a bicycle"
        words[:1] = table["verbs"][words[0]].split()
    words = [table["possessives"].get(w, w.replace("{", "").replace("}", "")) for w in words]
    return Action(" ".join(words[: table["max_words"] + 4]), words[0])


def things_of(reading: Reading | None, place: str, people: list[str]) -> list[Phrase]:
    """Every noun phrase that is no person, place, time or weather, in order: the verb's objects,
    then the rest ('a honeycomb frame', 'paper boats', 'a flooded gutter')."""
    if reading is None:
        return []
    found: list[Phrase] = []
    for phrase in [*reading.objects, *reading.things, *reading.places]:
        # Weather one can hold or shovel is a thing ('shovels snow'), one only watched is not ('watches the fog').
        held_weather = phrase in reading.objects and detect_weather(phrase.head) is not None and \
            wordnet.kinds(phrase.head)[:2] != [] and wordnet.seen(phrase.head)
        if phrase.proper or (_timely(phrase.text, phrase.prep) and not held_weather) or _lighting(phrase, reading.text) \
                or _within(phrase.text, place) or (phrase.head == "sun" and sun_time(reading)) or any(_within(phrase.head, p) for p in people) \
                or phrase.head in {"home", "'s"}:
            continue
        if any(p.start <= phrase.start and phrase.end <= p.end for p in found) or not phrase.text.strip("' ") or \
                _of_what(phrase, reading) is not phrase or \
                (find_phrases(phrase.text, _rules()["not_things"], plural=True) and phrase not in reading.objects):
            continue  # 'a cinematic story of ...' is no thing; 'reads a bedtime story' is
        found.append(phrase)
    return found


def _within(words: str, text: str) -> bool:
    """The words appear whole in the text ('corn' is not in 'street corner')."""
    return f" {fold(words)} " in f" {fold(text)} "


def place_of(reading: Reading | None, locale: Locale, text: str, people: tuple[str, ...] = ()) -> str | None:
    """The place phrase with its own modifiers ('lavender field', 'flooded gutter'), the city said
    before its noun as the table's places are ('Provence lavender field'); None: the tables decide."""
    if reading is None:
        return None
    city_spans = [(m.start, m.end) for m, _ in find_places(text)]
    # Where the reel is: after 'in', 'on', 'at' first; else the way ('down a flooded gutter').
    way = [p for p in [*reading.things] if p.prep in WAY and not p.proper]
    named = locale.city or (locale.match.text if locale.match else None)  # a country or region is said too
    if named and locale.match and fold(locale.match.text) == fold(named):
        named = locale.match.text  # as the prompt spells it: 'Gdansk', not the gazetteer's 'Gdańsk'
    # Where the verb happens before what the subject wears or has ('a man in a grey suit waits at a
    # bus stop'), and a container before a thing beside the lead; in order within each kind.
    places = sorted(reading.places, key=lambda p: (p.aside, p.prep not in WITHIN))
    # With no place said, the whole a part belongs to ('the stone steps of a monastery', 'the bell of
    # a hilltop convent'): one counted thing, not a stuff or a set ('a cup of coffee', 'of pizzas').
    wholes = [p for p in reading.things if p.prep == "of" and not (p.plural or p.bare or p.proper)]
    # Then somewhere the verb acts on ('crosses a busy street', 'climbs a steep hill'). A natural object, a
    # creature or a plant is somewhere only when nothing else is ('points a telescope at the moon from a
    # hilltop': the hilltop).
    crossed = [p for p in reading.objects if not p.proper and wordnet.where(p.head)]
    ranked = sorted([p for p in [*places, *way] if not p.aside], key=lambda p: _not_somewhere(p.head)) + crossed + \
        wholes + [p for p in [*places, *way] if p.aside]
    # 'In front of a cracked mirror': the mirror is a thing, and neither is the place.
    fronted = {id(w) for p in reading.places if (w := _of_what(p, reading)) is not p and not (w.proper or wordnet.where(w.head))}
    for phrase in ranked:
        whole = _of_what(phrase, reading)
        if id(whole) in fronted or id(phrase) in fronted:
            continue
        phrase = _outermost(whole, reading.places, text)
        if _timely(phrase.text, phrase.prep) or _lighting(phrase, text) or _a_thing(phrase.head) or \
                any(_within(phrase.head, p) for p in people if p):
            continue  # a time, a thing the tables know, or someone of the cast ('reads to her son')
        if OWNED.search(text[:phrase.start]) and not wordnet.is_a(phrase.head, LARGE):
            continue  # 'hammers a sword at his anvil', 'at her desk': something of theirs, no place ('on his balcony' is)
        if wordnet.kind(phrase.head) in ("noun.body", "noun.process", "noun.phenomenon") or \
                wordnet.is_a(phrase.head, {"clothing", "celestial_body"}):
            continue  # 'on her tongue', 'over a roaring flame', 'in a white suit', 'in the sun': nowhere to be
        if _small(phrase.head):
            before = phrase.text.split()[:-1]
            site = next((w for k in range(len(before)) if wordnet.where(w := " ".join(before[k:]))), None)
            if site is None:
                continue  # 'around a gift box': a thing
            phrase = replace(phrase, text=site, head=site)  # 'at the kitchen table': the kitchen
        in_city = any(s <= phrase.start < e or s < phrase.end <= e for s, e in city_spans)
        if phrase.proper and in_city and (not locale.match or fold(locale.match.text) in fold(phrase.text)):
            continue  # "in Provence": the city, said with the place below
        words = phrase.text
        noun = _rules()["places"].get(phrase.head) or _rules()["places"].get(fold(phrase.text.split()[-1]))
        last = fold(words.split()[-1])
        if noun and not phrase.proper and fold(noun) != last and _within(last, noun) and " of " not in f" {words} ":
            # The table's setting for a noun that names none ("lighthouse path"); its own noun otherwise.
            words = " ".join([*words.split()[:-1], noun])
        if named and locale.match and fold(locale.match.text) not in fold(words) and not phrase.proper:
            words = f"{named} {words}"
        region = next((p.text for p in reading.places if p.proper and p.prep in ("in", "on", "at")
                       and p.start > phrase.start and not any(s <= p.start < e for s, e in city_spans)
                       and wordnet.name_kind(p.text) != "noun.time"), None)  # 'on Christmas Eve' is no region
        if region and not (named or phrase.proper) and fold(region) not in fold(words):
            words = f"{region} {words}"  # 'a beach in Crete': a name no gazetteer lists, said with the place
        return words
    # With no place said, where the lead's work is, by its role's name ('a vineyard worker': the vineyard).
    roles = [reading.lead.text] if reading.lead else []
    worksite = next((w for role in [*roles, *people] for w in named_by(role) if wordnet.where(w)), None)
    if worksite and named and not _within(named, worksite):
        return f"{named} {worksite}"
    return worksite


OWNED = re.compile(r"\b(?:his|her|their|my|our|your|its)\s+$", re.IGNORECASE)


def _of_what(phrase: Phrase, reading: Reading) -> Phrase:
    """A part of a place is said by the place it is part of ('at the edge of an orchard', 'in front of
    a mirror', 'on top of a hill'; not 'a field of tall grass'); the part is no thing."""
    whole = next((t for t in reading.things if t.prep == "of" and phrase.start <= t.host < phrase.end), None)
    return whole if whole is not None and wordnet.relative(phrase.head) else phrase


def _not_somewhere(noun: str) -> bool:
    """WordNet files it first as a natural object, creature, plant, food or person, and as no place
    (a body part is never the place: place_of skips it)."""
    return wordnet.kind(noun) in NOT_SOMEWHERE and not wordnet.where(noun)


NOT_SOMEWHERE = {"noun.object", "noun.animal", "noun.plant", "noun.food", "noun.person"}


def _a_thing(noun: str) -> bool:
    """A thing the objects table lists and no place: a bakery is somewhere (WordNet), though the
    table files bread under the word."""
    return bool(detect_things(noun)) and not wordnet.where(noun)


def _outermost(phrase: Phrase, places: list[Phrase], text: str) -> Phrase:
    """The place that holds this one, if the prompt says so ('in a paddling pool in the garden': the
    garden, the pool a thing in it; 'at a table in a park': the park); a name stays the city's."""
    for outer in places:
        if phrase.start <= outer.host < phrase.end and outer.prep in WITHIN and not outer.proper \
                and not _timely(outer.text) and not _lighting(outer, text) and not _a_thing(outer.head):
            return _outermost(outer, places, text)
    return phrase


def sun_time(reading: Reading | None) -> str | None:
    """'as the sun rises' is dawn, 'as the sun sets' sunset: the clause, not a time word."""
    if reading is None:
        return None
    for subject, verb in reading.clauses:
        if subject == "sun":
            if verb in ("rise", "come", "climb", "break"):
                return "dawn"
            if verb in ("set", "sink", "go", "fall", "dip"):
                return "sunset"
    return None


def _large(noun: str) -> bool:
    """Too big to lie on a bench in the insert: somewhere, a structure, a vehicle, water, a landform
    or a heavenly body ('sketches the cathedral', 'watches the sea', 'drives a carriage')."""
    return wordnet.kind(noun) in ("noun.artifact", "noun.object") and wordnet.is_a(noun, LARGE)


def _in_place(noun: str) -> bool:
    """Seen where it is, not laid on a bench: something large, or a creature ('carries a lamb')."""
    return _large(noun) or wordnet.kind(noun) == "noun.animal"


def _small(noun: str) -> bool:
    """A food, or a made thing one uses, lays down or sleeps under (a pan, a sofa, a rug, a blanket): no
    place to be ('fries eggs in a cast iron pan'); somewhere, a structure, a way, a vehicle or a roof is."""
    kind = wordnet.kind(noun)
    return (kind == "noun.food" or (kind == "noun.artifact" and wordnet.is_a(noun, USED))) and \
        not (wordnet.where(noun) or wordnet.is_a(noun, LARGE | {"way"}))


USED = {"instrumentality", "decoration", "commodity", "floor_cover", "bedclothes"}  # a roof is a covering too


# Its commonest sense (made or natural: a toenail is a body 'structure' too) descends from one of these.
LARGE = wordnet.WHERE | {"structure", "vehicle", "body_of_water", "geological_formation", "celestial_body"}


def said_thing(phrase: Phrase, held: bool) -> dict:
    """An objects-table entry for a thing no table lists, in the prompt's own words."""
    table = _rules()["said_thing"]
    a = phrase.text if phrase.plural or phrase.bare else an(phrase.text)  # 'grills corn': corn, not a corn
    be = "are" if phrase.plural else "is"
    return {"keywords": [phrase.text], "a": a, "kind": "held" if held and not _in_place(phrase.head) else "scene",
            "action": [t.replace("{a}", a) for t in table["held_action"]],
            "ambient": cap(table["ambient"][len(phrase.text) % len(table["ambient"])]
                           .replace("{A}", cap(a)).replace("{be}", be).replace("{a}", a)),
            "plural": phrase.plural}
