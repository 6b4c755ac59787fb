"""Access to the data files in prompts/: system prompts, negatives, verb and locale tables.

Their content hashes go into cache keys, so editing a table invalidates exactly the stages
that read it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def path(name: str) -> Path:
    return PROMPTS_DIR / name


@functools.cache
def text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")


@functools.cache
def table(name: str) -> Any:
    return json.loads(text(name))


def digest(*names: str) -> str:
    """sha256 over the named prompt files (name and bytes), for cache keys."""
    h = hashlib.sha256()
    for name in sorted(names):
        h.update(name.encode())
        h.update(path(name).read_bytes())
    return h.hexdigest()[:16]
