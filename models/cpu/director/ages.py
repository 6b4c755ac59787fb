"""How old someone is, as the prompt says it: 'a 70-year-old', 'a seventy-year-old', 'an old',
'in her eighties', or what the person word itself names ('a toddler', 'an octogenarian', 'a granny').

The age words and the ages of WordNet's kinds of person live in prompts/characters.json.
"""

from __future__ import annotations

import re

from reel import prompts

from . import wordnet
from .text import CAST

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER = rf"\d{{1,3}}|(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS[1:10])}))?|{'|'.join(_UNITS)}"
_YEARS_OLD = re.compile(rf"\b({_NUMBER})[- ]years?[- ]old\W+(?:[\w-]+\W+){{0,2}}$", re.IGNORECASE)
_DECADE = re.compile(rf"^,?\s+in\s+(?:his|her|their)\s+(early\s+|mid-?\s*|late\s+)?({'|'.join(t + 'ies' for t in (w[:-1] for w in _TENS))})\b",
                     re.IGNORECASE)


def _value(number: str) -> int:
    """'70', 'seventy', 'seventy-five', 'twelve'."""
    if number.isdigit():
        return int(number)
    words = re.split(r"[- ]", number.lower())
    tens = 20 + 10 * _TENS.index(words[0]) if words[0] in _TENS else 0
    return tens + (_UNITS.index(words[-1]) if words[-1] in _UNITS else 0) if tens else _UNITS.index(words[0])


def said_before(text: str, before: list[str]) -> tuple[int, int] | None:
    """'a 70-year-old fisherman', 'a seventy-year-old baker', 'an old fisherman' (text: what comes before
    the person word; before: its last words, lowercase)."""
    exact = _YEARS_OLD.search(text)
    if exact:
        return (_value(exact.group(1)),) * 2
    ages = prompts.table(CAST)["age_words"]
    return next((tuple(ages[w]) for w in reversed(before) if w in ages), None)


def said_after(text: str) -> tuple[int, int] | None:
    """'a woman in her eighties' (text: what follows the person word)."""
    decade = _DECADE.search(text)
    if decade is None:
        return None
    start = 20 + 10 * [t[:-1] + "ies" for t in _TENS].index(decade.group(2).lower())
    part = (decade.group(1) or "").strip().lower().rstrip("-")
    return {"early": (start, start + 3), "mid": (start + 4, start + 6), "late": (start + 7, start + 9)}.get(part, (start, start + 9))


def of_kind(noun: str) -> tuple[int, int] | None:
    """The ages of a person word by the WordNet kind it descends from ('a newborn' a baby, 'a granny'
    an old person, 'a teenager' an adolescent); the first listed kind that matches."""
    kinds = {k: v for k, v in prompts.table(CAST)["kind_ages"].items() if not k.startswith("_")}
    return next((tuple(ages) for kind, ages in kinds.items() if wordnet.is_a(noun, {kind}, senses=2)), None)
