"""Retry strategies: what the next attempt of a failing shot changes, chosen by the failure
labels of its verdict (the table lives in prompts/strategies.json). Always a new seed; a label
whose fix was already tried on this shot escalates to its stronger form."""

from __future__ import annotations

import re
from typing import Any

from reel import prompts
from reel.camera import camera_move
from reel.ids import seed_for
from reel.schema import Plan, RenderKnobs, Verdict

TABLE = "strategies.json"
UNLABELLED = "UNLABELLED"


def labels_of(verdict: Verdict) -> list[str]:
    """The labels a failing verdict asks to fix, in order, or UNLABELLED."""
    seen: list[str] = []
    for label in verdict.labels:
        if label.value not in seen:
            seen.append(label.value)
    return seen or [UNLABELLED]


def names_in(plan: Plan, shot_index: int) -> str:
    """How the shot's characters are called in prose: 'Inès and Luc', or 'The figures'."""
    keys = plan.characters_in(plan.shots[shot_index])
    names = [re.split(r"[\s(,]", plan.characters[k].strip(), maxsplit=1)[0] for k in keys]
    if not names:
        return "The people in the shot"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def wardrobe_sentence(plan: Plan, shot_index: int) -> str:
    words = set(prompts.table(TABLE)["wardrobe_words"])
    sentences = []
    for key in plan.characters_in(plan.shots[shot_index]):
        portrait = plan.characters[key]
        name = re.split(r"[\s(,]", portrait.strip(), maxsplit=1)[0]
        phrases = [p.strip() for p in re.split(r"[,;()]|\. ", portrait)
                   if any(w in re.findall(r"[a-z-]+", p.lower()) for w in words)]
        if phrases:
            sentences.append(f"{name} wears the same {' and '.join(phrases[:2])}.")
    return " ".join(sentences)


def _set_camera(prompt: str, sentence: str) -> str:
    rest = re.split(r"(?<=[.!?])\s", prompt.strip(), maxsplit=1)
    return f"{sentence} {rest[1]}" if len(rest) > 1 else sentence


def _insert(prompt: str, sentence: str) -> str:
    """Add a sentence before the lens anchor (which stays last), once."""
    if sentence in prompt:
        return prompt
    anchor = prompts.table(TABLE)["lens_anchor"]
    i = prompt.find(anchor)
    if i < 0:
        return f"{prompt.rstrip()} {sentence}"
    return f"{prompt[:i].rstrip()} {sentence} {prompt[i:]}"


def _clamp(name: str, value: float) -> float:
    lo, hi = prompts.table(TABLE)["limits"][name]
    return min(max(value, lo), hi)


def apply_changes(knobs: RenderKnobs, changes: dict[str, Any], plan: Plan, shot_index: int) -> tuple[dict, list[str]]:
    """The knob updates for one label's changes, and a note for each."""
    t = prompts.table(TABLE)
    update: dict[str, Any] = {}
    notes: list[str] = []
    names = names_in(plan, shot_index)
    for change, value in changes.items():
        if change in ("flow_shift", "steps", "guidance", "guidance_2"):
            old = getattr(knobs, change)
            new = _clamp(change, old + value)
            new = int(new) if change == "steps" else round(new, 2)
            if new != old:
                update[change] = new
                notes.append(f"{change} {old} -> {new}")
        elif change == "keyframe_source" and knobs.keyframe_source != value:
            update[change] = value
            notes.append("keyframe re-made from the character's master")
        elif change == "end_frame" and knobs.end_frame != value:
            update[change] = value
            notes.append("first-last-frame conditioning on")
        elif change == "camera":
            sentence = t["plain_camera"]["static" if value == "static" else camera_move(knobs.prompt)]
            update["prompt"] = _set_camera(knobs.prompt, sentence)
            notes.append(f"camera sentence reduced to {sentence!r}")
        elif change == "append":
            sentence = value.format(names=names)
            update["prompt"] = _insert(knobs.prompt, sentence)
            notes.append(f"added {sentence!r}")
        elif change == "direction":
            sentence = t["direction_sentence"].format(names=names)
            update["prompt"] = _insert(knobs.prompt, sentence)
            notes.append(f"added {sentence!r}")
        elif change == "wardrobe":
            sentence = wardrobe_sentence(plan, shot_index)
            if sentence:
                update["prompt"] = _insert(knobs.prompt, sentence)
                notes.append(f"wardrobe re-injected: {sentence!r}")
        elif change == "negative":
            terms = [x for x in value.split("，") if x and x not in knobs.negative_prompt]
            if terms:
                update["negative_prompt"] = knobs.negative_prompt.rstrip("，") + "，" + "，".join(terms)
                notes.append(f"negative prompt + {'，'.join(terms)}")
        knobs = knobs.model_copy(update=update)
    return update, notes


FULL_STEP_KNOBS = ("steps", "flow_shift", "guidance", "guidance_2", "fbcache")


def undistilled(knobs: RenderKnobs, full: RenderKnobs) -> tuple[RenderKnobs, str]:
    """After a failed step-distilled attempt: the preset's full steps, shift, CFG and cache on the
    base experts (`full`: the shot's attempt-1 knobs without turbo), and the note saying so."""
    update = {k: getattr(full, k) for k in FULL_STEP_KNOBS} | {"distilled": False}
    note = (f"distilled attempt failed -> full render on the base experts ({full.steps} steps, shift "
            f"{full.flow_shift:g}, CFG {full.guidance:g}/{full.guidance_2:g}, FBCache {full.fbcache or 'off'})")
    return knobs.model_copy(update=update), note


def next_attempt(plan: Plan, shot_index: int, history: list[tuple[RenderKnobs, Verdict]], base_seed: int,
                 full: RenderKnobs | None = None) -> tuple[RenderKnobs, str]:
    """Knobs for the attempt after the last one in `history`, and the record of why. A failed
    step-distilled attempt goes to full steps first (`full`, see `undistilled`), then each label's
    change applies on top."""
    knobs, verdict = history[-1]
    tried = {label for _, v in history[:-1] for label in labels_of(v)}
    table = prompts.table(TABLE)["labels"]
    parts = []
    if knobs.distilled:
        if full is None:
            raise ValueError("a distilled attempt's retry needs the shot's full-step knobs (full=...)")
        knobs, note = undistilled(knobs, full)
        parts.append(note)
    for label in labels_of(verdict):
        form = "again" if label in tried else "first"
        update, notes = apply_changes(knobs, table[label][form], plan, shot_index)
        knobs = knobs.model_copy(update=update)
        detail = "; ".join(notes) or "no knob change"
        parts.append(f"{label}{' (again, escalated)' if form == 'again' else ''} -> {detail}")
    attempt = history[-1][0].attempt + 1
    knobs = knobs.model_copy(update={"seed": seed_for(base_seed, "render", shot_index, attempt), "attempt": attempt})
    return knobs, f"attempt {attempt}: {' | '.join(parts)}; new seed {knobs.seed}"
