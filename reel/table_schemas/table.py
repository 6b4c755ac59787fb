"""What every table schema shares: the base model (named keys only, notes for people skipped) and
the small types the tables use."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Byte = Annotated[int, Field(ge=0, le=255)]
RGB = tuple[Byte, Byte, Byte]
Span = tuple[float, float]
Years = tuple[int, int]
Words = list[str]


class Table(BaseModel):
    """A table or one of its records: named keys only; `_`-prefixed notes are skipped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_notes(cls, data: Any) -> Any:
        return _without_notes(data)


def _without_notes(data: Any) -> Any:
    """The data with every `_`-prefixed key (a note for people) left out, at any depth."""
    if isinstance(data, dict):
        return {k: _without_notes(v) for k, v in data.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(data, list):
        return [_without_notes(v) for v in data]
    return data
