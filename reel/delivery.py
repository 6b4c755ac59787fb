"""How a reel is delivered: its loudness target and subtitle mode, resolved from what was asked and
the aspect (configs/delivery.json holds the targets, safe areas and defaults)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from reel import prompts
from reel.errors import UserError

TABLE = "delivery.json"


class Delivery(BaseModel):
    """What the mix makes of the picture and sound it is given."""

    model_config = ConfigDict(frozen=True)

    aspect: str = "16:9"
    loudness: str = "-18"  # a named target (web, podcast, broadcast) or a number of LUFS
    target_lufs: float = -18.0
    subtitles: str = "srt"  # burn, srt or off (.srt and .vtt are written whatever the mode)


def loudness_table() -> dict:
    return prompts.table(TABLE)["loudness"]


def subtitle_table() -> dict:
    return prompts.table(TABLE)["subtitles"]


def target_lufs(loudness: str) -> float:
    """LUFS of a named target or of a number given as text ("-18")."""
    table = loudness_table()
    if loudness in table["targets_lufs"]:
        return float(table["targets_lufs"][loudness])
    low, high = table["custom_range_lufs"]
    names = ", ".join(table["targets_lufs"])
    try:
        value = float(loudness)
    except ValueError:
        raise UserError(f"unknown loudness {loudness!r}; choose one of: {names}, or a level in LUFS such as -18")
    if not low <= value <= high:
        raise UserError(f"loudness {value:g} LUFS is out of range; give {low:g} to {high:g} LUFS, or one of: {names}")
    return value


def delivery_for(aspect: str, loudness: str | None = None, subtitles: str | None = None) -> Delivery:
    """The delivery asked for, with each unset choice taken from the aspect's default."""
    loud, subs = loudness_table(), subtitle_table()
    if aspect not in loud["default"]:
        raise UserError(f"unknown aspect {aspect!r}; choose one of: {', '.join(loud['default'])}")
    loudness = str(loudness) if loudness not in (None, "") else loud["default"][aspect]
    subtitles = subtitles or subs["default"][aspect]
    if subtitles not in subs["modes"]:
        raise UserError(f"unknown subtitles mode {subtitles!r}; choose one of: {', '.join(subs['modes'])}")
    return Delivery(aspect=aspect, loudness=loudness, target_lufs=target_lufs(loudness), subtitles=subtitles)


def narration_table() -> dict:
    return prompts.table(TABLE)["narration"]
