"""Prompts in the other narration languages: find what they say and plan from an English gloss.

The tables (prompts/director_lexicon.json) are small on purpose: subject, verb, setting, time,
weather and things, the words a reel is made of. Places are read from the original text by the
gazetteer, so "東京" stays Tokyo. A prompt in none of the languages the director reads gets one
clear UserError instead of an unrelated reel.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from reel import prompts
from reel.errors import UserError
from reel.plan_checks import identify

from .day_periods import find_times
from .places import find_places
from .text import LEXICON, RULES, an, find_phrases, first_phrase

CATEGORIES = ("subject", "verb", "setting", "time", "weather", "thing")
ENGLISH_SURE = 0.9  # English prompts in the tests read 0.94-1.0; the table's other-language ones 0.97+ as theirs
VO_LANG = {"es": "e", "fr": "f", "it": "i", "pt": "p", "ja": "j", "zh": "z", "hi": "h"}


@dataclass(frozen=True)
class Reading:
    text: str  # what the director plans from: the prompt itself, or its English gloss
    language: str | None = None  # the language the gloss came from (None: English)
    vo_lang: str | None = None  # its narration language, for when the prompt names no place


def _hits(prompt: str, table: dict) -> list[tuple[int, str, str]]:
    """(position, category, English word) for every table word in the prompt, longest first at a spot."""
    words = {w: (cat, en) for cat in CATEGORIES for w, en in table[cat].items()}
    found: list[tuple[int, str, str]] = []
    if table.get("unspaced"):
        i = 0
        longest = max(map(len, words))
        while i < len(prompt):
            for n in range(min(longest, len(prompt) - i), 0, -1):
                if prompt[i:i + n] in words:
                    found.append((i, *words[prompt[i:i + n]]))
                    i += n - 1
                    break
            i += 1
        return found
    # Elisions read as two words: "l'aube" is "aube", "dell'alba" is "alba" (same length, same positions).
    spaced = prompt.replace("'", " ").replace("\u2019", " ")
    return [(m.start, *words[m.key]) for m in find_phrases(spaced, words)]


def _function_words(prompt: str, words: list[str], unspaced: bool) -> int:
    if unspaced:
        return sum(prompt.count(w) for w in words)
    return len(find_phrases(prompt, words))


def _english_vocabulary(prompt: str) -> bool:
    rules = prompts.table(RULES)
    words = [k for t in rules["times"].values() for k in t["keywords"]]
    words += [k for w in rules["weather"].values() for k in w["keywords"]] + list(rules["places"])
    words += [k for o in rules["objects"].values() for k in o["keywords"]]
    return first_phrase(prompt, words) is not None


def read_prompt(prompt: str) -> Reading:
    """The prompt as the director will read it: English as it is, another known language as a gloss."""
    table = prompts.table(LEXICON)
    english = _function_words(prompt, table["english_function"], False)
    best, best_score, best_hits = None, 0, []
    # A place's own name votes for no language: "Rio de Janeiro" in an English prompt is not Portuguese.
    voting = prompt
    for match, _ in find_places(prompt):
        if _whole_word(prompt, match.start, match.end):  # not "आरा" (Arrah) inside "मछुआरा" (fisherman)
            voting = voting[:match.start] + " " * (match.end - match.start) + voting[match.end:]
    for code, lang in table["languages"].items():
        hits = _hits(voting, lang)
        score = len(hits) + _function_words(voting, lang["function"], bool(lang.get("unspaced")))
        if score > best_score:
            best, best_score, best_hits = code, score, hits
    if best and best_score >= 2 and best_score > english and not _reads_english(prompt, best):
        return Reading(_gloss(prompt, best_hits), table["languages"][best]["name"], VO_LANG[best])
    if english == 0 and not _english_vocabulary(prompt):
        names = ", ".join(lang["name"] for lang in table["languages"].values())
        raise UserError(
            f"the offline director could not read this prompt: it plans from English, {names}, using small "
            "keyword tables. Write the prompt in one of those (e.g. 'a violinist plays in Cairo at midnight'), "
            "or use the LLM director, which reads any language (reel make --backends gpu, reel plan --director vllm).")
    return Reading(prompt)


def _reads_english(prompt: str, code: str) -> bool:
    """py3langid, asked English or the table's language, is sure it is English: the tables count a
    few words ('crates', 'canal' are Portuguese too), the identifier weighs every character n-gram."""
    found, sure = identify(prompt, ("en", code))
    return found == "en" and sure >= ENGLISH_SURE


def _whole_word(text: str, start: int, end: int) -> bool:
    """No letter or combining mark joins the span to its neighbours."""
    def joins(ch: str) -> bool:
        return unicodedata.category(ch)[0] in "LM"
    return not (start > 0 and joins(text[start - 1])) and not (end < len(text) and joins(text[end]))


def _gloss(prompt: str, hits: list[tuple[int, str, str]]) -> str:
    """'a fisherman mends the nets in the pier in Lisbon at dawn in the wind' from the words found."""
    first: dict[str, str] = {}
    things: list[str] = []
    for _, cat, en in sorted(hits):
        if cat == "thing":
            if en not in things:
                things.append(en)
        else:
            first.setdefault(cat, en)
    said = find_times(prompt)  # CLDR's names, whole: 'मध्यरात्रि' is midnight, not the 'रात' (night) inside it
    if said:
        first["time"] = said[0][1]
    subject = first.get("subject", "someone")
    if not subject.split()[0].isdigit() and not subject.startswith(("two ", "three ")):
        subject = an(subject)
    parts = [subject, first.get("verb", "waits")]
    if things:
        parts.append(" and ".join(f"the {t}" for t in things))
    if "setting" in first:
        parts.append(f"in the {first['setting']}")
    places = find_places(prompt)
    if places:
        parts.append(f"in {places[0][1].name}")
    if "time" in first:
        parts.append(f"at {first['time']}")
    if "weather" in first:
        parts.append(f"in the {first['weather']}")
    return " ".join(parts)
