"""Drawing one character as a simple full figure, at any scale (a tiny figure in a wide, a face in a close-up)."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from .common import RGB, shade, tinted
from .looks import Look

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
        return tinted(c, tint)

    def P(x: float, y: float) -> tuple[float, float]:
        return (cx + x * H, top + y * H)

    def poly(pts, fill: RGB) -> None:
        d.polygon([P(*p) for p in pts], fill=col(fill), outline=col(shade(fill, 0.55)), width=lw)

    def ell(x0, y0, x1, y1, fill: RGB, outline: bool = True) -> None:
        d.ellipse([P(x0, y0), P(x1, y1)], fill=col(fill), outline=col(shade(fill, 0.55)) if outline else None,
                  width=lw)

    sw, ww, hw = 0.13 * wf, 0.095 * wf, 0.105 * wf  # shoulder, waist, hip half-widths
    hem = 0.78 if look.dress else 0.52
    hem_w = 0.15 * wf if look.dress else hw
    if look.hair_style == "long":  # hair falling behind the shoulders
        d.rounded_rectangle([P(-0.085, 0.02), P(0.085, 0.3)], radius=0.05 * H, fill=col(look.hair),
                            outline=col(shade(look.hair, 0.6)), width=lw)
    # legs and shoes
    for s in (-1, 1):
        x = s * 0.05 * wf
        poly([(x - 0.038 * wf, hem - 0.02), (x + 0.038 * wf, hem - 0.02), (x + 0.032, 0.96), (x - 0.032, 0.96)], look.legs)
        ell(x - 0.045 + s * 0.012, 0.94, x + 0.045 + s * 0.012, 1.0, look.shoes)
    d.rectangle([P(-0.022, 0.12), P(0.022, 0.19)], fill=col(shade(look.skin, 0.85)))  # neck
    # torso (a long coat or dress flares to the knees)
    poly([(-sw + 0.02, 0.175), (sw - 0.02, 0.175), (sw, 0.2), (ww, 0.45), (hem_w, hem), (-hem_w, hem), (-ww, 0.45),
          (-sw, 0.2)], look.main)
    poly([(-0.04, 0.176), (0.04, 0.176), (0.0, 0.31)], look.secondary)  # shirt/sweater under the top layer
    # arms: round-capped sleeves in the main colour (an outline stroke under a fill stroke), hands
    arm_w = 0.058 * wf * H
    for s in (-1, 1):
        sleeve = [P(s * (sw - 0.025), 0.215), P(s * (sw + 0.02 * wf), 0.48)]
        for width, colour in ((arm_w + 2 * lw, shade(look.main, 0.55)), (arm_w, look.main)):
            d.line(sleeve, fill=col(colour), width=round(width))
            for x, y in sleeve:
                d.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=col(colour))
        ell(s * (sw + 0.02 * wf) - 0.026, 0.49, s * (sw + 0.02 * wf) + 0.026, 0.55, look.skin)
    if look.apron:  # an apron over the front, chest to knee
        poly([(-0.07 * wf, 0.24), (0.07 * wf, 0.24), (0.1 * wf, 0.7), (-0.1 * wf, 0.7)], look.apron)
    if "one_colour" in look.work and not look.dress:  # overalls and scrubs: a bib and a belt line
        poly([(-0.06, 0.22), (0.06, 0.22), (0.06, 0.34), (-0.06, 0.34)], shade(look.main, 0.85))
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
    d.line([P(-0.014, 0.118), P(0.014, 0.118)], fill=col(shade(look.skin, 0.55)), width=lw)  # mouth
    work_hat = "veil" in look.work or "helmet" in look.work or "cap" in look.work
    if "veil" in look.work:  # a beekeeper's veil: mesh from the brim to the shoulders, the face dim behind it
        veil = Image.new("RGBA", img.size, (0, 0, 0, 0))
        vd = ImageDraw.Draw(veil)
        vd.rectangle([P(-0.085, 0.03), P(0.085, 0.19)], fill=(235, 235, 228, 150))
        for k in range(1, 9):  # the mesh
            y = 0.03 + 0.16 * k / 9
            vd.line([P(-0.085, y), P(0.085, y)], fill=(60, 60, 60, 110), width=lw)
        img.paste(Image.alpha_composite(img.convert("RGBA"), veil).convert(img.mode))
    if look.hat or work_hat:
        hat = look.hat or (look.main if "veil" in look.work else (235, 170, 40) if "helmet" in look.work
                           else shade(look.main, 0.6))
        if "helmet" in look.work:  # a hard hat: a dome and a short brim
            d.chord([P(-0.075, -0.04), P(0.075, 0.1)], 180, 360, fill=col(hat), outline=col(shade(hat, 0.55)), width=lw)
            poly([(-0.09, 0.03), (0.09, 0.03), (0.09, 0.045), (-0.09, 0.045)], hat)
        elif "cap" in look.work:  # a peaked cap: a flat crown and a dark peak to the front
            poly([(-0.07, -0.005), (0.07, -0.005), (0.06, 0.04), (-0.06, 0.04)], hat)
            poly([(-0.06, 0.035), (0.07, 0.035), (0.085, 0.055), (-0.045, 0.055)], shade(hat, 0.4))
        else:
            ell(-0.07, -0.03, 0.07, 0.07, hat)
            brim = 0.12 if "veil" in look.work else 0.09  # a veil hangs from a wide brim
            poly([(-brim, 0.035), (brim, 0.035), (brim, 0.055), (-brim, 0.055)], hat)

