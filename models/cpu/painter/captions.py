"""The caption strip of a frame: what the shot is, and what the animatic could not draw.

The strip's height is written into the PNG (reel.media.CAPTION_KEY) so the preview video
animates only the picture above it.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from reel import camera
from reel.media import CAPTION_KEY

from .common import ascii_text


def camera_phrase(prompt: str) -> str:
    """The camera phrase the prompt opens with (what reel.camera matched), for the caption."""
    head = " ".join(prompt.lower().replace(",", " ").replace(".", " ").split()[:6])
    hits = [p for p in camera.known_phrases() if head.startswith(p)]
    return max(hits, key=len) if hits else camera.camera_move(prompt).replace("_", " ")


def font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, px))


def caption(img: Image.Image, left: str, right: str = "", must: str = "") -> PngInfo:
    """A dark strip along the bottom: `left`, then `right` if it fits, and `must` always (the font
    shrinks until it fits: a named thing the frame cannot show is never silently dropped)."""
    w, h = img.size
    bar = max(14, round(h * 0.075))
    strip = img.crop((0, h - bar, w, h))
    img.paste(Image.blend(strip, Image.new("RGB", strip.size, (10, 10, 12)), 0.7), (0, h - bar))
    d = ImageDraw.Draw(img)
    left, right, must = ascii_text(left), ascii_text(right), ascii_text(must)
    tail = " · ".join(p for p in (right, must) if p)
    px = int(bar * 0.55)
    f = font(px)
    while px > 8 and f.getlength(left + "   " + tail) > w - bar * 0.8:
        px -= 1
        f = font(px)
    if f.getlength(left + "   " + tail) > w - bar * 0.8:
        tail = must or right  # too narrow for both: keep what must be said
        left = left.split(" · ")[0]
    y = h - bar / 2
    d.text((bar * 0.4, y), left, font=f, fill=(245, 245, 240), anchor="lm")
    if tail:
        d.text((w - bar * 0.4, y), tail, font=f, fill=(200, 200, 190) if must else (180, 180, 176), anchor="rm")
    info = PngInfo()
    info.add_text(CAPTION_KEY, str(bar))
    return info
