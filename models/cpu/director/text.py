"""Reading the prompt: accent- and case-free phrase matching, and seeded choices.

Every choice comes from a random.Random seeded by a hash of (seed, prompt, purpose): the plan is a
pure function of (prompt, n_shots, seed), and changing how one part chooses does not reshuffle the
others.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

RULES = "director_rules.json"
CAST = "characters.json"
LOCALES = "locales.json"
NARRATION = "narration.json"
LEXICON = "director_lexicon.json"

# Words that say when (a phrase they lead is a time or weather: "after a storm", "during the monsoon").
WHEN = frozenset({"during", "after", "before", "until", "till", "since", "while", "as", "when"})

TOKEN = re.compile(r"[^\W\d_][\w'\u2019-]*")

def _fold_map(text: str) -> tuple[str, list[int]]:
    """Lowercase, accent-free text, and for each of its characters the index it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text.replace("\u2019", "'")):
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for low in c.lower():  # lower() may expand one character into two
                out.append(low)
                where.append(i)
    return "".join(out), where


def fold(text: str) -> str:
    return _fold_map(text)[0]


@dataclass(frozen=True)
class Match:
    start: int  # positions in the original text
    end: int
    key: str  # the table phrase that matched
    text: str  # as written in the prompt


def find_phrases(text: str, phrases: Iterable[str], plural: bool = False) -> list[Match]:
    """Whole-word occurrences of phrases (case- and accent-insensitive), in text order, longest first."""
    phrases = tuple(phrases)
    if not phrases:
        return []
    pattern, keys = _pattern(phrases, plural)
    folded, where = _fold_map(text)
    hits = []
    for m in pattern.finditer(folded):
        start, end = where[m.start()], where[m.end() - 1] + 1
        hits.append(Match(start, end, keys[m.group(1)], text[start:end]))
    return hits


@functools.lru_cache(maxsize=64)
def _pattern(phrases: tuple[str, ...], plural: bool) -> tuple[re.Pattern, dict[str, str]]:
    """One alternation for a whole table, longest phrase first, so 'New York' wins over 'York'."""
    keys: dict[str, str] = {}
    for phrase in phrases:
        keys.setdefault(fold(phrase), phrase)
    body = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])({body}){'(?:e?s)?' if plural else ''}(?!\w)"), keys


def first_phrase(text: str, phrases: Iterable[str], plural: bool = False) -> Match | None:
    hits = find_phrases(text, phrases, plural)
    return hits[0] if hits else None


def rng_for(prompt: str, seed: int, purpose: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{prompt}\x00{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def an(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def count_words(*parts: str) -> int:
    return sum(len(p.split()) for p in parts)

