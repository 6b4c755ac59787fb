"""The setting a prompt asks for: place phrase, time of day, weather, the things it names, the lead's action.

Every word list lives in prompts/director_rules.json; what the prompt says outright wins over a
default ("at dawn" beats the "night" of "night-shift", "snow falls" beats golden hour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reel import prompts

from . import wordnet
from .places import Locale
from .text import CAST, RULES, TOKEN, WHEN, Match, find_phrases, first_phrase, fold

ARTICLES = {"a", "an", "the", "this", "that", "its", "their", "her", "his"}


def _rules() -> dict:
    return prompts.table(RULES)


def _is_modifier(text: str, hit: Match) -> bool:
    """'night-shift', 'night shift': the time word names a kind of thing, not the hour."""
    after = text[hit.end:]
    nxt = re.match(r"[\s-]*([\w]+)", after)
    return after.startswith("-") or bool(nxt and fold(nxt.group(1)) in _rules()["time_compounds"])


# A sky word says the light, not the hour: 'a cloudy morning' is morning.
SKY = "overcast"


def time_of_day(text: str, weather: str | None = None) -> str:
    """The first hour the text says; else one said as a modifier ('a night market', 'after a night
    shift': the hour the reel is most likely at); else a sky word ('under grey skies'); hints
    (neon, moonlit) only when there is none; then the weather's default."""
    rules = _rules()
    words = {k: name for name, t in rules["times"].items() for k in t["keywords"]}
    hits = find_phrases(text, words)
    ranked = sorted(hits, key=lambda h: (words[h.key] == SKY, _is_modifier(text, h), h.start))
    if ranked:
        return words[ranked[0].key]
    hints = {k: name for name, ks in rules["time_hints"].items() for k in ks}
    hit = first_phrase(text, hints)
    if hit:
        return hints[hit.key]
    if LAMPLIT.search(text):
        return "night"
    return rules["default_time_by_weather"].get(weather or "", rules["default_time"])


# Light from a lamp, candle, fire, torch, the moon or a street ('by lamplight', 'in the firelight')
# is the light of night; sunlight and daylight are not, nor a skylight or a highlight.
# A counted one ('a flashlight') is a thing, and says no hour.
LAMPLIT = re.compile(r"(?<!\ba )(?<!\ban )\b(?!(?:sun|day|sky|high)light)[a-z]{3,}light\b", re.IGNORECASE)


def _modifiers(prefix: str, adjectives: set[str]) -> tuple[list[str], str | None]:
    """Capitalised words (a proper name like 'Pacific Heights') and one listed adjective just before a noun."""
    tokens = list(TOKEN.finditer(prefix))
    proper: list[str] = []
    adjective = None
    end = len(prefix)
    for tok in reversed(tokens):
        if prefix[tok.end():end].strip():  # punctuation between: the phrase ended
            break
        word = tok.group()
        if word[0].isupper() and fold(word) not in ARTICLES and len(proper) < 3 and adjective is None:
            proper.insert(0, word)
        elif fold(word) in adjectives:
            adjective = word.lower()
            break
        else:
            break
        end = tok.start()
    return proper, adjective


def proper_case(name: str) -> str:
    """'tokyo' and 'TOKYO' read 'Tokyo': shot prompts never shout."""
    return name.title() if name.islower() or name.isupper() else name


def detect_place(text: str, locale: Locale, people: list[tuple[int, int]] = ()) -> str:
    """The setting phrase used after 'the' in shots: '[adjective] [Proper or City] noun'. A place
    word inside a person's role ('lighthouse keeper', 'street musician') is not the setting."""
    rules = _rules()
    hits = [h for h in find_phrases(text, rules["places"], plural=True)
            if not any(s <= h.start < e for s, e in people)]
    hit = next((h for h in hits if _after_preposition(text, h)), hits[0] if hits else None)
    city = locale.city
    if hit is None:
        adjective, noun = rules["default_place"].split(" ", 1)
        return " ".join(w for w in (adjective, city, noun) if w)
    noun = rules["places"][hit.key]
    proper, adjective = _modifiers(text[:hit.start], {fold(a) for a in rules["place_adjectives"]})
    if proper and hit.text[0].isupper():  # part of a proper name: "Hyde Park", "Golden Gate Bridge"
        noun = proper_case(hit.text)
    if proper and locale.match and locale.is_city and fold(" ".join(proper)) == fold(locale.match.text):
        proper = []  # "Rotterdam bridges": the city, said in English below ("Golden Gate Bridge" stays)
    middle = " ".join(proper_case(w) for w in proper) if proper else city
    return " ".join(w for w in (adjective, middle, noun) if w)


def _after_preposition(text: str, hit: Match) -> bool:
    """'on a windy pier', 'in the harbour': a place word led by a preposition (within three words)
    is where the reel is; 'watches boats' names a thing, 'street vendor' a trade."""
    before = [fold(t.group()) for t in TOKEN.finditer(text[:hit.start])][-3:]
    return any(w in _rules()["place_prepositions"] for w in before)


def detect_weather(text: str) -> str | None:
    """The first weather word that is weather, not clothing ('a rain jacket')."""
    rules = _rules()
    words = {k: name for name, w in rules["weather"].items() for k in w["keywords"]}
    hits = [(h.start, words[h.key]) for h in find_phrases(text, words) if not _worn(text, h.end)]
    hits += [(m.start(), kind) for m in TOKEN.finditer(text)
             for kind in [_compound_weather(fold(m.group()), words) or _y_weather(fold(m.group()), words)
                          or _wordnet_weather(fold(m.group()), words, _when(text, m.start()))]
             if kind and not _worn(text, m.end())]
    return min(hits)[1] if hits else None


def _worn(text: str, end: int) -> bool:
    """The weather word ending at `end` names clothing: 'a rain jacket', 'storm-proof'."""
    nxt = re.match(r"[\s-]*([\w]+)", text[end:])
    return bool(nxt) and fold(nxt.group(1)) in _rules()["weather_compounds"]


def _when(text: str, start: int) -> bool:
    """The word at `start` is in a phrase that says when ('after a summer shower', 'during the monsoon')."""
    return any(fold(t.group()) in WHEN for t in list(TOKEN.finditer(text[:start]))[-3:])


def _wordnet_weather(word: str, words: dict[str, str], when: bool = False) -> str | None:
    """A weather phenomenon no table lists, by what WordNet files it under: 'a squall' is a wind, 'a
    hailstorm' a storm, 'a cloudburst' a downpour; 'it rains' says rain (the verb's noun). One of its
    two commonest senses, or any sense in a phrase that says when: 'after a summer shower' is rain,
    though a shower is first a bathroom's."""
    if word in words or "noun.phenomenon" not in wordnet.kinds(word)[:None if when else 2] or wordnet.adjective(word):
        return None  # 'a calm lake' says no wind (WordNet's calm air is a wind)
    # Nearest first, a compound of weather words read as one ('a sandstorm' is a windstorm before a
    # storm); a phenomenon whose name starts with a weather word is that weather ('raindrops', 'snowflakes').
    found = (words.get(w) or _compound_weather(w, words) for w in wordnet.lineage(word, depth=2))
    return next((kind for kind in found if kind), None) or next(
        (kind for w, kind in words.items() if len(w) > 2 and w.isalpha() and word.startswith(w)), None)


def _y_weather(word: str, words: dict[str, str]) -> str | None:
    """An adjective made from a weather noun with -y says its weather: 'breezy' (breeze), 'misty',
    'foggy' (fog), 'stormy'."""
    if len(word) < 4 or not word.endswith("y") or word in words:
        return None
    stem = word[:-1]
    for noun in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else None):
        if noun and noun in words:
            return words[noun]
    return None


