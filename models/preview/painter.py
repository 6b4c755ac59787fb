"""CPU preview image backend: an honest animatic drawn with Pillow, not fake photorealism.

Characters are simple full figures whose colours, hair and build are read from their bible
portrait (so one character looks the same in every master and keyframe); the scene's sky and
light come from the time of day and its silhouettes from the setting, both found by keywords.
Every table (colour words, palettes, keywords, shot framing) lives in prompts/animatic.json.
Drawing happens at 2x and is downsampled, which is all the anti-aliasing Pillow needs.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from PIL.PngImagePlugin import PngInfo

from reel import camera, prompts
from reel.schema import SCENE, Plan, Shot

TABLE = "animatic.json"
SS = 2  # supersampling factor
RGB = tuple[int, int, int]


def _t() -> dict:
    return prompts.table(TABLE)


def _stable_int(*parts: object) -> int:
    """A hash that is the same in every process (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _shade(c: RGB, k: float) -> RGB:
    return tuple(int(max(0, min(255, v * k))) for v in c)  # type: ignore[return-value]


def _mix(a: RGB, b: RGB, k: float) -> RGB:
    return tuple(int(round(x + (y - x) * k)) for x, y in zip(a, b))  # type: ignore[return-value]


def _tinted(c: RGB, tint: list[float]) -> RGB:
    return tuple(int(max(0, min(255, v * t))) for v, t in zip(c, tint))  # type: ignore[return-value]


def _ascii(text: str) -> str:
    """The bundled font has Latin glyphs only (plus the middle dot): fold accents, drop the rest."""
    text = unicodedata.normalize("NFKD", text.replace("—", "-").replace("–", "-"))
    return "".join(ch for ch in text if ch == "·" or (ord(ch) < 128 and ch.isprintable()))


# ---------------------------------------------------------------------------------------------
# Reading a character's look from the portrait text


@dataclass(frozen=True)
class Look:
    key: str
    name: str
    main: RGB
    secondary: RGB
    legs: RGB
    shoes: RGB
    hair: RGB
    skin: RGB
    hat: RGB | None = None
    scarf: RGB | None = None
    hair_style: str = "short"
    beard: bool = False
    glasses: bool = False
    dress: bool = False
    height: float = 0.95
    width: float = 1.0
    named: dict[str, str] = field(default_factory=dict, compare=False)  # part -> colour word, for the sheet


_STOP = {",", ".", ";", ":", "and", "over", "with", "under", "beneath", "plus", "or"}


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-zà-ÿ][a-zà-ÿ'-]*|[,.;:]", text.lower())


def _colour_mentions(tokens: list[str]) -> list[tuple[str, str]]:
    """(colour word, slot) in reading order; slot is hair/legs/shoes/hat/scarf/ignore/garment."""
    t = _t()
    colours, slots = t["colours"], t["slots"]
    slot_of = {w: s for s, words in slots.items() for w in words}
    found: list[tuple[int, int, str]] = []  # (start, end, colour word)
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):  # longest colour phrase wins ("navy blue" over "navy")
            phrase = " ".join(tokens[i:i + n])
            if phrase in colours:
                found.append((i, i + n, phrase))
                i += n
                break
        else:
            i += 1
    out = []
    for k, (start, end, word) in enumerate(found):
        nxt = found[k + 1][0] if k + 1 < len(found) else len(tokens)
        slot = "garment"
        # The colour describes the noun that follows it, up to the next colour or clause break.
        for tok in tokens[end:min(nxt, end + 4)]:
            if tok in _STOP:
                break
            if tok in slot_of:
                slot = slot_of[tok]
                break
        if slot == "garment" and word in t["hair_only_colours"]:
            slot = "hair"
        out.append((word, slot))
    return out


def _hair_style(text: str, tokens: list[str]) -> str:
    styles = _t()["hair_styles"]
    if any(re.search(rf"\b{re.escape(w)}\b", text) for w in styles["bald"]):
        return "bald"
    hair_words = set(_t()["slots"]["hair"])
    clauses = " ".join(tokens).replace(".", ",").replace(";", ",").split(",")
    hair_clauses = " ".join(c for c in clauses if hair_words & set(c.split()))
    for style in ("bun", "long", "curly"):
        if any(re.search(rf"\b{re.escape(w)}\b", hair_clauses) for w in styles[style]):
            return style
    return "short"


