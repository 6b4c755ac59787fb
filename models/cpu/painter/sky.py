"""Sky and light of the hour, and the weather drawn over the finished frame.

Weather greys the sky and hides the sun before the setting is drawn; rain streaks, snow
flakes, fog and wind gusts go over everything, figures included, as weather would.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .common import SS, RGB, gradient, mix, table


def palette(time: str, weather: str | None) -> dict:
    """The hour's palette, pulled toward overcast grey by rain, snow or fog."""
    t = table()
    pal = dict(t["times"][t["palette_of"].get(time, time)])
    grey = t["weather"][weather]["grey"] if weather else 0.0
    if grey:
        over = t["times"]["overcast"]
        for key in ("far", "near", "ground"):
            pal[key] = list(mix(tuple(pal[key]), tuple(over[key]), grey))
        pal["sky"] = [list(mix(tuple(c), tuple(o), grey)) for c, o in zip(pal["sky"], over["sky"])]
    if weather == "snow":  # a snowfall lies on the ground
        pal["ground"] = list(mix(tuple(pal["ground"]), (236, 238, 244), 0.6))
    pal["hide_sun"] = bool(weather and t["weather"][weather]["hide_sun"])
    return pal


def draw_sky(w: int, h: int, pal: dict, hy: int, sky_seed: int) -> Image.Image:
    top, low = pal["sky"]
    ground = tuple(pal["ground"])
    arr = np.concatenate([gradient(w, hy, 0, hy, top, low),
                          gradient(w, h - hy, 0, h - hy, mix(ground, tuple(low), 0.25), tuple(int(c * 0.7) for c in ground))])
    img = Image.fromarray(arr.astype(np.uint8))
    rng = np.random.default_rng(sky_seed)
    d = ImageDraw.Draw(img)
    if pal["stars"] and not pal["hide_sun"]:
        for _ in range(int(w * h / 9000)):
            x, y = rng.uniform(0, w), rng.uniform(0, hy * 0.9)
            r = rng.uniform(0.5, 1.6) * SS
            d.ellipse([x - r, y - r, x + r, y + r], fill=(230, 230, 240))
    sx, sh, sr = pal["sun"]
    if sh > -0.05 and sr > 0 and not pal["hide_sun"]:  # sun or moon with a soft glow
        cx, cy, r = sx * w, hy - sh * hy, sr * min(w, h)
        glow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(glow).ellipse([cx - 4 * r, cy - 4 * r, cx + 4 * r, cy + 4 * r], fill=110)
        glow = glow.filter(ImageFilter.GaussianBlur(3 * r))
        img = Image.composite(Image.new("RGB", (w, h), tuple(pal["sun_colour"])), img, glow)
        ImageDraw.Draw(img).ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(pal["sun_colour"]))
    if not pal["stars"] or pal["hide_sun"]:  # soft clouds; a low grey deck under weather
        n, alpha = (9, 130) if pal["hide_sun"] else (5, 90)
        clouds = Image.new("L", (w, h), 0)
        cd = ImageDraw.Draw(clouds)
        for _ in range(n):
            x, y = rng.uniform(0, w), rng.uniform(0.05, 0.5) * hy
            cw, ch = rng.uniform(0.1, 0.25) * w, rng.uniform(0.02, 0.06) * h
            cd.ellipse([x - cw, y - ch, x + cw, y + ch], fill=alpha)
        clouds = clouds.filter(ImageFilter.GaussianBlur(0.02 * h))
        cloud = mix(tuple(low), (255, 255, 255), 0.35 if pal["hide_sun"] else 0.6)
        img = Image.composite(Image.new("RGB", (w, h), cloud), img, clouds)
    return img


def draw_weather(img: Image.Image, weather: str | None, seed: int, horizon: float = 0.64) -> Image.Image:
    """Rain, snow, fog or wind over the whole frame."""
    if not weather:
        return img
    w, h = img.size
    spec = table()["weather"][weather]
    rng = np.random.default_rng(seed)
    scale = min(w, h)
    if weather == "fog":
        veil = Image.fromarray((gradient(w, h, int(h * 0.1), int(h * horizon), (70,) * 3, (255 * spec["veil"],) * 3)
                                [..., 0]).astype(np.uint8), "L")
        return Image.composite(Image.new("RGB", (w, h), (214, 216, 220)), img, veil)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    if weather == "rain":
        for _ in range(int(spec["streaks"] * w * h / (1280 * 720 * SS * SS) * 4) + 40):
            x, y = rng.uniform(-0.1 * w, w), rng.uniform(-0.1 * h, h)
            length = rng.uniform(0.03, 0.07) * scale
            d.line([(x, y), (x + length * 0.25, y + length)], fill=(210, 220, 235, 150), width=max(1, SS))
        img = Image.blend(img, Image.new("RGB", (w, h), (120, 128, 140)), 0.12)
    elif weather == "snow":
        for _ in range(int(spec["flakes"] * w * h / (1280 * 720 * SS * SS) * 4) + 60):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(0.002, 0.006) * scale
            d.ellipse([x - r, y - r, x + r, y + r], fill=(250, 250, 255, 230))
    elif weather == "wind":
        for _ in range(spec["gusts"]):
            x, y = rng.uniform(0, 0.8) * w, rng.uniform(0.05, 0.6) * h
            length, bend = rng.uniform(0.12, 0.25) * w, rng.uniform(0.01, 0.03) * h
            d.arc([x, y - bend, x + length, y + bend], 200, 340, fill=(245, 245, 250, 170), width=max(1, SS))
            lx, ly = x + length * 1.05, y + rng.uniform(-1, 1) * bend  # a leaf carried along
            d.ellipse([lx, ly, lx + 0.008 * scale, ly + 0.005 * scale], fill=(150, 120, 60, 220))
    img = img.convert("RGBA")
    img.alpha_composite(layer)
    return img.convert("RGB")


def ground_colour(pal: dict) -> RGB:
    return tuple(pal["ground"])  # type: ignore[return-value]
