"""The storyboard review gate: after the keyframes the reel flow pauses on Prefect's own
pause_flow_run(wait_for_input=...), the UI shows the storyboard and a form, and the reviewer
approves, edits one shot's prompt or narration, re-rolls one shot's keyframe, or cancels. Each
decision is kept in the reel's review.json, so a resumed run makes the same reel; after an edit
or re-roll the flow repaints (the cache redoes only what changed) and asks again."""

from __future__ import annotations

from typing import Any, Callable, Literal

from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from reel import progress
from reel.errors import UserError
from reel.schema import Plan
from reel.store import ArtifactStore
from tasks.plan import parse_plan

REVIEW_FILE = "review.json"


class StoryboardReview(RunInput):
    """The form the Prefect UI shows when the reel pauses at its storyboard."""

    action: Literal["approve", "edit", "reroll", "cancel"] = Field(
        "approve", description="approve: render the shots; edit: change one shot's prompt or narration; "
                               "reroll: paint one shot's keyframe again; cancel: stop the reel")
    # Plain types with defaults (not Optional): the UI then draws one plain field for each.
    shot: int = Field(0, ge=0, description="the shot to edit or re-roll (0 is the first)")
    prompt: str = Field("", description="edit: the shot's new prompt (5-220 words); leave empty to keep it")
    narration: str = Field("", description="edit: the shot's new narration line; leave empty to keep it")


def saved(store: ArtifactStore) -> dict[str, Any]:
    """The decisions made so far: {"edits": {shot: {"prompt"|"narration": text}}, "rerolls": {shot: n}}."""
    return store.read_json(REVIEW_FILE) if store.exists(REVIEW_FILE) else {"edits": {}, "rerolls": {}}


def apply(plan: Plan, decisions: dict[str, Any]) -> Plan:
    """The plan with the reviewer's edits; a bad edit is a UserError naming the field."""
    data = plan.model_dump(mode="json")
    for shot, edit in decisions["edits"].items():
        if "prompt" in edit:
            data["shots"][int(shot)]["prompt"] = edit["prompt"]
        if "narration" in edit:
            data["vo_script_per_shot"][int(shot)] = edit["narration"]
    return parse_plan(data, source="the review's edit")


def rerolls(decisions: dict[str, Any], shot: int) -> int:
    """How many times the reviewer re-rolled this shot's keyframe (its seed: reel.seeds)."""
    return decisions["rerolls"].get(str(shot), 0)


def decide(plan: Plan, decisions: dict[str, Any], answer: StoryboardReview) -> tuple[dict[str, Any], str]:
    """The decisions with one more answer folded in, and what it did in words."""
    if not 0 <= answer.shot < len(plan.shots):
        raise UserError(f"{answer.action} needs a shot number from 0 to {len(plan.shots) - 1}")
    key = str(answer.shot)
    new = {"edits": {k: dict(v) for k, v in decisions["edits"].items()}, "rerolls": dict(decisions["rerolls"])}
    if answer.action == "reroll":
        new["rerolls"][key] = new["rerolls"].get(key, 0) + 1
        return new, f"shot {answer.shot}: keyframe re-rolled"
    changes = {k: " ".join(v.split()) for k, v in (("prompt", answer.prompt), ("narration", answer.narration))
               if v and v.strip()}
    if not changes:
        raise UserError("edit needs a new prompt or narration for the shot")
    new["edits"].setdefault(key, {}).update(changes)
    return new, f"shot {answer.shot}: {' and '.join(changes)} edited"


def describe(plan: Plan, storyboard_url: str | None, note: str) -> str:
    """The markdown above the form: the storyboard and each shot's prompt and narration."""
    rows = "".join(f"- **shot {s.index}**: {s.camera_sentence} *{plan.vo_script_per_shot[s.index]}*\n"
                   for s in plan.shots)
    image = f"![storyboard]({storyboard_url})\n\n" if storyboard_url else ""
    return (f"## Review the storyboard\n\n{note + chr(10) + chr(10) if note else ''}{image}" + rows +
            "\nApprove to render the shots, or edit / re-roll one shot (the storyboard is painted again "
            "and you are asked again), or cancel.\n")


def review_storyboard(store: ArtifactStore, planned: Plan, decisions: dict[str, Any],
                      repaint: Callable[[Plan, dict[str, Any]], str | None], storyboard_url: str | None,
                      timeout: int, poll_interval: int = 5) -> Plan | None:
    """Pause until the reviewer approves (the plan to render) or cancels (None)."""
    plan, note = apply(planned, decisions), ""
    while True:
        progress.say("waiting for the storyboard review (resume the flow run in the Prefect UI)")
        form = StoryboardReview.with_initial_data(description=describe(plan, storyboard_url, note), action="approve")
        answer = pause_flow_run(wait_for_input=form, timeout=timeout, poll_interval=poll_interval)
        progress.say(f"review: {answer.action}" + (f" shot {answer.shot}" if answer.action in ("edit", "reroll") else ""))
        if answer.action == "approve":
            return plan
        if answer.action == "cancel":
            return None
        try:
            changed, note = decide(plan, decisions, answer)
            plan = apply(planned, changed)
        except UserError as exc:
            note = f"**Not applied:** {exc}"
            continue
        decisions = changed
        store.write_json(REVIEW_FILE, decisions)
        storyboard_url = repaint(plan, decisions) or storyboard_url
        note = f"**Done:** {note}."