def _character_name(key: str, portrait: str) -> str:
    m = re.match(r"\s*([A-Z][\w'-]+)\s*[,(]", portrait) or re.search(r"\b(?:named|called)\s+([A-Z][\w'-]+)", portrait)
    return m[1] if m and m[1] not in {"A", "An", "The"} else key


def look_of(key: str, portrait: str) -> Look:
    """Everything about a character's drawing, derived from the portrait text alone."""
    t = _t()
    text = portrait.lower()
    tokens = _tokens(portrait)
    h = _stable_int(key, portrait)
    colours = t["colours"]
    parts: dict[str, str] = {}
    garments: list[str] = []
    for word, slot in _colour_mentions(tokens):
        if slot == "garment":
            garments.append(word)
        elif slot != "ignore":
            parts.setdefault(slot, word)
    if garments:
        parts["main"] = garments[0]
    if len(garments) > 1:
        parts["secondary"] = garments[1]
    c = {part: tuple(colours[word]) for part, word in parts.items()}
    main = c.get("main") or tuple(colours[sorted(colours)[h % len(colours)]])
    skin_words = sorted(t["skin"], key=len, reverse=True)  # "olive skin" before "olive"
    skin_word = next((k for k in skin_words if re.search(rf"\b{re.escape(k)}\b", text)), None)
    skin = tuple(t["skin"][skin_word]) if skin_word else tuple(t["default_skins"][h % len(t["default_skins"])])
    build = t["build"]
    height = min((v for w, v in build["height"].items() if w in tokens), default=0.95)  # "tall girl" is a child
    width = next((v for w, v in build["width"].items() if w in tokens), 1.0)
    dress = any(re.search(rf"\b{re.escape(w)}\b", text) for w in t["dress_words"])
    return Look(
        key=key,
        name=_character_name(key, portrait),
        main=main,
        secondary=c.get("secondary") or _shade(main, 0.7),
        legs=c.get("legs") or c.get("secondary") or (54, 58, 70),
        shoes=c.get("shoes") or (40, 34, 32),
        hair=c.get("hair") or tuple(t["default_hairs"][(h >> 8) % len(t["default_hairs"])]),
        skin=skin,
        hat=c.get("hat"),
        scarf=c.get("scarf"),
        hair_style=_hair_style(text, tokens),
        beard=any(w in tokens for w in t["beard_words"]),
        glasses=any(w in tokens for w in ("glasses", "spectacles", "sunglasses")),
        dress=dress,
        height=height,
        width=width,
        named=parts,
    )


# ---------------------------------------------------------------------------------------------
# Drawing a figure


