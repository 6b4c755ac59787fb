"""Stable ids and seeds: the same inputs always name the same reel and draw the same seeds."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def digest(obj: Any, n: int = 16) -> str:
    """Short sha256 of a JSON-able object (sorted keys), for ids and cache keys."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:n]


REEL_ID_RULE = ("a reel id is one folder name: 1-100 characters of letters, digits, '-', '_' and '.', "
                "starting with a letter or digit (no '/', no '..')")
_REEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def check_reel_id(reel_id: str) -> str:
    """A reel id names one folder under the root, never a path out of it."""
    from reel.errors import UserError

    if not isinstance(reel_id, str) or not _REEL_ID.fullmatch(reel_id) or ".." in reel_id:
        raise UserError(f"reel id {reel_id!r} is not allowed: {REEL_ID_RULE}")
    return reel_id


def control_char_problem(text: str, where: str) -> str | None:
    """None when `text` has no control character (tab and line breaks are whitespace, allowed),
    else one line naming the first one, its position and where it is. Control characters are
    refused, not cleaned: a NUL or a terminal escape in a prompt or plan is a mistake (or an
    attack) the writer should see, and nothing downstream (ids, subtitles, speech) can use it."""
    import unicodedata

    for pos, ch in enumerate(text):
        if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r":
            return (f"{where} contains the control character {ch!r} (U+{ord(ch):04X}) at character {pos + 1}; "
                    "remove it (terminal colour codes and NUL bytes are not text)")
    return None


def prompt_words(prompt: str | None) -> str:
    """The prompt as it is planned and named: its words, one space apart (a prompt with a doubled
    space or a trailing newline is the same reel)."""
    return " ".join((prompt or "").split())


def reel_id_for(prompt: str, **request: Any) -> str:
    """A readable, deterministic id: a slug of the prompt and a hash of what was asked."""
    prompt = prompt_words(prompt)
    slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:32].strip("-") or "reel"
    return f"{slug}-{digest({'prompt': prompt, **request}, 8)}"


def half(text: str) -> str:
    """The dev / held-out split of examples that anything is tuned on, fixed once: the first byte of
    the text's sha256, even for 'dev', odd for 'held-out'. Tune on dev, report both."""
    return "dev" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "held-out"


def seed_for(base: int, *parts: Any) -> int:
    """A 31-bit seed derived from the reel's base seed and a stage's coordinates."""
    return int(digest([base, *parts], 8), 16) & 0x7FFFFFFF
