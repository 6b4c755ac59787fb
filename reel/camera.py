"""Camera verbs: which move a shot asks for, read from the opening of its prompt."""

from __future__ import annotations

from reel import prompts

TABLE = "camera_verbs.json"


def camera_move(prompt: str) -> str:
    """The move named by the longest known camera phrase at the start of the prompt ('static' if none)."""
    head = " ".join(prompt.lower().replace(",", " ").replace(".", " ").split()[:6])
    phrases = prompts.table(TABLE)["phrases"]
    for phrase in sorted(phrases, key=len, reverse=True):
        if head.startswith(phrase):
            return phrases[phrase]
    return "static"


def move_vector(move: str) -> dict[str, float]:
    """Zoom and shift (fractions of the frame over the whole shot) for a named move."""
    return prompts.table(TABLE)["moves"][move]


def known_phrases() -> list[str]:
    return list(prompts.table(TABLE)["phrases"])