def draw_figure(img: Image.Image, look: Look, cx: float, feet: float, size: float,
                tint: list[float] | None = None) -> None:
    """Draw `look` standing with feet at y=`feet`, `size` px tall for a full-height adult.

    Shapes are in units of the figure's height H with y measured down from the head top, so the
    same code draws a tiny figure in a wide and a head-and-shoulders close-up (feet off frame).
    """
    tint = tint or [1.0, 1.0, 1.0]
    H = size * look.height
    top = feet - H
    wf = look.width
    d = ImageDraw.Draw(img)
    lw = max(1, round(min(H * 0.006, img.height * 0.004)))  # outlines stay thin in close-ups

    def col(c: RGB) -> RGB:
        return _tinted(c, tint)

    def P(x: float, y: float) -> tuple[float, float]:
        return (cx + x * H, top + y * H)

    def poly(pts, fill: RGB) -> None:
        d.polygon([P(*p) for p in pts], fill=col(fill), outline=col(_shade(fill, 0.55)), width=lw)

    def ell(x0, y0, x1, y1, fill: RGB, outline: bool = True) -> None:
        d.ellipse([P(x0, y0), P(x1, y1)], fill=col(fill), outline=col(_shade(fill, 0.55)) if outline else None,
                  width=lw)

    sw, ww, hw = 0.13 * wf, 0.095 * wf, 0.105 * wf  # shoulder, waist, hip half-widths
    hem = 0.78 if look.dress else 0.52
    hem_w = 0.15 * wf if look.dress else hw
    if look.hair_style == "long":  # hair falling behind the shoulders
        d.rounded_rectangle([P(-0.085, 0.02), P(0.085, 0.3)], radius=0.05 * H, fill=col(look.hair),
                            outline=col(_shade(look.hair, 0.6)), width=lw)
    # legs and shoes
    for s in (-1, 1):
        x = s * 0.05 * wf
        poly([(x - 0.038 * wf, hem - 0.02), (x + 0.038 * wf, hem - 0.02), (x + 0.032, 0.96), (x - 0.032, 0.96)], look.legs)
        ell(x - 0.045 + s * 0.012, 0.94, x + 0.045 + s * 0.012, 1.0, look.shoes)
    d.rectangle([P(-0.022, 0.12), P(0.022, 0.19)], fill=col(_shade(look.skin, 0.85)))  # neck
    # torso (a long coat or dress flares to the knees)
    poly([(-sw + 0.02, 0.175), (sw - 0.02, 0.175), (sw, 0.2), (ww, 0.45), (hem_w, hem), (-hem_w, hem), (-ww, 0.45),
          (-sw, 0.2)], look.main)
    poly([(-0.04, 0.176), (0.04, 0.176), (0.0, 0.31)], look.secondary)  # shirt/sweater under the top layer
    # arms: round-capped sleeves in the main colour (an outline stroke under a fill stroke), hands
    arm_w = 0.058 * wf * H
    for s in (-1, 1):
        sleeve = [P(s * (sw - 0.025), 0.215), P(s * (sw + 0.02 * wf), 0.48)]
        for width, colour in ((arm_w + 2 * lw, _shade(look.main, 0.55)), (arm_w, look.main)):
            d.line(sleeve, fill=col(colour), width=round(width))
            for x, y in sleeve:
                d.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=col(colour))
        ell(s * (sw + 0.02 * wf) - 0.026, 0.49, s * (sw + 0.02 * wf) + 0.026, 0.55, look.skin)
    if look.scarf:
        poly([(-0.075, 0.16), (0.075, 0.16), (0.07, 0.205), (-0.07, 0.205)], look.scarf)
        poly([(0.02, 0.2), (0.065, 0.2), (0.055, 0.36), (0.025, 0.36)], look.scarf)
    # head: hair cap first, face over it so hair frames the face
    if look.hair_style != "bald":
        ell(-0.067, -0.008, 0.067, 0.11, look.hair)
        if look.hair_style == "bun":
            ell(-0.03, -0.05, 0.03, 0.005, look.hair)
        if look.hair_style == "curly":
            for a in range(0, 181, 30):
                r = math.radians(a)
                ell(-0.075 * math.cos(r) - 0.03, 0.045 - 0.06 * math.sin(r) - 0.03,
                    -0.075 * math.cos(r) + 0.03, 0.045 - 0.06 * math.sin(r) + 0.03, look.hair, outline=False)
    ell(-0.056, 0.022, 0.056, 0.15, look.skin)
    if look.beard:
        d.chord([P(-0.056, 0.04), P(0.056, 0.155)], 10, 170, fill=col(look.hair))
    for s in (-1, 1):  # eyes
        ell(s * 0.024 - 0.007, 0.075, s * 0.024 + 0.007, 0.089, (30, 26, 28), outline=False)
        if look.glasses:
            d.ellipse([P(s * 0.024 - 0.02, 0.064), P(s * 0.024 + 0.02, 0.1)], outline=col((30, 30, 34)), width=lw)
    d.line([P(-0.014, 0.118), P(0.014, 0.118)], fill=col(_shade(look.skin, 0.55)), width=lw)  # mouth
    if look.hat:
        ell(-0.07, -0.03, 0.07, 0.07, look.hat)
        poly([(-0.09, 0.035), (0.09, 0.035), (0.09, 0.055), (-0.09, 0.055)], look.hat)