def _compound_weather(word: str, words: dict[str, str]) -> str | None:
    """A word made of two weather words says its first one's weather: 'snowstorm' is snow, 'rainstorm'
    rain, 'windstorm' wind ('rainbow' and 'windmill' are no weather: their second part is none)."""
    for cut in range(3, len(word) - 3):
        if word[:cut] in words and word[cut:] in words and word not in words:
            return words[word[:cut]]
    return None


def detect_things(text: str) -> list[str]:
    """Every object and creature the prompt names, in order of mention, each once."""
    objects = _rules()["objects"]
    words = {k: name for name, o in objects.items() for k in o["keywords"]}
    found: list[str] = []
    for hit in find_phrases(text, words):
        if words[hit.key] not in found:
            found.append(words[hit.key])
    return found


@dataclass(frozen=True)
class Action:
    text: str  # "mends {pos} nets", "rides a bicycle across Rotterdam bridges"
    verb: str  # as written: "mends", "cycles"


def lead_action(text: str, after: int, plural: bool = False) -> Action | None:
    """The verb phrase that follows the lead's mention: 'mends his nets', 'cycles across Rotterdam bridges'.

    It runs from the first verb-like word to a clause break or a preposition that starts the
    setting ('in', 'at', 'while'), keeps one directional phrase ('across Rotterdam bridges'), turns
    possessives into the actor's pronoun and a verb the table knows into its phrase (cycles -> rides
    a bicycle). After a plural subject (`subject_end`) the verb is in its base form ('haul nets');
    the shots say it of the lead alone, so it becomes 'hauls nets'."""
    table = _rules()["action_words"]
    tokens = [t for t in TOKEN.finditer(text) if t.start() >= after]
    words: list[str] = []
    verb = None
    for k, tok in enumerate(tokens):
        gap = text[tokens[k - 1].end():tok.start()] if k else text[after:tok.start()]
        word = tok.group()
        low = fold(word)
        if verb is None:
            if k > 1 or gap.strip(" ,"):
                return None
            if low in table["skip"] or _adverb(low):
                continue
            said = low in table["verbs"] or _third_person(low, table)
            if not word.islower() or not (said or (plural and _base_form(low, table))):
                return None
            verb = word
            if not said:
                word = low = _said_of_one(low, table)
            words.append(table["verbs"].get(low, word))
            continue
        if re.search(r"[,;:.!?]", gap) or low in table["stops"] or len(words) >= table["max_words"]:
            break
        if low in table["directions"] and any(fold(w) in table["directions"] for w in words[1:]):
            break
        words.append(table["possessives"].get(low, word))
    if verb is None:
        return None
    return Action(" ".join(words), verb)


