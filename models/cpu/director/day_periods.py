"""Times of day said in other languages and scripts, read from CLDR's day periods (Babel).

CLDR names the parts of the day in every locale ("منتصف الليل", "真夜中", "в полночь", "à minuit")
and says which hours each covers there (its day-period rules). A name reads as the director time
whose hours (prompts/day_periods.json) overlap its period's most. Names are found where the
gazetteer finds place names (places.py): whole words in scripts with spaces, the longest run in
those without. CLDR lists the forms a clock uses; a sentence inflects them ("утром", "الليل"), so
a word of another script than Latin whose stem is a name's stem, by the Snowball stemmer of the
name's own language (Arabic, Russian, Greek, Hindi, Persian ...), reads as that name. A
Latin-script name that is also an English word ("sore", Indonesian afternoon; "nag", Afrikaans
night) stays English: the English pipeline's lemmatizer lists it and its vocabulary has seen it.
The director's own English table reads English, so `in_english` puts the director's word for each
name found in its place ("... عند midnight") and the rest of the director reads the time as it
reads "at midnight" (and no longer carries the name as a thing).

The index is built once per Babel version, table and this module's code (about 3 s: every
locale's data) and kept in ~/.cache/reel.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from reel import prompts

from .places import _is_latin, _spaced, _whole_word
from .text import Match

TABLE = "day_periods.json"
DAY = 24 * 60  # minutes


def _table() -> dict:
    return prompts.table(TABLE)


def _minutes(start_h: float, before_h: float) -> set[int]:
    """The minutes of a [start, before) span of hours, wrapping past midnight."""
    start, before = round(start_h * 60) % DAY, round(before_h * 60) % DAY
    return set(range(start, before)) if start < before else set(range(start, DAY)) | set(range(before))


@functools.cache
def _hours() -> dict[str, set[int]]:
    return {time: set().union(*(_minutes(*span) for span in spans)) for time, spans in _table()["hours"].items()}


def time_of(rules: list[dict]) -> str | None:
    """The director time for a CLDR period ({"at": s} or {"from": s, "before": s}, seconds past midnight)."""
    period: set[int] = set()
    for rule in rules:
        if "at" in rule:
            period.add(rule["at"] // 60 % DAY)
        elif "from" in rule and "before" in rule:
            period |= _minutes(rule["from"] / 3600, rule["before"] / 3600)
    overlap = {time: len(period & minutes) for time, minutes in _hours().items()}
    best = max(overlap, key=overlap.get)  # the table's order breaks a tie
    return best if overlap[best] else None


def _usable(name: str) -> bool:
    """A name a prompt would write: no abbreviation ('nachm.', 'AM'), clock figure or 'pg/sg' pair."""
    if any(c.isdigit() or c in "./" for c in name):
        return False
    return not _is_latin(name) or (sum(c.isalpha() for c in name) >= 3 and not name.isupper())


def _build() -> dict:
    """{"names": every usable day-period name of every CLDR language -> the director time its hours
    read as (all the periods it names in its language; where languages disagree, the most of them),
    "stems": Snowball algorithm -> its language's names in another script than Latin, stemmed}."""
    from babel import Locale, localedata  # noqa: PLC0415 - every locale's data: only when the cache is cold

    table = _table()
    votes: dict[str, Counter] = defaultdict(Counter)
    stem_votes: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for code in sorted(localedata.locale_identifiers()):
        if "_" in code or code in table["skip_locales"]:  # a language's own names, not each territory's copy
            continue
        locale = Locale.parse(code)
        rules = locale.day_period_rules.get(None, {})
        periods: dict[str, set[str]] = defaultdict(set)  # French 'matin' names both 00-04 and 04-12
        for widths in locale.day_periods.values():  # format, stand-alone
            for names in widths.values():  # abbreviated, narrow, wide
                for period, name in names.items():
                    name = " ".join(name.split())  # CLDR writes some with no-break spaces
                    if period in rules and period not in table["skip_periods"] and _usable(name):
                        periods[name].add(period)
        algorithm = (locale.english_name or "").lower()
        for name, ids in periods.items():
            time = time_of([rule for period in sorted(ids) for rule in rules[period]])
            if not time:
                continue
            votes[name][time] += 1
            key = _stemmed(algorithm, name.split()) if not _is_latin(name) else None
            if key:
                stem_votes[algorithm][key][time] += 1
    names = {name: counts.most_common(1)[0][0] for name, counts in votes.items()}
    names.update({name[:1].upper() + name[1:]: t for name, t in list(names.items()) if name[:1].islower()})
    stems = {a: {k: c.most_common(1)[0][0] for k, c in keys.items()} for a, keys in stem_votes.items()}
    return {"names": names, "stems": stems}  # names also as they open a sentence: "Полночь", "Minuit"


@functools.cache
def _stemmer(algorithm: str):
    import snowballstemmer  # noqa: PLC0415

    return snowballstemmer.stemmer(algorithm) if algorithm in snowballstemmer.algorithms() else None


def _stemmed(algorithm: str, words: list[str]) -> str | None:
    """The words' stems in the language's Snowball algorithm ('утром' and 'утро' are both 'утр'),
    or None where it has none or a stem is under two letters."""
    stemmer = _stemmer(algorithm)
    stems = stemmer.stemWords(words) if stemmer else []
    return " ".join(stems) if stems and all(len(s) >= 2 for s in stems) else None


@functools.cache
def _index() -> dict:
    from importlib.metadata import version  # noqa: PLC0415

    # The key names all the index depends on: Babel's CLDR, the stemmers, the table and this module.
    made_by = [version("babel"), version("snowballstemmer"), _table(),
               hashlib.sha256(Path(__file__).read_bytes()).hexdigest()]
    key = hashlib.sha256(json.dumps(made_by, sort_keys=True).encode()).hexdigest()[:16]
    path = Path.home() / ".cache" / "reel" / f"day-periods-{key}.json"
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = _build()
        try:  # a read-only home only costs the next process the build again
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(index, ensure_ascii=False, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass
    index["longest"] = max(map(len, index["names"]), default=0)
    index["most_words"] = max((k.count(" ") + 1 for keys in index["stems"].values() for k in keys), default=0)
    return index


@functools.cache
def _english_words() -> frozenset[str]:
    """Words the English pipeline knows: listed by its lemmatizer (WordNet) and seen by its vocabulary."""
    from .reading import _nlp  # noqa: PLC0415 - the parse's own pipeline, loaded for English prompts anyway

    nlp = _nlp()
    listed = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(w for words in listed.values() for w in words if w in nlp.vocab.strings)


def _english(name: str) -> bool:
    return _is_latin(name) and name.lower() in _english_words()


def find_times(text: str) -> list[tuple[Match, str]]:
    """Every day-period name in the text (longest at each spot, whole words), with its director time;
    then, in the words no name covers, a word of another script than Latin whose stem is a name's
    stem in that name's language ('утром' is 'утро', 'الليل' is 'ليلاً')."""
    index = _index()
    names = index["names"]
    hits: list[tuple[Match, str]] = []
    i = 0
    while i < len(text):
        for n in range(min(index["longest"], len(text) - i), 0, -1):
            name = text[i:i + n]
            time = names.get(name)
            if time and _whole_word(text, i, i + n) and not _english(name):
                hits.append((Match(i, i + n, time, name), time))
                i += n - 1
                break
        i += 1
    hits += [h for h in clock_times(text) if not any(m.start < h[0].end and h[0].start < m.end for m, _ in hits)]
    taken = [(m.start, m.end) for m, _ in hits]
    return sorted(hits + _stem_hits(text, index, taken), key=lambda h: h[0].start)


# A time on the clock: '3 am', '9:30 p.m.', '11pm', or a 24-hour '15:00' / '06h30'.
_CLOCK = re.compile(r"(?<![\w:])(\d{1,2})(?:[:.h](\d{2}))?\s*([ap])\.?\s?m\b\.?"
                    r"|(?<![\w:])([01]?\d|2[0-3])[:h]([0-5]\d)(?![\w:])", re.IGNORECASE)


def clock_times(text: str) -> list[tuple[Match, str]]:
    """Each clock time in the text with the director time whose hours (the table's) hold it."""
    hits: list[tuple[Match, str]] = []
    for m in _CLOCK.finditer(text):
        if m.group(1):
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            if not 1 <= hour <= 12 or minute > 59:
                continue
            hour = hour % 12 + (12 if m.group(3).lower() == "p" else 0)
        else:
            hour, minute = int(m.group(4)), int(m.group(5))
        at = hour * 60 + minute
        time = next((t for t, minutes in _hours().items() if at in minutes), None)
        if time:
            hits.append((Match(m.start(), m.end(), time, m.group()), time))
    return hits


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of letters and the marks that join them ('ليلاً', 'रातें')."""
    spans: list[tuple[int, int]] = []
    start = None
    for i, ch in enumerate(f"{text} "):
        inside = unicodedata.category(ch)[0] in "LM" and (start is not None or ch.isalpha())
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _stem_hits(text: str, index: dict, taken: list[tuple[int, int]]) -> list[tuple[Match, str]]:
    """Runs of up to `most_words` side-by-side words outside `taken` whose stems are a name's."""
    words = [(s, e) for s, e in _words(text)
             if not _is_latin(text[s:e]) and _spaced(text[s]) and not any(a < e and s < b for a, b in taken)]
    hits: list[tuple[Match, str]] = []
    i = 0
    while i < len(words):
        for n in range(min(index["most_words"], len(words) - i), 0, -1):
            run = words[i:i + n]
            if any(text[a[1]:b[0]].strip() for a, b in zip(run, run[1:])):
                continue  # only words side by side make one name
            time = next((keys[k] for a, keys in sorted(index["stems"].items())
                         for k in [_stemmed(a, [text[s:e] for s, e in run])] if k in keys), None)
            if time:
                start, end = run[0][0], run[-1][1]
                hits.append((Match(start, end, time, text[start:end]), time))
                i += n - 1
                break
        i += 1
    return hits


def in_english(text: str) -> str:
    """The text with the director's word for each time of day said in another language:
    'عازف كمان يعزف in a Brooklyn subway station عند منتصف الليل' -> '... عند midnight'."""
    for match, time in reversed(find_times(text)):
        before = " " if match.start and text[match.start - 1].isalnum() else ""
        after = " " if match.end < len(text) and text[match.end].isalnum() else ""
        text = f"{text[:match.start]}{before}{time}{after}{text[match.end:]}"
    return text