# ---------------------------------------------------------------------------------------------
# Time of day, setting and the scene plate


def _earliest(keywords: dict[str, list[str]], *texts: str) -> str | None:
    """The key whose keyword occurs earliest in the first text that has any; None if none do."""
    for text in texts:
        low = text.lower()
        best: tuple[int, str] | None = None
        for key, words in keywords.items():
            for w in words:
                m = re.search(rf"\b{re.escape(w)}\b", low)
                if m and (best is None or m.start() < best[0]):
                    best = (m.start(), key)
        if best:
            return best[1]
    return None


def time_of_day(*texts: str) -> str:
    return _earliest(_t()["time_keywords"], *texts) or _t()["default_time"]


def setting_of(*texts: str) -> str:
    return _earliest(_t()["setting_keywords"], *texts) or _t()["default_setting"]


def _gradient(w: int, h: int, y0: int, y1: int, c0: RGB, c1: RGB) -> np.ndarray:
    k = np.clip((np.arange(h, dtype=np.float32) - y0) / max(1, y1 - y0), 0, 1)[:, None, None]
    row = np.array(c0, np.float32) * (1 - k) + np.array(c1, np.float32) * k
    return np.broadcast_to(row, (h, w, 3))


def draw_plate(w: int, h: int, time: str, setting: str, place_seed: int, sky_seed: int,
               horizon: float = 0.64) -> Image.Image:
    """Sky, light and setting silhouettes. place_seed fixes the layout of the place (same in every
    shot); sky_seed only moves clouds and stars."""
    pal = _t()["times"][time]
    hy = int(h * horizon)
    top, low = pal["sky"]
    ground = tuple(pal["ground"])
    arr = np.concatenate([_gradient(w, hy, 0, hy, top, low),
                          _gradient(w, h - hy, 0, h - hy, _mix(ground, low, 0.25), _shade(ground, 0.7))])
    img = Image.fromarray(arr.astype(np.uint8))
    rng_sky = np.random.default_rng(sky_seed)
    d = ImageDraw.Draw(img)
    if pal["stars"]:
        for _ in range(int(w * h / 9000)):
            x, y = rng_sky.uniform(0, w), rng_sky.uniform(0, hy * 0.9)
            r = rng_sky.uniform(0.5, 1.6) * SS
            d.ellipse([x - r, y - r, x + r, y + r], fill=(230, 230, 240))
    sx, sh, sr = pal["sun"]
    if sh > -0.05 and sr > 0:  # sun or moon with a soft glow
        cx, cy, r = sx * w, hy - sh * hy, sr * h
        glow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(glow).ellipse([cx - 4 * r, cy - 4 * r, cx + 4 * r, cy + 4 * r], fill=110)
        glow = glow.filter(ImageFilter.GaussianBlur(3 * r))
        img = Image.composite(Image.new("RGB", (w, h), tuple(pal["sun_colour"])), img, glow)
        d = ImageDraw.Draw(img)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(pal["sun_colour"]))
    if not pal["stars"]:  # soft clouds
        clouds = Image.new("L", (w, h), 0)
        cd = ImageDraw.Draw(clouds)
        for _ in range(5):
            x, y = rng_sky.uniform(0, w), rng_sky.uniform(0.08, 0.45) * hy
            cw, ch = rng_sky.uniform(0.1, 0.25) * w, rng_sky.uniform(0.02, 0.05) * h
            cd.ellipse([x - cw, y - ch, x + cw, y + ch], fill=90)
        clouds = clouds.filter(ImageFilter.GaussianBlur(0.02 * h))
        img = Image.composite(Image.new("RGB", (w, h), _mix(tuple(low), (255, 255, 255), 0.6)), img, clouds)
    _draw_setting(img, setting, pal, hy, np.random.default_rng(place_seed))
    return img


