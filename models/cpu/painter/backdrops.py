"""The setting behind the figures, one simple drawing per setting type, in frame-relative units.

Everything is placed as a fraction of the frame's width and height around the horizon line, so a
16:9, 9:16, 1:1 or 4:5 frame shows the same place composed for its own shape, not a crop.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .common import RGB, gradient, mix, shade, tinted

WOOD: RGB = (118, 84, 56)
STONE: RGB = (150, 146, 138)


def _lw(h: int) -> int:
    """A thin line's width for a frame this tall."""
    return max(1, int(0.004 * h))


def _skyline(d: ImageDraw.ImageDraw, w: int, hy: int, h: int, rng: np.random.Generator, far: RGB,
             tall: float = 0.26) -> None:
    x = -0.02 * w
    while x < w:
        bw, bh = rng.uniform(0.03, 0.08) * w, rng.uniform(0.06, tall) * h
        d.rectangle([x, hy - bh, x + bw, hy], fill=far)
        x += bw + rng.uniform(0, 0.01) * w


def _windows(d, x0, y0, x1, y1, w, h, pal, rng) -> None:
    lit = pal["lit"]
    window = (255, 214, 130) if lit else mix(tuple(pal["near"]), tuple(pal["sky"][1]), 0.35)
    for wy in np.arange(y0 + 0.03 * h, y1 - 0.02 * h, 0.05 * h):
        for wx in np.arange(x0 + 0.015 * w, x1 - 0.02 * w, 0.03 * w):
            if not lit or rng.random() < 0.55:
                d.rectangle([wx, wy, wx + 0.012 * w, wy + 0.022 * h], fill=window)


