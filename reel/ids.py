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


def reel_id_for(prompt: str, **request: Any) -> str:
    """A readable, deterministic id: a slug of the prompt and a hash of what was asked."""
    slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:32].strip("-") or "reel"
    return f"{slug}-{digest({'prompt': prompt, **request}, 8)}"


def seed_for(base: int, *parts: Any) -> int:
    """A 31-bit seed derived from the reel's base seed and a stage's coordinates."""
    return int(digest([base, *parts], 8), 16) & 0x7FFFFFFF