def _draw_setting(img: Image.Image, setting: str, pal: dict, hy: int, rng: np.random.Generator) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    far, near = tuple(pal["far"]), tuple(pal["near"])
    lit = pal["lit"]
    window = (255, 214, 130) if lit else _mix(near, tuple(pal["sky"][1]), 0.35)
    if setting == "city":
        x = -0.02 * w
        while x < w:  # distant skyline
            bw, bh = rng.uniform(0.03, 0.08) * w, rng.uniform(0.06, 0.26) * h
            d.rectangle([x, hy - bh, x + bw, hy], fill=far)
            x += bw + rng.uniform(0, 0.01) * w
        for x0 in (rng.uniform(-0.04, 0.02), rng.uniform(0.1, 0.16), rng.uniform(0.8, 0.86)):  # near blocks
            bw, bh = rng.uniform(0.1, 0.16) * w, rng.uniform(0.3, 0.5) * h
            bx = x0 * w
            d.rectangle([bx, hy - bh, bx + bw, hy + 0.02 * h], fill=near)
            for wy in np.arange(hy - bh + 0.03 * h, hy - 0.02 * h, 0.05 * h):
                for wx in np.arange(bx + 0.015 * w, bx + bw - 0.02 * w, 0.03 * w):
                    if not lit or rng.random() < 0.55:
                        d.rectangle([wx, wy, wx + 0.012 * w, wy + 0.022 * h], fill=window)
        vx = w / 2  # street edges converge on the horizon
        kerb = _mix(tuple(pal["ground"]), (200, 200, 200), 0.25)
        for s in (-1, 1):
            d.line([(vx + s * 0.08 * w, hy), (vx + s * 0.9 * w, h)], fill=kerb, width=max(1, int(0.004 * h)))
        d.line([(vx, hy + 0.02 * h), (vx, h)], fill=_mix(kerb, (240, 230, 160), 0.4), width=max(1, int(0.003 * h)))
    elif setting == "sea":
        sea_top, sea_low = _mix(tuple(pal["sky"][1]), (20, 60, 90), 0.45), _mix(tuple(pal["sky"][0]), (10, 30, 60), 0.6)
        arr = np.asarray(img).copy()
        arr[hy:] = _gradient(w, h - hy, 0, h - hy, sea_top, sea_low).astype(np.uint8)
        img.paste(Image.fromarray(arr))
        d = ImageDraw.Draw(img)
        sx = pal["sun"][0] * w
        for _ in range(60):  # glints on the water under the light
            y = rng.uniform(hy, h)
            x = sx + rng.normal(0, 0.02 * w + (y - hy) * 0.15)
            lw = rng.uniform(0.01, 0.04) * w
            d.line([(x - lw, y), (x + lw, y)], fill=_mix(tuple(pal["sun_colour"]), sea_top, 0.4), width=max(1, h // 300))
        headland = [(0.62, 0), (0.75, 0.03), (0.86, 0.045), (1.0, 0.02), (1.0, 0)]
        d.polygon([(x * w, hy - y * h) for x, y in headland], fill=far)
    elif setting in ("forest", "field"):
        n = 18 if setting == "forest" else 5
        for _ in range(n):  # far tree line
            x, r = rng.uniform(0, w), rng.uniform(0.02, 0.05) * h
            d.ellipse([x - r, hy - 2.2 * r, x + r, hy + 0.2 * r], fill=_mix(far, (60, 100, 60), 0.3))
        if setting == "field":
            pts = [(x, hy - 0.03 * h * (1 + math.sin(x / w * 5 + rng.uniform(0, 6)))) for x in np.linspace(0, w, 40)]
            d.polygon([(0, h), *pts, (w, h)], fill=_mix(tuple(pal["ground"]), (90, 130, 70), 0.3))
        else:
            for x in (rng.uniform(0.02, 0.1) * w, rng.uniform(0.86, 0.95) * w):  # near trees framing the shot
                d.rectangle([x - 0.01 * w, hy - 0.25 * h, x + 0.01 * w, hy + 0.05 * h], fill=_shade(near, 0.8))
                d.ellipse([x - 0.09 * w, hy - 0.55 * h, x + 0.09 * w, hy - 0.18 * h], fill=_mix(near, (40, 90, 50), 0.35))
    elif setting == "mountains":
        for layer, (col, amp) in enumerate(((far, 0.3), (_mix(far, near, 0.5), 0.16))):
            xs = np.linspace(-0.05 * w, 1.05 * w, 9 + layer * 4)
            pts = [(x, hy - rng.uniform(0.3, 1.0) * amp * h) for x in xs]
            d.polygon([(0, hy + 0.01 * h), *pts, (w, hy + 0.01 * h)], fill=col)
    elif setting == "desert":
        d.polygon([(0.15 * w, hy), (0.18 * w, hy - 0.1 * h), (0.3 * w, hy - 0.1 * h), (0.33 * w, hy)], fill=far)
        sand = _tinted((214, 180, 120), [c / 255 * 1.4 for c in pal["ground"]])
        for k in range(3):
            y0 = hy + k * 0.08 * h
            ph = rng.uniform(0, 6)
            pts = [(x, y0 - 0.04 * h * math.sin(x / w * 4 + ph)) for x in np.linspace(0, w, 40)]
            d.polygon([(0, h), *pts, (w, h)], fill=_shade(sand, 1.0 - 0.1 * k))
    elif setting == "interior":
        wall = _mix((196, 176, 150), far, 0.35)
        d.rectangle([0, 0, w, h], fill=wall)
        win = [0.55 * w, 0.12 * h, 0.88 * w, 0.55 * h]  # a window onto the sky of the hour
        sky = _gradient(int(win[2] - win[0]), int(win[3] - win[1]), 0, int(win[3] - win[1]), *pal["sky"])
        img.paste(Image.fromarray(sky.astype(np.uint8)), (int(win[0]), int(win[1])))
        d = ImageDraw.Draw(img)
        frame = _shade(wall, 0.6)
        d.rectangle(win, outline=frame, width=int(0.012 * h))
        d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=frame, width=int(0.01 * h))
        d.rectangle([0, hy, w, h], fill=_mix((120, 90, 64), near, 0.3))  # floor
        d.rectangle([0.08 * w, hy - 0.12 * h, 0.36 * w, hy + 0.02 * h], fill=_shade(wall, 0.55))  # a counter/table
        if lit:
            d.ellipse([0.18 * w, 0.05 * h, 0.26 * w, 0.12 * h], fill=(255, 220, 150))


# ---------------------------------------------------------------------------------------------
# Framing and captions


def _framing(shot_type: str) -> dict:
    types = _t()["shot_types"]
    st = shot_type.lower().replace("closeup", "close-up").replace("_", " ")
    match = [k for k in types if k in st]
    return types[max(match, key=len) if match else _t()["default_shot_type"]]


def camera_phrase(prompt: str) -> str:
    """The camera phrase the prompt opens with (what reel.camera matched), for the caption."""
    head = " ".join(prompt.lower().replace(",", " ").replace(".", " ").split()[:6])
    hits = [p for p in camera.known_phrases() if head.startswith(p)]
    return max(hits, key=len) if hits else camera.camera_move(prompt).replace("_", " ")


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, px))