def _adverb(word: str) -> bool:
    """'slowly', 'gently' ('fly' and 'rely' are verbs)."""
    return word.endswith("ly") and len(word) > 4


def _base_form(word: str, table: dict) -> bool:
    """'haul', 'drink', 'kiss': what may be a verb after a plural subject (no plural noun, no
    function word, no adverb)."""
    return (word.isalpha() and len(word) > 1 and not (word.endswith("s") and not word.endswith("ss"))
            and not _adverb(word) and word not in ARTICLES
            and not any(word in table[k] for k in ("stops", "skip", "directions", "not_verbs")))


def _said_of_one(verb: str, table: dict) -> str:
    """A base-form verb in the third person singular: haul -> hauls, watch -> watches, carry -> carries.
    (lemminflect does this too, but loads 2.5 s of tables into every plan.)"""
    if verb in table["third_person_irregular"]:
        return table["third_person_irregular"][verb]
    if re.search(r"(s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def subject_end(text: str, lead_end: int, lead_role: str | None, mention_ends: list[int]) -> tuple[int, bool]:
    """Where the lead's subject ends and whether it is plural: 'two friends', 'two old men' (a plural
    mention; irregular plurals from the cast table), 'a fisherman and his granddaughter', 'a
    man and his dog' (a pair joined by 'and': up to two words before the partner, who is another
    mention, a creature or thing the rules know, or a name)."""
    lead = fold(text[:lead_end].split()[-1]) if text[:lead_end].split() else ""
    if lead_role and lead != fold(lead_role) and (lead.endswith("s") or lead in prompts.table(CAST)["plurals"]):
        return lead_end, True
    join = re.match(r"\s+and\s+(?:(?:his|her|their|the|a|an|my|our)\s+)?", text[lead_end:])
    if not join:
        return lead_end, False
    things = {k for o in _rules()["objects"].values() for k in o["keywords"]}
    for tok in [t for t in TOKEN.finditer(text, lead_end + join.end())][:3]:
        if tok.end() in mention_ends or fold(tok.group()) in things or tok.group()[:1].isupper():
            return tok.end(), True
    return lead_end, False


def _third_person(word: str, table: dict) -> bool:
    """'mends', 'carries', 'watches': a present-tense verb after a singular subject."""
    return (word.endswith("s") and not word.endswith("ss") and not word.endswith("us") and len(word) > 3
            and word not in table["not_verbs"])
