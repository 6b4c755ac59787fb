"""Props and creatures: Font Awesome Free pictograms (pip package fontawesomefree) and a few shapes.

A pictogram is a glyph of the solid TTF, looked up by icon name in the package's own metadata,
drawn by Pillow in the prop's colour with a dark outline so it reads on any backdrop. Kites, nets,
gulls and falling petals are simple shapes drawn here. Positions are fractions of the frame.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .common import RGB, shade, table


@functools.cache
def _fontawesome() -> tuple[Path, dict]:
    import fontawesomefree  # noqa: PLC0415

    root = Path(fontawesomefree.__file__).parent / "static" / "fontawesomefree"
    icons = json.loads((root / "metadata" / "icons.json").read_text())
    return root / "webfonts" / "fa-solid-900.ttf", icons


def glyph(icon: str) -> str:
    """The character of a solid icon, by its Font Awesome name ('bicycle', 'train-tram')."""
    _, icons = _fontawesome()
    if icon not in icons or "solid" not in icons[icon]["styles"]:
        raise KeyError(f"animatic.json names icon {icon!r}, which Font Awesome Free has no solid glyph for")
    return chr(int(icons[icon]["unicode"], 16))


@functools.cache
def _icon_names() -> frozenset[str]:
    """Font Awesome Free's solid icon names ('tractor', 'leaf', 'scroll'). Their search terms are
    left out: they name uses, not things ('frame' lists the crop tool)."""
    return frozenset(k for k, v in _fontawesome()[1].items() if "solid" in v["styles"])


def _singulars(word: str) -> list[str]:
    word = word.lower()
    forms = [word]
    if word.endswith("ves"):
        forms.append(word[:-3] + "f")
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def icon_for(noun: str) -> str | None:
    """A Font Awesome Free solid icon for a noun the props table does not list, by the icon's own
    name: 'tractor', 'leaves' (leaf), 'umbrellas'. None: no pictogram."""
    return next((f for f in _singulars(noun) if f in _icon_names()), None)


def prop_spec(key: str) -> dict:
    """How to draw a prop: its animatic.json row, or a plain pictogram for an icon found by name."""
    return table()["props"].get(key) or {**table()["named_icon"], "icon": key}


@functools.lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_fontawesome()[0]), max(6, px))


def draw_icon(img: Image.Image, icon: str, cx: float, cy: float, size: float, colour: RGB) -> None:
    d = ImageDraw.Draw(img)
    font = _font(int(size))
    stroke = max(1, int(size * 0.05))
    d.text((cx, cy), glyph(icon), font=font, fill=colour, anchor="mm", stroke_width=stroke,
           stroke_fill=shade(colour, 0.35) if sum(colour) > 200 else (230, 230, 226))


def _kite(d: ImageDraw.ImageDraw, cx: float, cy: float, s: float, colour: RGB) -> None:
    pts = [(cx, cy - s * 0.6), (cx + s * 0.4, cy), (cx, cy + s * 0.7), (cx - s * 0.4, cy)]
    d.polygon(pts, fill=colour, outline=shade(colour, 0.5))
    d.line([pts[0], pts[2]], fill=shade(colour, 0.5), width=max(1, int(s * 0.04)))
    d.line([pts[1], pts[3]], fill=shade(colour, 0.5), width=max(1, int(s * 0.04)))
    tail = [(cx + math.sin(k * 0.9) * s * 0.15, cy + s * 0.7 + k * s * 0.18) for k in range(8)]
    d.line(tail, fill=(240, 240, 236), width=max(1, int(s * 0.03)))
    d.line([(cx, cy + s * 0.7), (cx - s * 2.5, cy + s * 5)], fill=(235, 235, 230), width=1)  # the string down to a hand


def _net(d: ImageDraw.ImageDraw, cx: float, cy: float, s: float, colour: RGB) -> None:
    """A heap of net: a draped mesh with floats along its edge."""
    box = [cx - s, cy - s * 0.45, cx + s, cy + s * 0.45]
    d.chord(box, 180, 360, fill=shade(colour, 0.75))
    lw = max(1, int(s * 0.025))
    for k in range(-6, 7):  # diagonal mesh both ways, clipped by the dome
        for sign in (-1, 1):
            x0 = cx + k * s * 0.16
            pts = [(x0 + sign * t * s * 0.45, cy - t * s * 0.45) for t in np.linspace(0, 1, 8)]
            pts = [(x, y) for x, y in pts if ((x - cx) / s) ** 2 + ((y - cy) / (s * 0.45)) ** 2 <= 1]
            if len(pts) > 1:
                d.line(pts, fill=colour, width=lw)
    for a in np.linspace(200, 340, 6):  # cork floats
        x, y = cx + math.cos(math.radians(a)) * s, cy + math.sin(math.radians(a)) * s * 0.45
        d.ellipse([x - s * 0.06, y - s * 0.06, x + s * 0.06, y + s * 0.06], fill=(230, 120, 40))


def _gulls(d: ImageDraw.ImageDraw, cx: float, cy: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    for _ in range(5):
        x, y = cx + rng.uniform(-4, 4) * s, cy + rng.uniform(-1.2, 1.2) * s
        k = rng.uniform(0.7, 1.3) * s
        wing = [(x - k, y - k * 0.3), (x - k * 0.45, y - k * 0.45), (x, y), (x + k * 0.45, y - k * 0.45), (x + k, y - k * 0.3)]
        d.line(wing, fill=shade(colour, 0.45), width=max(2, int(k * 0.28)), joint="curve")
        d.line(wing, fill=colour, width=max(1, int(k * 0.16)), joint="curve")


def _petals(d: ImageDraw.ImageDraw, w: int, h: int, s: float, colour: RGB, rng: np.random.Generator) -> None:
    for _ in range(60):
        x, y = rng.uniform(0, w), rng.uniform(0, h * 0.8)
        d.ellipse([x, y, x + s, y + s * 0.6], fill=colour)


def _spot(where: str, k: int, lead_x: float, horizon: float, insert: bool) -> tuple[float, float]:
    """Frame position (fractions) of the k-th prop of its kind."""
    if insert:  # the thing the insert is about, large, where it would be
        return 0.5, {"sky": 0.35, "water": 0.62}.get(where, 0.7)
    if where == "sky":
        return 0.3 + 0.4 * ((k * 0.37) % 1), 0.18 + 0.05 * k
    if where == "water":
        return 0.7 - 0.35 * k, horizon + 0.05
    if where == "ground":
        return (0.78 if lead_x < 0.5 else 0.22) - 0.12 * k, horizon + 0.06
    return lead_x + (0.16 if lead_x < 0.5 else -0.16) - 0.08 * k, 0.86  # near the lead, on the ground


def draw_props(img: Image.Image, props: tuple[str, ...], lead_x: float, seed: int, horizon: float = 0.64,
               insert: bool = False, colours: dict[str, RGB] | None = None) -> None:
    """Draw each prop where it belongs; an insert shot shows its first prop large, centre frame.
    colours: a colour the prompt gives a thing ('a red tractor') over the pictogram's own."""
    w, h = img.size
    scale = min(w, h)
    rng = np.random.default_rng(seed)
    d = ImageDraw.Draw(img)
    counts: dict[str, int] = {}
    for n, name in enumerate(props):
        spec = prop_spec(name)
        where = spec["where"]
        k = counts.get(where, 0)
        counts[where] = k + 1
        big = insert and n == 0
        fx, fy = _spot(where, k, lead_x, horizon, big)
        size = (min(0.45, spec["size"] * 3.2) if big else spec["size"]) * scale
        colour = tuple((colours or {}).get(name) or spec["colour"])
        cx, cy = fx * w, fy * h
        shape = spec.get("shape")
        if shape == "kite":
            _kite(d, cx, cy, size, colour)
        elif shape == "net":
            _net(d, cx, cy, size, colour)
        elif shape == "gulls":
            _gulls(d, cx, cy, size * (2 if big else 1), colour, rng)
        elif shape == "petals":
            _petals(d, w, h, size, colour, rng)
        else:
            draw_icon(img, spec["icon"], cx, cy - size / 2 if where in ("ground", "near") else cy, size, colour)