def _water(img: Image.Image, pal: dict, top: int, rng: np.random.Generator, bottom: int | None = None) -> ImageDraw.ImageDraw:
    """Water from `top` down, with glints under the light."""
    w, h = img.size
    bottom = h if bottom is None else bottom
    sea_top = mix(tuple(pal["sky"][1]), (20, 60, 90), 0.45)
    sea_low = mix(tuple(pal["sky"][0]), (10, 30, 60), 0.6)
    band = gradient(w, bottom - top, 0, bottom - top, sea_top, sea_low).astype(np.uint8)
    img.paste(Image.fromarray(np.ascontiguousarray(band)), (0, top))
    d = ImageDraw.Draw(img)
    sx = pal["sun"][0] * w
    glint = mix(tuple(pal["sun_colour"]), sea_top, 0.4)
    for _ in range(70):
        y = rng.uniform(top, bottom)
        x = sx + rng.normal(0, 0.02 * w + (y - top) * 0.3)
        lw = rng.uniform(0.01, 0.04) * w
        d.line([(x - lw, y), (x + lw, y)], fill=glint, width=max(1, h // 300))
    return d


def _tree(d, x, base, size, trunk: RGB, leaves: RGB) -> None:
    d.rectangle([x - 0.06 * size, base - size * 0.5, x + 0.06 * size, base], fill=trunk)
    d.ellipse([x - 0.45 * size, base - size * 1.3, x + 0.45 * size, base - size * 0.35], fill=leaves)


def _street(img, d, w, h, hy, pal, rng) -> None:
    far, near = tuple(pal["far"]), tuple(pal["near"])
    _skyline(d, w, hy, h, rng, far)
    for x0 in (rng.uniform(-0.04, 0.02), rng.uniform(0.1, 0.16), rng.uniform(0.8, 0.86)):  # near blocks
        bw, bh = rng.uniform(0.1, 0.16) * w, rng.uniform(0.3, 0.5) * h
        bx = x0 * w
        d.rectangle([bx, hy - bh, bx + bw, hy + 0.02 * h], fill=near)
        _windows(d, bx, hy - bh, bx + bw, hy, w, h, pal, rng)
    vx = w / 2  # street edges converge on the horizon
    kerb = mix(tuple(pal["ground"]), (200, 200, 200), 0.25)
    for s in (-1, 1):
        d.line([(vx + s * 0.08 * w, hy), (vx + s * 0.9 * w, h)], fill=kerb, width=max(1, int(0.004 * h)))
    d.line([(vx, hy + 0.02 * h), (vx, h)], fill=mix(kerb, (240, 230, 160), 0.4), width=max(1, int(0.003 * h)))


def _market(img, d, w, h, hy, pal, rng) -> None:
    _street(img, d, w, h, hy, pal, rng)
    colours = [(200, 60, 50), (230, 180, 60), (60, 120, 170), (80, 150, 90)]
    for k, x in enumerate(np.linspace(0.04, 0.78, 5)):  # stalls with striped awnings along the street
        sx, sw = x * w, 0.17 * w
        top, counter = hy - 0.16 * h, hy + 0.04 * h
        d.rectangle([sx + 0.01 * w, top, sx + sw - 0.01 * w, counter], fill=shade(WOOD, 0.8))
        for j in range(6):
            c = colours[k % len(colours)] if j % 2 == 0 else (240, 236, 226)
            d.polygon([(sx + j * sw / 6, top), (sx + (j + 1) * sw / 6, top), (sx + (j + 1) * sw / 6 + 0.005 * w,
                       top + 0.05 * h), (sx + j * sw / 6 + 0.005 * w, top + 0.05 * h)], fill=c)
        for _ in range(5):  # goods on the counter
            gx = sx + rng.uniform(0.02, 0.15) * w
            r = 0.012 * min(w, h)
            d.ellipse([gx - r, counter - 2 * r, gx + r, counter], fill=colours[int(rng.integers(0, len(colours)))])


def _rooftop(img, d, w, h, hy, pal, rng) -> None:
    far = tuple(pal["far"])
    _skyline(d, w, int(hy + 0.06 * h), h, rng, far, tall=0.3)  # the city below and beyond the roof edge
    roof = shade(tuple(pal["near"]), 1.1)
    d.rectangle([0, hy + 0.06 * h, w, h], fill=roof)
    d.rectangle([0, hy + 0.02 * h, w, hy + 0.07 * h], fill=shade(roof, 0.8))  # parapet
    cx = rng.uniform(0.7, 0.85) * w
    d.rectangle([cx, hy - 0.12 * h, cx + 0.05 * w, hy + 0.04 * h], fill=shade(roof, 0.7))  # chimney
    tx = rng.uniform(0.05, 0.2) * w  # water tank on legs
    d.rectangle([tx, hy - 0.2 * h, tx + 0.1 * w, hy - 0.08 * h], fill=shade(WOOD, 0.7))
    for lx in (tx + 0.01 * w, tx + 0.085 * w):
        d.line([(lx, hy - 0.08 * h), (lx, hy + 0.04 * h)], fill=shade(WOOD, 0.5), width=max(1, int(0.004 * h)))


def _shore(img, d, w, h, hy, pal, rng) -> None:
    """Open water seen from its bank: the figures stand on the near shore."""
    d = _sea(img, d, w, h, hy, pal, rng)
    bank = mix(tuple(pal["ground"]), (110, 120, 80), 0.35)
    edge = [(x, hy + 0.16 * h + 0.015 * h * math.sin(x / w * 7)) for x in np.linspace(0, w, 40)]
    d.polygon([(0, h), *edge, (w, h)], fill=bank)


def _sea(img, d, w, h, hy, pal, rng) -> ImageDraw.ImageDraw:
    d = _water(img, pal, hy, rng)
    headland = [(0.62, 0), (0.75, 0.03), (0.86, 0.045), (1.0, 0.02), (1.0, 0)]
    d.polygon([(x * w, hy - y * h) for x, y in headland], fill=tuple(pal["far"]))
    return d


def _beach(img, d, w, h, hy, pal, rng) -> None:
    d = _sea(img, d, w, h, hy, pal, rng)
    sand = tinted((224, 196, 140), [c / 255 * 1.3 for c in pal["ground"]])
    shore = [(x, hy + 0.14 * h + 0.02 * h * math.sin(x / w * 6)) for x in np.linspace(0, w, 40)]
    d.polygon([(0, h), *shore, (w, h)], fill=sand)
    d.line(shore, fill=(240, 244, 246), width=max(1, int(0.006 * h)))  # surf line


def _pier(img, d, w, h, hy, pal, rng) -> None:
    d = _sea(img, d, w, h, hy, pal, rng)
    deck = tinted(WOOD, [0.6 + c / 255 for c in pal["ground"]])
    near_l, near_r, far_l, far_r = 0.12 * w, 0.88 * w, 0.44 * w, 0.56 * w  # boards run to the horizon
    top = hy + 0.02 * h
    d.polygon([(far_l, top), (far_r, top), (near_r, h), (near_l, h)], fill=deck)
    for k in range(1, 14):  # planks
        t = (k / 14) ** 1.8
        y = top + (h - top) * t
        xl, xr = far_l + (near_l - far_l) * t, far_r + (near_r - far_r) * t
        d.line([(xl, y), (xr, y)], fill=shade(deck, 0.75), width=max(1, int(0.002 * h)))
        for x in (xl, xr):  # posts and a rope rail
            d.rectangle([x - 0.004 * w * (1 + 3 * t), y - 0.06 * h * t, x + 0.004 * w * (1 + 3 * t), y],
                        fill=shade(deck, 0.55))


def _harbour(img, d, w, h, hy, pal, rng) -> None:
    far = tuple(pal["far"])
    _skyline(d, w, hy, h, rng, far, tall=0.12)  # warehouses across the water
    for x in (0.2, 0.32):  # two cranes
        d.line([(x * w, hy), (x * w, hy - 0.22 * h), ((x + 0.08) * w, hy - 0.2 * h)], fill=far,
               width=max(1, int(0.006 * h)))
    d = _water(img, pal, hy, rng, int(hy + 0.2 * h))
    quay = tinted(STONE, [0.4 + c / 255 for c in pal["ground"]])
    d.rectangle([0, hy + 0.2 * h, w, h], fill=quay)
    d.rectangle([0, hy + 0.2 * h, w, hy + 0.22 * h], fill=shade(quay, 0.7))
    for x in (0.12, 0.6):  # moored hulls
        bx = x * w
        d.polygon([(bx, hy + 0.08 * h), (bx + 0.22 * w, hy + 0.08 * h), (bx + 0.19 * w, hy + 0.14 * h),
                   (bx + 0.03 * w, hy + 0.14 * h)], fill=(70, 90, 120) if x < 0.5 else (170, 60, 50))
        d.line([(bx + 0.1 * w, hy + 0.08 * h), (bx + 0.1 * w, hy - 0.08 * h)], fill=(60, 50, 40), width=max(1, _lw(h)))
    for x in np.linspace(0.05, 0.95, 6):  # bollards
        d.ellipse([x * w - 0.01 * w, hy + 0.21 * h, x * w + 0.01 * w, hy + 0.24 * h], fill=(40, 40, 44))


def _near_bank(d, w, h, top: float, pal, rail: bool) -> None:
    """The stone bank or deck the figures stand on, from `top` to the bottom of the frame."""
    stone = tinted(STONE, [0.4 + c / 255 for c in pal["ground"]])
    d.rectangle([0, top, w, h], fill=stone)
    d.rectangle([0, top, w, top + 0.015 * h], fill=shade(stone, 0.7))
    if rail:  # a railing along the edge, posts and a top rail
        for x in np.linspace(0, w, 28):
            d.line([(x, top), (x, top - 0.07 * h)], fill=shade(stone, 0.45), width=_lw(h))
        d.line([(0, top - 0.07 * h), (w, top - 0.07 * h)], fill=shade(stone, 0.45), width=_lw(h) * 2)
    else:
        for x in np.linspace(0.05, 0.95, 6):  # bollards
            d.ellipse([x * w - 0.01 * w, top + 0.005 * h, x * w + 0.01 * w, top + 0.035 * h], fill=(40, 40, 44))


def _bridge(img, d, w, h, hy, pal, rng) -> None:
    """On a bridge: its deck and railing in front, the river below, the next bridge and the city beyond."""
    far = tuple(pal["far"])
    _skyline(d, w, hy, h, rng, far, tall=0.18)
    d = _water(img, pal, hy, rng)
    deck_y = hy - 0.01 * h  # the next bridge downstream, arches over the water
    stone = tinted(STONE, [0.5 + c / 255 for c in pal["far"]])
    d.rectangle([0, deck_y - 0.035 * h, w, deck_y], fill=stone)
    water = mix(tuple(pal["sky"][1]), (20, 60, 90), 0.45)
    for k in range(5):
        x0, x1 = k * w / 5 + 0.015 * w, (k + 1) * w / 5 - 0.015 * w
        d.chord([x0, deck_y - 0.015 * h, x1, deck_y + 0.07 * h], 180, 360, fill=water)
        d.rectangle([x1, deck_y, x1 + 0.03 * w, hy + 0.04 * h], fill=stone)
    _near_bank(d, w, h, hy + 0.16 * h, pal, rail=True)


def _canal(img, d, w, h, hy, pal, rng) -> None:
    """On the towpath: narrow houses along the far bank, the canal, the near quay."""
    near = tuple(pal["near"])
    _skyline(d, w, hy, h, rng, tuple(pal["far"]), tall=0.12)
    x = -0.02 * w
    k = 0
    while x < w:  # gabled canal houses
        bw, bh = rng.uniform(0.07, 0.1) * w, rng.uniform(0.22, 0.32) * h
        colour = mix(near, (150, 90, 70), 0.35 * (k % 2))
        d.rectangle([x, hy - bh, x + bw, hy + 0.01 * h], fill=colour)
        d.polygon([(x, hy - bh), (x + bw / 2, hy - bh - 0.05 * h), (x + bw, hy - bh)], fill=colour)
        _windows(d, x, hy - bh, x + bw, hy, w, h, pal, rng)
        x += bw + 0.004 * w
        k += 1
    d = _water(img, pal, hy + int(0.01 * h), rng)
    _near_bank(d, w, h, hy + 0.17 * h, pal, rail=False)


def _park(img, d, w, h, hy, pal, rng) -> None:
    grass = mix(tuple(pal["ground"]), (90, 140, 70), 0.45)
    d.rectangle([0, hy, w, h], fill=grass)
    for _ in range(8):
        x = rng.uniform(0, w)
        _tree(d, x, hy + 0.01 * h, rng.uniform(0.08, 0.14) * h, shade(tuple(pal["near"]), 0.8), mix(tuple(pal["far"]), (60, 110, 60), 0.5))
    path = mix(tuple(pal["ground"]), (200, 186, 160), 0.5)
    d.polygon([(0.46 * w, hy), (0.54 * w, hy), (0.75 * w, h), (0.25 * w, h)], fill=path)
    lx = 0.78 * w  # a lamp post and a bench
    d.line([(lx, hy + 0.2 * h), (lx, hy - 0.2 * h)], fill=(40, 40, 44), width=_lw(h))
    d.ellipse([lx - 0.012 * w, hy - 0.23 * h, lx + 0.012 * w, hy - 0.19 * h], fill=(255, 220, 150) if pal["lit"] else (200, 200, 190))
    d.rectangle([0.08 * w, hy + 0.1 * h, 0.22 * w, hy + 0.12 * h], fill=WOOD)
    for x in (0.09, 0.21):
        d.line([(x * w, hy + 0.12 * h), (x * w, hy + 0.16 * h)], fill=shade(WOOD, 0.5), width=_lw(h))


def _forest(img, d, w, h, hy, pal, rng, n: int = 18) -> None:
    far, near = tuple(pal["far"]), tuple(pal["near"])
    for _ in range(n):  # far tree line
        x, r = rng.uniform(0, w), rng.uniform(0.02, 0.05) * h
        d.ellipse([x - r, hy - 2.2 * r, x + r, hy + 0.2 * r], fill=mix(far, (60, 100, 60), 0.3))
    for x in (rng.uniform(0.02, 0.1) * w, rng.uniform(0.86, 0.95) * w):  # near trees framing the shot
        d.rectangle([x - 0.01 * w, hy - 0.25 * h, x + 0.01 * w, hy + 0.05 * h], fill=shade(near, 0.8))
        d.ellipse([x - 0.09 * w, hy - 0.55 * h, x + 0.09 * w, hy - 0.18 * h], fill=mix(near, (40, 90, 50), 0.35))


def _field(img, d, w, h, hy, pal, rng) -> None:
    _forest(img, d, w, h, hy, pal, rng, n=5)
    pts = [(x, hy - 0.03 * h * (1 + math.sin(x / w * 5 + rng.uniform(0, 6)))) for x in np.linspace(0, w, 40)]
    ground = tuple(pal["ground"]) if pal.get("own_ground") else mix(tuple(pal["ground"]), (90, 130, 70), 0.3)
    d.polygon([(0, h), *pts, (w, h)], fill=ground)
    if pal.get("own_ground"):  # rows of the crop running to the horizon
        for k in range(1, 14):
            x = w * k / 14
            d.line([(w / 2 + (x - w / 2) * 0.15, hy + 0.02 * h), (w / 2 + (x - w / 2) * 2.2, h)],
                   fill=shade(ground, 0.8), width=_lw(h) * 2)


def _mountain(img, d, w, h, hy, pal, rng) -> None:
    far, near = tuple(pal["far"]), tuple(pal["near"])
    for layer, (col, amp) in enumerate(((far, 0.3), (mix(far, near, 0.5), 0.16))):
        xs = np.linspace(-0.05 * w, 1.05 * w, 9 + layer * 4)
        pts = [(x, hy - rng.uniform(0.3, 1.0) * amp * h) for x in xs]
        d.polygon([(0, hy + 0.01 * h), *pts, (w, hy + 0.01 * h)], fill=col)
        if layer == 0:  # snow caps on the far range
            for x, y in pts:
                if y < hy - 0.2 * h:
                    d.polygon([(x - 0.03 * w, y + 0.04 * h), (x, y), (x + 0.03 * w, y + 0.04 * h)], fill=(236, 238, 242))


def _desert(img, d, w, h, hy, pal, rng) -> None:
    d.polygon([(0.15 * w, hy), (0.18 * w, hy - 0.1 * h), (0.3 * w, hy - 0.1 * h), (0.33 * w, hy)], fill=tuple(pal["far"]))
    sand = tinted((214, 180, 120), [c / 255 * 1.4 for c in pal["ground"]])
    for k in range(3):
        y0 = hy + k * 0.08 * h
        ph = rng.uniform(0, 6)
        pts = [(x, y0 - 0.04 * h * math.sin(x / w * 4 + ph)) for x in np.linspace(0, w, 40)]
        d.polygon([(0, h), *pts, (w, h)], fill=shade(sand, 1.0 - 0.1 * k))


def _room(img, w, h, hy, pal, wall: RGB, window: tuple[float, float, float, float]) -> ImageDraw.ImageDraw:
    """Wall, a window onto the sky of the hour, floor."""
    d = ImageDraw.Draw(img)
    wall = mix(wall, tuple(pal["far"]), 0.35)
    d.rectangle([0, 0, w, h], fill=wall)
    win = [window[0] * w, window[1] * h, window[2] * w, window[3] * h]
    sky = gradient(int(win[2] - win[0]), int(win[3] - win[1]), 0, int(win[3] - win[1]), *pal["sky"])
    img.paste(Image.fromarray(sky.astype(np.uint8)), (int(win[0]), int(win[1])))
    d = ImageDraw.Draw(img)
    frame = shade(wall, 0.6)
    d.rectangle(win, outline=frame, width=int(0.012 * h))
    d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=frame, width=int(0.01 * h))
    d.rectangle([0, hy, w, h], fill=mix((120, 90, 64), tuple(pal["near"]), 0.3))  # floor
    if pal["lit"]:
        d.ellipse([0.18 * w, 0.05 * h, 0.26 * w, 0.12 * h], fill=(255, 220, 150))
    return d


def _interior(img, d, w, h, hy, pal, rng) -> None:
    d = _room(img, w, h, hy, pal, (196, 176, 150), (0.55, 0.12, 0.88, 0.55))
    d.rectangle([0.08 * w, hy - 0.12 * h, 0.36 * w, hy + 0.02 * h], fill=shade((196, 176, 150), 0.55))


def _workshop(img, d, w, h, hy, pal, rng) -> None:
    d = _room(img, w, h, hy, pal, (150, 140, 120), (0.66, 0.1, 0.94, 0.42))
    board = (170, 140, 100)
    d.rectangle([0.05 * w, 0.12 * h, 0.55 * w, hy - 0.16 * h], fill=board)  # pegboard of tools
    for k in range(7):
        x = (0.09 + 0.065 * k) * w
        d.line([(x, 0.18 * h), (x, 0.18 * h + rng.uniform(0.08, 0.16) * h)], fill=(60, 60, 64), width=_lw(h) * 2)
        d.rectangle([x - 0.012 * w, 0.16 * h, x + 0.012 * w, 0.19 * h], fill=(90, 90, 96))
    d.rectangle([0.02 * w, hy - 0.14 * h, 0.6 * w, hy - 0.1 * h], fill=shade(WOOD, 0.9))  # workbench
    for x in (0.05, 0.55):
        d.rectangle([x * w, hy - 0.1 * h, x * w + 0.02 * w, hy + 0.03 * h], fill=shade(WOOD, 0.6))


def _cafe(img, d, w, h, hy, pal, rng) -> None:
    d = _room(img, w, h, hy, pal, (206, 180, 150), (0.08, 0.1, 0.6, 0.5))
    d.rectangle([0.66 * w, hy - 0.14 * h, w, hy + 0.04 * h], fill=shade(WOOD, 0.85))  # counter
    d.rectangle([0.7 * w, hy - 0.24 * h, 0.78 * w, hy - 0.14 * h], fill=(150, 150, 156))  # espresso machine
    for x in (0.18, 0.42):  # small round tables with chairs
        tx = x * w
        d.ellipse([tx - 0.06 * w, hy + 0.02 * h, tx + 0.06 * w, hy + 0.05 * h], fill=shade(WOOD, 1.1))
        d.line([(tx, hy + 0.05 * h), (tx, hy + 0.16 * h)], fill=(50, 44, 40), width=_lw(h) * 2)
        d.rectangle([tx + 0.07 * w, hy + 0.05 * h, tx + 0.1 * w, hy + 0.16 * h], fill=(60, 50, 44))
    for k in range(3):  # pendant lamps
        lx = (0.2 + 0.25 * k) * w
        d.line([(lx, 0), (lx, 0.08 * h)], fill=(40, 40, 40), width=_lw(h))
        d.pieslice([lx - 0.03 * w, 0.06 * h, lx + 0.03 * w, 0.12 * h], 180, 360, fill=(230, 170, 80))


def _kitchen(img, d, w, h, hy, pal, rng) -> None:
    d = _room(img, w, h, hy, pal, (220, 214, 200), (0.38, 0.1, 0.62, 0.38))
    d.rectangle([0, hy - 0.16 * h, w, hy], fill=(240, 240, 236))  # tiled splashback
    for x in np.arange(0, w, 0.04 * w):
        d.line([(x, hy - 0.16 * h), (x, hy)], fill=(200, 200, 196), width=1)
    d.rectangle([0, hy, w, hy + 0.06 * h], fill=shade(WOOD, 1.0))  # worktop
    d.rectangle([0.66 * w, hy - 0.02 * h, 0.86 * w, hy + 0.01 * h], fill=(50, 50, 54))  # hob
    for x in (0.7, 0.8):
        d.ellipse([x * w, hy - 0.05 * h, x * w + 0.05 * w, hy - 0.015 * h], fill=(90, 90, 96))
    for x in (0.05, 0.2, 0.72, 0.86):  # wall cabinets
        d.rectangle([x * w, 0.08 * h, x * w + 0.12 * w, 0.3 * h], fill=(170, 150, 120), outline=shade((170, 150, 120), 0.6))


def _studio(img, d, w, h, hy, pal, rng) -> None:
    d = _room(img, w, h, hy, pal, (228, 224, 214), (0.05, 0.06, 0.55, 0.6))
    ex = 0.74 * w  # easel with a canvas
    d.line([(ex - 0.06 * w, hy + 0.1 * h), (ex, hy - 0.3 * h), (ex + 0.06 * w, hy + 0.1 * h)], fill=shade(WOOD, 0.8), width=_lw(h) * 2)
    d.rectangle([ex - 0.08 * w, hy - 0.26 * h, ex + 0.08 * w, hy - 0.04 * h], fill=(246, 242, 232), outline=(90, 80, 70))
    for k, c in enumerate([(200, 80, 60), (60, 110, 170), (230, 190, 60)]):  # brushstrokes on it
        y = hy - 0.22 * h + k * 0.05 * h
        d.line([(ex - 0.06 * w, y), (ex + 0.05 * w, y + 0.02 * h)], fill=c, width=_lw(h) * 3)


BACKDROPS = {
    "street": _street, "market": _market, "rooftop": _rooftop, "water": _shore, "beach": _beach, "pier": _pier,
    "harbour": _harbour, "bridge": _bridge, "canal": _canal, "park": _park, "forest": _forest, "field": _field,
    "mountain": _mountain, "desert": _desert, "interior": _interior, "workshop": _workshop, "cafe": _cafe,
    "kitchen": _kitchen, "studio": _studio,
}


def draw_backdrop(img: Image.Image, setting: str, pal: dict, hy: int, rng: np.random.Generator) -> None:
    w, h = img.size
    BACKDROPS[setting](img, ImageDraw.Draw(img), w, h, hy, pal, rng)
