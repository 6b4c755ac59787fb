"""Shared drawing helpers of the animatic: the table, colour arithmetic, stable hashes, supersampling."""

from __future__ import annotations

import hashlib
import unicodedata

import numpy as np

from reel import prompts

TABLE = "animatic.json"
SS = 2  # supersampling factor
RGB = tuple[int, int, int]


def table() -> dict:
    return prompts.table(TABLE)


def stable_int(*parts: object) -> int:
    """A hash that is the same in every process (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def shade(c: RGB, k: float) -> RGB:
    return tuple(int(max(0, min(255, v * k))) for v in c)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, k: float) -> RGB:
    return tuple(int(round(x + (y - x) * k)) for x, y in zip(a, b))  # type: ignore[return-value]


def tinted(c: RGB, tint: list[float]) -> RGB:
    return tuple(int(max(0, min(255, v * t))) for v, t in zip(c, tint))  # type: ignore[return-value]


def ascii_text(text: str) -> str:
    """The bundled font has Latin glyphs only (plus the middle dot): fold accents, drop the rest."""
    text = unicodedata.normalize("NFKD", text.replace("—", "-").replace("–", "-"))
    return "".join(ch for ch in text if ch == "·" or (ord(ch) < 128 and ch.isprintable()))



def gradient(w: int, h: int, y0: int, y1: int, c0: RGB, c1: RGB) -> np.ndarray:
    k = np.clip((np.arange(h, dtype=np.float32) - y0) / max(1, y1 - y0), 0, 1)[:, None, None]
    row = np.array(c0, np.float32) * (1 - k) + np.array(c1, np.float32) * k
    return np.broadcast_to(row, (h, w, 3))
