"""FLUX.2 [klein] 4B image backend (ImageModel): masters by text-to-image, keyframes by
reference editing, through diffusers' Flux2KleinPipeline.

Identity is pinned by construction: a keyframe is `pipe(image=[masters...], prompt=shot.prompt)`,
so the characters' masters go in as references and the shot prompt drives the edit (no LoRA, no
per-character training). klein 4B is step-distilled: 4 steps, guidance ignored (1.0).
Master prompts are templates in prompts/image_prompts.json.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from models.gpu import accel
from reel import prompts
from reel.schema import SCENE, Plan, Shot, short_reference

TABLE = "image_prompts.json"
SETTING = "REEL_MODEL_IMAGE"
MULTIPLE = 16  # VAE 8x down, then 2x2 patches
MIN_REF = 64  # Flux2KleinPipeline rejects reference images smaller than this on either side


def snap(size: tuple[int, int]) -> tuple[int, int]:
    """The nearest size the model can render (multiples of 16, at least 16)."""
    return tuple(max(MULTIPLE, round(v / MULTIPLE) * MULTIPLE) for v in size)  # type: ignore[return-value]


def _name(portrait: str) -> str:
    """The character's name: the words before the portrait's opening parenthesis (or its first word)."""
    m = re.match(r"\s*([^(,.;]+?)\s*\(", portrait)
    return m[1] if m else portrait.split()[0]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def master_prompt(plan: Plan, subject: str) -> str:
    """The text-to-image prompt for a character key, "group" or "scene"."""
    t = prompts.table(TABLE)
    if subject in plan.characters:
        return t["character"].format(portrait=plan.characters[subject].rstrip(". "), style=t["style"])
    if subject == "group":
        names = [_name(p) for p in plan.characters.values()]
        names_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        portraits = t["joiner"].join(p.rstrip(". ") for p in plan.characters.values())
        return t["group"].format(names=names_text, portraits=portraits, logline=plan.story_logline.rstrip(". "),
                                 style=t["style"])
    if subject == SCENE:
        return t["scene"].format(logline=plan.story_logline.rstrip(". "), setting=scene_setting(plan),
                                 style=t["style"])
    keys = ", ".join(plan.characters)
    raise ValueError(f'master subject {subject!r} is not a character key ({keys}), "group" or "scene"')


def scene_setting(plan: Plan) -> str:
    """The first shot's sentences about the place: not its camera sentence, none naming a character,
    none with a phrase the table drops (the lens anchor, which the template adds once)."""
    t = prompts.table(TABLE)
    people = [short_reference(p) for p in plan.characters.values()] + [_name(p) for p in plan.characters.values()]
    keep = []
    for sentence in _sentences(plan.shots[0].prompt)[1:]:
        if any(re.search(rf"\b{re.escape(who)}\b", sentence) for who in people):
            continue
        if any(phrase.lower() in sentence.lower() for phrase in t["drop_sentences_with"]):
            continue
        keep.append(sentence)
    return " ".join(keep)


class Flux2KleinImage(accel.PipelineBackend):
    """FLUX.2 [klein] through diffusers (ImageModel protocol).

    `model` is a hub id or a local diffusers folder (REEL_MODEL_IMAGE); `device` a torch device
    (REEL_DEVICE_IMAGE). The constructor loads nothing; `load()` does.
    """

    name = "flux2"
    pipeline_class, role, setting = "Flux2KleinPipeline", "image", SETTING
    data_files = (TABLE,)

    def __init__(self, device: str = "cuda:0", model: str = "black-forest-labs/FLUX.2-klein-4B",
                 steps: int = 4, guidance: float = 1.0):
        self.device = device
        self.model_id = model
        self.steps = steps
        self.guidance = guidance  # ignored by the distilled 4B; used by the klein base checkpoints
        self.pipe = None

    def master(self, plan: Plan, subject: str, seed: int, size: tuple[int, int], out: Path) -> None:
        self._paint(master_prompt(plan, subject), [], seed, size, out)

    def keyframe(self, plan: Plan, shot: Shot, refs: list[Path], seed: int, size: tuple[int, int],
                 out: Path) -> None:
        self._paint(shot.prompt, [_reference(p) for p in refs], seed, size, out)

    def _paint(self, prompt: str, images: list, seed: int, size: tuple[int, int], out: Path) -> None:
        import torch

        self.load()
        w, h = snap(size)
        result = self.pipe(
            image=images or None, prompt=prompt, width=w, height=h, num_inference_steps=self.steps,
            guidance_scale=self.guidance, generator=torch.Generator("cpu").manual_seed(seed),  # same on every device
        ).images[0]
        if result.size != tuple(size):  # the caller asked for a size off the 16-pixel grid
            from PIL import Image

            result = result.resize(tuple(size), Image.LANCZOS)
        result.save(out, format="PNG")


def _reference(path: Path):
    """A reference image as RGB, upscaled when a side is under the pipeline's 64-pixel minimum."""
    from PIL import Image

    with Image.open(path) as im:
        img = im.convert("RGB")
    k = MIN_REF / min(img.size)
    if k > 1:
        img = img.resize((math.ceil(img.width * k), math.ceil(img.height * k)), Image.LANCZOS)
    return img
