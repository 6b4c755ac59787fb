"""First names, from gender-guesser's dictionary (about 45,000 names across Europe, Asia and the
Americas, with how often each is given to women or men): whether a capitalised word can be a
person's name, and which pronoun a named character takes when the prompt does not say."""

from __future__ import annotations

import functools

_GENDERS = {"female": "f", "mostly_female": "f", "male": "m", "mostly_male": "m"}


@functools.cache
def _detector():
    import gender_guesser.detector  # noqa: PLC0415 - 0.2 s of tables, only when a name is in question

    return gender_guesser.detector.Detector(case_sensitive=False)


def is_first_name(word: str) -> bool:
    return _detector().get_gender(word) != "unknown"


def gender_of(name: str) -> str | None:
    """'f' or 'm' when the name is mostly given to one; None for names given to both ('Mei', 'Chen')."""
    return _GENDERS.get(_detector().get_gender(name))
