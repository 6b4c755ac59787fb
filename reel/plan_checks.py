"""Plan rules beyond the shape: narration in the plan's language and short enough to be spoken
over its shot, in every script, and each character's verbatim reference in the shots it leads.
The language facts (scripts, speech rate, the length limit, ISO codes) live in prompts/locales.json."""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING

from reel import prompts

if TYPE_CHECKING:
    from reel.schema import Plan


def _script(ch: str) -> str:
    """Unicode script of a letter, from its name: LATIN, CJK, HIRAGANA, DEVANAGARI ..."""
    return unicodedata.name(ch, "UNKNOWN").split()[0]


def speech_seconds(line: str, lang: str) -> float:
    """Estimated spoken length: letters and digits over the language's read-aloud rate."""
    rate = prompts.table("locales.json")["languages"][lang]["speech_chars_per_second"]
    return sum(1 for ch in line if ch.isalnum()) / rate


# Below this the identifier is not sure enough to refuse a plan: the narration as a whole (six
# short lines) reads 0.99+ for its language; a name or two in another language stays far above this.
_SURE = 0.95
_MIN_LETTERS = 24  # fewer say too little about the language (a name, "Home.")


@functools.cache
def _identifier(candidates: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(candidates))
    return ident


def identify(text: str, candidates: tuple[str, ...]) -> tuple[str, float]:
    """(ISO code, probability) of the language `text` reads as, among `candidates` (py3langid)."""
    return _identifier(tuple(sorted(candidates))).classify(text)


@functools.lru_cache(maxsize=64)
def _language_problem(text: str, lang: str) -> str | None:
    """The narration reads as another language written in the same script (English under French
    vo_lang): the script check cannot see that, the voice then mispronounces every word."""
    from babel import Locale

    languages = prompts.table("locales.json")["languages"]
    info = languages[lang]
    same_script = {v["iso"] for v in languages.values() if set(v["scripts"]) & set(info["scripts"])}
    if len(same_script) < 2 or sum(ch.isalpha() for ch in text) < _MIN_LETTERS:
        return None
    found, sure = identify(text, tuple(same_script))
    if found == info["iso"] or sure < _SURE:
        return None
    return (f"vo_script_per_shot reads as {Locale.parse(found).english_name} ({sure:.0%} sure), but vo_lang is {lang!r} "
            f"({info['name']}); write the narration in {info['name']} or set vo_lang to the language it is in")


def longest_line_chars() -> int:
    """A ceiling on one narration line's characters in any language (spaces and punctuation
    included, which the speech estimate leaves out: a quarter more), for a decoder's schema."""
    table = prompts.table("locales.json")
    fastest = max(info["speech_chars_per_second"] for info in table["languages"].values())
    return int(fastest * table["max_line_seconds"] * 1.25)


def narration_problems(lines: list[str], lang: str) -> list[str]:
    table = prompts.table("locales.json")
    info, limit = table["languages"][lang], table["max_line_seconds"]
    problems, wrong_script = [], False
    for i, line in enumerate(lines):
        letters = [ch for ch in line if ch.isalpha()]
        foreign = [ch for ch in letters if _script(ch) not in info["scripts"]]
        if letters and len(foreign) > len(letters) / 2:
            wrong_script = True
            found = sorted({_script(ch).title() for ch in foreign})
            problems.append(f"vo_script_per_shot.{i} is written in {', '.join(found)} script, but vo_lang is "
                            f"{lang!r} ({info['name']}); write the line in {info['name']} or change vo_lang")
        seconds = speech_seconds(line, lang)
        if seconds > limit:
            problems.append(f"vo_script_per_shot.{i} would take about {seconds:.0f}s to speak in {info['name']} "
                            f"({len(line)} characters); keep each line under {limit:.0f}s (one short sentence)")
    if not wrong_script:  # a wrong script is the clearer message
        problems += filter(None, [_language_problem(" ".join(lines), lang)])
    return problems


def verbatim_problems(plan: "Plan") -> list[str]:
    """A shot led by a character repeats that character's opening portrait words verbatim: the
    image and video models keep a character consistent only through that exact string."""
    from reel.schema import short_reference

    problems = []
    for pos, shot in enumerate(plan.shots):
        key = shot.dominant_subject
        if key in plan.characters:
            ref = short_reference(plan.characters[key])
            if ref not in shot.prompt:
                problems.append(f"shots.{pos}.prompt does not contain character {key}'s reference {ref!r} "
                                "verbatim (the opening words of its portrait); paste it into the prompt")
    return problems
