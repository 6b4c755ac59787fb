"""The one loader of the data files: prompts/ (system prompts, negatives, the director's and the
painter's tables: what the models are told) and configs/ (costs, delivery targets, QC thresholds,
retry strategies, model configs: how the pipeline is tuned). A caller names a file; where it
lives is decided here, once.

Every JSON table is validated against its schema (reel/table_schemas/) when first read, so a
broken table stops with its file and key. Their content hashes go into cache keys, so editing a
table invalidates exactly the stages that read it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reel import table_schemas as ts

ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = ROOT / "prompts"
CONFIGS_DIR = ROOT / "configs"

# Each JSON table and its schema; where the file lives follows from which folder holds it.
SCHEMAS: dict[str, type[BaseModel]] = {
    "animatic.json": ts.Animatic, "camera_verbs.json": ts.CameraVerbs, "characters.json": ts.Characters,
    "day_periods.json": ts.DayPeriods,
    "director_lexicon.json": ts.DirectorLexicon, "director_rules.json": ts.DirectorRules,
    "image_prompts.json": ts.ImagePrompts, "locales.json": ts.Locales, "music_preview.json": ts.MusicPreview,
    "narration.json": ts.Narration,
    "costs.json": ts.Costs, "delivery.json": ts.Delivery, "qc_thresholds.json": ts.QcThresholds,
    "strategies.json": ts.Strategies,
    **{f"models/{role}.json": ts.ModelConfig for role in ("director", "image", "video", "music", "voice")},
}


class TableError(ValueError):
    """A data file does not match its schema: which file, which key, what was wrong."""


def path(name: str) -> Path:
    """Where a data file lives: configs/ when it is there, else prompts/."""
    config = CONFIGS_DIR / name
    return config if config.exists() else PROMPTS_DIR / name


@functools.cache
def text(name: str) -> str:
    return path(name).read_text(encoding="utf-8")


@functools.cache
def table(name: str) -> Any:
    """A JSON table as plain data, checked once against its schema."""
    data = json.loads(text(name))
    check(name, data)
    return data


def check(name: str, data: Any) -> BaseModel:
    """The table validated by its schema; TableError names the file and the first bad key."""
    schema = SCHEMAS.get(name)
    if schema is None:
        raise TableError(f"{path(name)}: no schema; add one to reel/table_schemas/ and SCHEMAS")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TableError(f"{path(name)}: key {where}: {first['msg']}{more}") from None


def tables() -> list[str]:
    """Every JSON table under prompts/ and configs/, by the name callers use."""
    found = [p.name for p in PROMPTS_DIR.glob("*.json")]
    found += [str(p.relative_to(CONFIGS_DIR)) for p in CONFIGS_DIR.rglob("*.json")]
    return sorted(found)


def digest(*names: str) -> str:
    """sha256 over the named data files (name and bytes), for cache keys."""
    h = hashlib.sha256()
    for name in sorted(names):
        h.update(name.encode())
        h.update(path(name).read_bytes())
    return h.hexdigest()[:16]
