"""Captions: cue times from the measured narration, lines split at phrase boundaries to fit the
platform safe area, and the three files (.srt, .vtt, and .ass for libass to burn in)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reel.delivery import subtitle_table
from reel.fonts import Font, font_for

# Where a line may break, best first: after a clause mark, then at a space.
PHRASE_MARKS = ",;:—–、，；：。！？!?"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def cues(lines: list[str], starts: list[float], spoken: list[float], shot_seconds: float) -> list[Cue]:
    """One cue per line, from its shot's start for as long as it is spoken (at least the table's
    minimum), never past its own shot's end."""
    least = subtitle_table()["min_seconds"]
    return [Cue(s, min(s + max(d, least), s + shot_seconds), line.strip())
            for line, s, d in zip(lines, starts, spoken)]


def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def srt(items: list[Cue]) -> str:
    return "".join(f"{i + 1}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n\n"
                   for i, c in enumerate(items))


def vtt(items: list[Cue]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n\n" for c in items)


def _measure(font: Font, px: int):
    from PIL import ImageFont

    # Raqm shapes like libass with HarfBuzz does (conjuncts in Devanagari), so widths agree.
    def face(size: float):
        return ImageFont.truetype(str(font.path), size, index=font.index, layout_engine=ImageFont.Layout.RAQM)

    # libass sizes a font so that ascent + descent (not the em) is the style's Fontsize.
    ascent, descent = face(px).getmetrics()
    return face(px * px / (ascent + descent)).getlength


def _breaks(text: str) -> list[list[int]]:
    """Candidate break positions, grouped best first: clause marks, then spaces, then any character
    (for languages written without spaces), never before a closing mark."""
    marks = [i + 1 for i, ch in enumerate(text[:-1]) if ch in PHRASE_MARKS]
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    chars = [i for i in range(1, len(text)) if text[i] not in PHRASE_MARKS and not text[i].isspace()]
    return [marks, spaces, chars]


def split_lines(text: str, width_of, room: float) -> list[str] | None:
    """The text as one line, or two split at the best phrase boundary that fits `room` pixels
    (most balanced within the best kind of boundary); None if no split fits."""
    text = re.sub(r"\s+", " ", text.strip())
    if width_of(text) <= room:
        return [text]
    for group in _breaks(text):
        fits = []
        for at in group:
            a, b = text[:at].strip(), text[at:].strip()
            if a and b and width_of(a) <= room and width_of(b) <= room:
                fits.append((abs(width_of(a) - width_of(b)), [a, b]))
        if fits:
            return min(fits, key=lambda f: f[0])[1]
    return None


def layout(text: str, lang: str, size: tuple[int, int], aspect: str) -> tuple[list[str], int]:
    """Lines and font size (px) for one caption: the aspect's size, smaller only if even two
    lines would not fit inside the safe area."""
    table = subtitle_table()
    w, h = size
    room = w * (1 - 2 * table["safe_area"][aspect]["sides"])
    px = max(round(table["font_height"][aspect] * h), table["min_font_px"])
    font = font_for(lang)
    while True:
        lines = split_lines(text, _measure(font, px), room)
        if lines or px <= table["min_font_px"]:
            return lines or [text], px
        px = max(int(px * 0.9), table["min_font_px"])


def ass(items: list[Cue], lang: str, size: tuple[int, int], aspect: str) -> str:
    """An ASS script at the frame's own resolution: white text, black outline, bottom centre,
    margins from the platform safe area, our own line breaks only (WrapStyle 2)."""
    table = subtitle_table()
    w, h = size
    safe = table["safe_area"][aspect]
    font = font_for(lang)
    laid = [layout(c.text, lang, size, aspect) for c in items]
    px = min(p for _, p in laid) if laid else round(table["font_height"][aspect] * h)
    outline = max(1.0, round(px * table["outline_fraction"], 1))
    head = ("[Script Info]\nScriptType: v4.00+\nWrapStyle: 2\nScaledBorderAndShadow: yes\n"
            f"PlayResX: {w}\nPlayResY: {h}\n\n[V4+ Styles]\n"
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
            "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
            "Alignment, MarginL, MarginR, MarginV, Encoding\n"
            f"Style: Caption,{font.family},{px},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,"
            f"1,{outline},0,2,{round(safe['sides'] * w)},{round(safe['sides'] * w)},{round(safe['bottom'] * h)},1\n\n"
            "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n")

    def t(x: float) -> str:
        cs = int(round(x * 100))
        return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"

    body = "".join(f"Dialogue: 0,{t(c.start)},{t(c.end)},Caption,,0,0,0,,"
                   + "\\N".join(line.replace("{", "(").replace("}", ")").replace("\\", "/") for line in lines)
                   + "\n" for c, (lines, _) in zip(items, laid))
    return head + body
