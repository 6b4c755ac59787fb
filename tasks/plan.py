"""Stage 1: the plan. A director writes it from the prompt, or a user hands one in (edited)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from models import base
from models import host
from reel.errors import UserError
from reel.ids import control_char_problem, prompt_words
from reel.records import ReelRef, StageRecord
from reel.schema import MAX_SHOTS, Plan
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore

MAX_PROMPT_CHARS = 2000


def check_prompt(prompt: str) -> str:
    bad = control_char_problem(prompt or "", "the prompt")
    if bad:
        raise UserError(bad)
    prompt = prompt_words(prompt)
    if not prompt:
        raise UserError("the prompt is empty; describe the reel in one sentence, e.g. \"a violinist plays in a "
                        "Brooklyn subway station at midnight\"")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise UserError(f"the prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS} (one or two "
                        "sentences), or write the plan yourself and pass it with --plan")
    return prompt


def check_shots(n_shots: int) -> int:
    if not 1 <= n_shots <= MAX_SHOTS:
        raise UserError(f"--shots is {n_shots}; a reel has 1-{MAX_SHOTS} shots (6 is the designed arc)")
    return n_shots


def parse_plan(data: Any, source: str = "plan") -> Plan:
    """Validate plan data; a UserError lists each failing field by its path."""
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(plan)'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise UserError(f"{source} does not match the plan schema: {problems}") from None


def make_plan(store: ArtifactStore, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int,
              director: str) -> StageRecord:
    record = timed("plan")
    if plan_data is not None:
        plan = parse_plan(plan_data)
        record.backend, record.model_id = "user", "edited plan"
    else:
        with host.use("director", director) as (d, held):
            plan = d.plan(check_prompt(prompt or ""), n_shots=n_shots, seed=seed)
        record.backend, record.model_id = d.name, d.model_id
        record.meta["gpu_window"] = held.window
    record.artifacts["main"] = store.write_json("plan.json", plan.model_dump(mode="json"))
    record.meta |= {"plan": plan.model_dump(mode="json"), "prompt": prompt, "seed": seed}
    return record.finish()


def _key(ref: ReelRef, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int, director: str):
    if plan_data is not None:
        return {"plan": plan_data}
    return {"prompt": prompt, "n_shots": n_shots, "seed": seed, "director": base.identity("director", director)}


@stage("plan", version="1", key_parts=_key, task_run_name="plan", **infra_retries())
def plan_stage(ref: ReelRef, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int,
               director: str) -> StageRecord:
    return make_plan(ref.store(), prompt, plan_data, n_shots, seed, director)