CAPTION_KEY = "reel:caption_px"  # PNG text chunk: height of the caption strip at the bottom


def _caption(img: Image.Image, left: str, right: str = "") -> PngInfo:
    """A dark strip along the bottom with the shot caption (drawn at final size, so text is crisp).

    Returns PNG metadata recording the strip's height, so the preview video can animate the
    picture without dragging a half-cropped caption through its camera move."""
    w, h = img.size
    bar = max(14, round(h * 0.075))
    strip = img.crop((0, h - bar, w, h))
    img.paste(Image.blend(strip, Image.new("RGB", strip.size, (10, 10, 12)), 0.7), (0, h - bar))
    d = ImageDraw.Draw(img)
    font = _font(int(bar * 0.55))
    y = h - bar / 2
    d.text((bar * 0.4, y), _ascii(left), font=font, fill=(245, 245, 240), anchor="lm")
    if right and font.getlength(left + right) < w - bar * 2:
        d.text((w - bar * 0.4, y), _ascii(right), font=font, fill=(180, 180, 176), anchor="rm")
    info = PngInfo()
    info.add_text(CAPTION_KEY, str(bar))
    return info


def _all_text(plan: Plan) -> str:
    return " ".join([plan.story_logline, *(s.prompt for s in plan.shots)])


def _place_seed(plan: Plan, setting: str) -> int:
    return _stable_int("place", setting, plan.story_logline)


