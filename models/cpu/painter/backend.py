"""CPU preview image backend: an honest animatic drawn with Pillow, not fake photorealism.

Masters and keyframes are drawn from the plan's text: the scene description (setting type, time,
weather, props; painter.scene) picks the backdrop, sky, overlays and pictograms, and characters
are simple figures read from their bible portraits. Drawing happens at 2x and is downsampled,
which is all the anti-aliasing Pillow needs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from reel.schema import SCENE, Plan, Shot

from .backdrops import draw_backdrop
from .captions import camera_phrase, caption, font
from .common import SS, ascii_text, gradient, shade, stable_int, table, tinted
from .figure import draw_figure
from .looks import Look, look_of
from .props import draw_props, prop_spec
from .scene import SceneDescription, describe, scene_of
from .sky import draw_sky, draw_weather, palette
from models.base import BackendBase

HORIZON = 0.64


def _framing(shot_type: str) -> dict:
    types = table()["shot_types"]
    st = shot_type.lower().replace("closeup", "close-up").replace("_", " ")
    match = [k for k in types if k in st]
    return types[max(match, key=len) if match else table()["default_shot_type"]]


def draw_plate(w: int, h: int, desc: SceneDescription, place_seed: int, sky_seed: int,
               horizon: float = HORIZON) -> Image.Image:
    """Sky, light and setting. place_seed fixes the layout of the place (same in every shot);
    sky_seed only moves clouds and stars."""
    pal = palette(desc.time, desc.weather)
    if desc.ground:  # the place's own colour under this light: a lavender field at dusk is dusky lavender
        pal = {**pal, "ground": list(tinted(desc.ground, [0.5 + c / 255 for c in pal["ground"]])), "own_ground": True}
    hy = int(h * horizon)
    img = draw_sky(w, h, pal, hy, sky_seed)
    draw_backdrop(img, desc.setting, pal, hy, np.random.default_rng(place_seed))
    return img


def _place_seed(plan: Plan, setting: str) -> int:
    return stable_int("place", setting, plan.story_logline)


def _right(desc: SceneDescription) -> str:
    return " · ".join(p for p in (desc.time, desc.setting, desc.weather) if p)


def _must(desc: SceneDescription) -> str:
    return f"not drawn: {', '.join(desc.unnamed)}" if desc.unnamed else ""


class AnimaticImage(BackendBase):
    """Masters and keyframes as drawn animatic frames (ImageModel protocol)."""

    name = "animatic"
    cpu = True  # no GPU: takes no GPU turn (runtime/host.py)
    data_files = ('animatic.json', 'camera_verbs.json', 'director_rules.json')
    model_id = "pillow-animatic-v1"

    def load(self) -> None:  # nothing to load: Pillow only
        pass

    def unload(self) -> None:
        pass

    def looks(self, plan: Plan) -> dict[str, Look]:
        people = scene_of(plan).people
        return {k: look_of(k, p, people[k].age if k in people else None) for k, p in plan.characters.items()}

    def master(self, plan: Plan, subject: str, seed: int, size: tuple[int, int], out: Path) -> None:
        w, h = size
        W, H = w * SS, h * SS
        looks = self.looks(plan)
        if subject in looks:
            img = self._character_sheet(looks[subject], W, H).resize(size, Image.LANCZOS)
            self._sheet_labels(img, looks[subject])
            info = None
        elif subject in ("group", SCENE):
            desc = describe(plan)
            img = draw_plate(W, H, desc, _place_seed(plan, desc.setting), seed)
            tint = palette(desc.time, desc.weather)["tint"]
            draw_props(img, tuple(p for p in desc.props if not (desc.interior and prop_spec(p)["where"] == "sky")),
                       0.5, seed, colours=dict(desc.colours))
            if subject == "group":
                n = len(looks)
                for i, look in enumerate(looks.values()):
                    draw_figure(img, look, W * (i + 1) / (n + 1), H * 0.9, H * 0.62, tint)
            img = (img if desc.interior else draw_weather(img, desc.weather, seed)).resize(size, Image.LANCZOS)
            names = "  ".join(k if lk.name == k else f"{k} {lk.name}" for k, lk in looks.items())
            title = f"GROUP · {names}" if subject == "group" else "SCENE"
            info = caption(img, title, _right(desc), _must(desc))
        else:
            keys = ", ".join(looks)
            raise ValueError(f'master subject {subject!r} is not a character key ({keys}), "group" or "scene"')
        img.save(out, format="PNG", pnginfo=info)

    def _character_sheet(self, look: Look, W: int, H: int) -> Image.Image:
        """Neutral studio backdrop, the full figure, and a head-and-shoulders panel for the face."""
        floor_y = int(H * 0.86)
        arr = np.concatenate([gradient(W, floor_y, 0, floor_y, (214, 214, 210), (176, 176, 172)),
                              gradient(W, H - floor_y, 0, H - floor_y, (160, 160, 156), (138, 138, 134))])
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
        big, small = font(int(h * 0.06)), font(int(h * 0.028))
        d.text((w * 0.03, h * 0.04), ascii_text(f"{look.key} · {look.name}"), font=big, fill=(30, 30, 34))
        rows = [("top", look.main, look.named.get("main")), ("under", look.secondary, look.named.get("secondary")),
                ("legs", look.legs, look.named.get("legs")), ("hair", look.hair, look.named.get("hair")),
                ("skin", look.skin, None)]
        y, s = h * 0.14, h * 0.035
        for part, colour, word in rows:
            d.rectangle([w * 0.03, y, w * 0.03 + s, y + s], fill=colour, outline=(60, 60, 60))
            d.text((w * 0.03 + s * 1.4, y + s / 2), ascii_text(f"{part}: {word or 'derived'}"), font=small,
                   fill=(40, 40, 44), anchor="lm")
            y += s * 1.35

    def keyframe(self, plan: Plan, shot: Shot, refs: list[Path], seed: int, size: tuple[int, int],
                 out: Path) -> None:
        # refs are ignored on purpose: figures are redrawn from the portrait text, which is what
        # the masters were drawn from, so identity matches without pasting pixels around.
        w, h = size
        W, H = w * SS, h * SS
        desc = describe(plan, shot)
        frame = _framing(shot.shot_type)
        horizon = HORIZON
        plate = draw_plate(W, H, desc, _place_seed(plan, desc.setting), seed, horizon)
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
        tint = palette(desc.time, desc.weather)["tint"]
        lead_x = self._place_figures(plate, [looks[k] for k in present], shot, frame, tint)
        insert = not present
        # Wide frames show every prop where it belongs; tighter ones keep what is in the sky or on the
        # water; an insert shows the thing it is about, large.
        # Indoors, the sky and its weather are only seen through the window.
        shown = desc.props if insert or frame["fig"] <= 1.0 else tuple(
            p for p in desc.props if prop_spec(p)["where"] in ("sky", "water"))
        if desc.interior:
            shown = tuple(p for p in shown if prop_spec(p)["where"] != "sky")
        draw_props(plate, shown, lead_x, seed, horizon, insert=insert, colours=dict(desc.colours))
        img = plate if desc.interior else draw_weather(plate, desc.weather, seed, horizon)
        img = img.resize(size, Image.LANCZOS)
        info = caption(img, f"SHOT {shot.index + 1} · {camera_phrase(shot.prompt).upper()} · {shot.shot_type}",
                       _right(desc), _must(desc))
        img.save(out, format="PNG", pnginfo=info)

    def _place_figures(self, img: Image.Image, looks: list[Look], shot: Shot, frame: dict,
                       tint: list[float]) -> float:
        """Dominant character first and largest; others beside it, a step back (drawn first).
        Returns where the lead stands (fraction of the width), for the props beside them."""
        if not looks:
            return 0.5
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
            if n == 1 and feet > H:  # one person framed at the body: a child's face sits where an adult's would
                f -= size * k * max(0.0, Look.height - looks[i].height)
            if f < H:  # contact shadow when the feet are in frame
                r = size * k * 0.09
                ground = img.getpixel((int(min(W - 1, xs[i] * W)), int(min(H - 1, f))))
                d.ellipse([xs[i] * W - r, f - r * 0.18, xs[i] * W + r, f + r * 0.18], fill=shade(ground, 0.6))
            draw_figure(img, looks[i], xs[i] * W, f, size * k, tint)
        return xs[0]