# ---------------------------------------------------------------------------------------------
# The backend


class AnimaticImage:
    """Masters and keyframes as drawn animatic frames (ImageModel protocol)."""

    name = "animatic"
    data_files = ('animatic.json', 'camera_verbs.json')
    model_id = "pillow-animatic-v1"

    def load(self) -> None:  # nothing to load: Pillow only
        pass

    def unload(self) -> None:
        pass

    def looks(self, plan: Plan) -> dict[str, Look]:
        return {k: look_of(k, p) for k, p in plan.characters.items()}

    def master(self, plan: Plan, subject: str, seed: int, size: tuple[int, int], out: Path) -> None:
        w, h = size
        W, H = w * SS, h * SS
        looks = self.looks(plan)
        if subject in looks:
            img = self._character_sheet(looks[subject], W, H).resize(size, Image.LANCZOS)
            self._sheet_labels(img, looks[subject])
            info = None
        elif subject in ("group", SCENE):
            text = _all_text(plan)
            time = time_of_day(plan.story_logline, text)
            setting = setting_of(plan.story_logline, text)
            img = draw_plate(W, H, time, setting, _place_seed(plan, setting), seed)
            tint = _t()["times"][time]["tint"]
            if subject == "group":
                n = len(looks)
                for i, look in enumerate(looks.values()):
                    draw_figure(img, look, W * (i + 1) / (n + 1), H * 0.9, H * 0.62, tint)
            img = img.resize(size, Image.LANCZOS)
            names = "  ".join(k if lk.name == k else f"{k} {lk.name}" for k, lk in looks.items())
            title = f"GROUP · {names}" if subject == "group" else "SCENE"
            info = _caption(img, title, f"{time} · {setting}")
        else:
            keys = ", ".join(looks)
            raise ValueError(f'master subject {subject!r} is not a character key ({keys}), "group" or "scene"')
        img.save(out, format="PNG", pnginfo=info)

    def _character_sheet(self, look: Look, W: int, H: int) -> Image.Image:
        """Neutral studio backdrop, the full figure, and a head-and-shoulders panel for the face."""
        floor_y = int(H * 0.86)
        arr = np.concatenate([_gradient(W, floor_y, 0, floor_y, (214, 214, 210), (176, 176, 172)),
                              _gradient(W, H - floor_y, 0, H - floor_y, (160, 160, 156), (138, 138, 134))])
        img = Image.fromarray(arr.astype(np.uint8))
        shadow = Image.new("L", (W, H), 0)
        ImageDraw.Draw(shadow).ellipse([W * 0.26, H * 0.865, W * 0.46, H * 0.905], fill=120)
        shadow = shadow.filter(ImageFilter.GaussianBlur(H * 0.01))
        img = Image.composite(Image.new("RGB", (W, H), (90, 90, 88)), img, shadow)
        draw_figure(img, look, W * 0.36, H * 0.885, H * 0.76)
        px0, py0, px1, py1 = int(W * 0.6), int(H * 0.12), int(W * 0.94), int(H * 0.8)
        panel = Image.new("RGB", (px1 - px0, py1 - py0), (200, 200, 196))
        ph = py1 - py0
        draw_figure(panel, look, panel.width / 2, ph * 0.06 + ph * 2.3 * look.height, ph * 2.3)
        img.paste(panel, (px0, py0))
        ImageDraw.Draw(img).rectangle([px0, py0, px1, py1], outline=(110, 110, 108), width=max(1, H // 300))
        return img

    def _sheet_labels(self, img: Image.Image, look: Look) -> None:
        """Name and colour swatches, drawn at final size."""
        w, h = img.size
        d = ImageDraw.Draw(img)
        big, small = _font(int(h * 0.06)), _font(int(h * 0.028))
        d.text((w * 0.03, h * 0.04), _ascii(f"{look.key} · {look.name}"), font=big, fill=(30, 30, 34))
        rows = [("top", look.main, look.named.get("main")), ("under", look.secondary, look.named.get("secondary")),
                ("legs", look.legs, look.named.get("legs")), ("hair", look.hair, look.named.get("hair")),
                ("skin", look.skin, None)]
        y, s = h * 0.14, h * 0.035
        for part, colour, word in rows:
            d.rectangle([w * 0.03, y, w * 0.03 + s, y + s], fill=colour, outline=(60, 60, 60))
            d.text((w * 0.03 + s * 1.4, y + s / 2), _ascii(f"{part}: {word or 'derived'}"), font=small,
                   fill=(40, 40, 44), anchor="lm")
            y += s * 1.35

    def keyframe(self, plan: Plan, shot: Shot, refs: list[Path], seed: int, size: tuple[int, int],
                 out: Path) -> None:
        # refs are ignored on purpose: figures are redrawn from the portrait text, which is what
        # the masters were drawn from, so identity matches without pasting pixels around.
        w, h = size
        W, H = w * SS, h * SS
        text = _all_text(plan)
        time = time_of_day(shot.prompt, plan.story_logline, text)
        setting = setting_of(shot.prompt, plan.story_logline, text)
        frame = _framing(shot.shot_type)
        horizon = 0.64
        plate = draw_plate(W, H, time, setting, _place_seed(plan, setting), seed, horizon)
        # Tighter shots see a magnified, softer slice of the same place, panned a little per shot.
        bg = frame["bg"]
        if bg > 1.0:
            cw, ch = W / bg, H / bg
            x0 = (W - cw) / 2 * (1 + math.sin(shot.index * 2.3))
            y0 = (H - ch) * horizon  # keeps the horizon at the same height in the frame
            plate = plate.resize((W, H), Image.BICUBIC, box=(x0, y0, x0 + cw, y0 + ch))
        if frame["blur"] > 0:
            plate = plate.filter(ImageFilter.GaussianBlur(frame["blur"] * H))
        looks = self.looks(plan)
        present = sorted(plan.characters_in(shot), key=lambda k: k != shot.dominant_subject)  # dominant first
        if frame["solo"] and present:
            dom = shot.dominant_subject if shot.dominant_subject in present else present[0]
            present = [dom]
        tint = _t()["times"][time]["tint"]
        self._place_figures(plate, [looks[k] for k in present], shot, frame, tint)
        img = plate.resize(size, Image.LANCZOS)
        info = _caption(img, f"SHOT {shot.index + 1} · {camera_phrase(shot.prompt).upper()} · {shot.shot_type}",
                        f"{time} · {setting}")
        img.save(out, format="PNG", pnginfo=info)

    def _place_figures(self, img: Image.Image, looks: list[Look], shot: Shot, frame: dict,
                       tint: list[float]) -> None:
        """Dominant character first and largest; others beside it, a step back (drawn first)."""
        if not looks:
            return
        W, H = img.size
        n = len(looks)
        size = frame["fig"] * H
        feet = (frame["top"] + frame["fig"]) * H
        spread = 0.14 if frame["fig"] < 0.5 else 0.2
        xs = [0.5 + spread * (i - (n - 1) / 2) for i in range(n)] if n > 1 else [0.42]
        if shot.index % 2:  # alternate sides from shot to shot, like coverage would
            xs = [1 - x for x in xs]
        order = sorted(range(n), key=lambda i: i == 0)  # dominant drawn last, on top
        d = ImageDraw.Draw(img)
        for i in order:
            k = 1.0 if i == 0 else (0.92 if frame["fig"] < 0.5 else 0.85)
            f = feet - (1 - k) * size * 0.15  # a step back: feet a little higher
            if f < H:  # contact shadow when the feet are in frame
                r = size * k * 0.09
                ground = img.getpixel((int(min(W - 1, xs[i] * W)), int(min(H - 1, f))))
                d.ellipse([xs[i] * W - r, f - r * 0.18, xs[i] * W + r, f + r * 0.18], fill=_shade(ground, 0.6))
            draw_figure(img, looks[i], xs[i] * W, f, size * k, tint)
