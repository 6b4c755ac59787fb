"""Stage 1: the plan. A director writes it from the prompt, or a user hands one in (edited)."""

from __future__ import annotations

from models import base
from runtime import host
from reel import progress
from reel.records import ReelRef, StageOutput, StageRecord
from reel.schema import Plan
from reel.settings import get_settings
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore
from tasks.plan_input import check_prompt, direct, parse_plan


class PlanOutput(StageOutput):
    plan: Plan
    prompt: str | None
    seed: int


def make_plan(store: ArtifactStore, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int,
              director: str) -> StageRecord:
    record = timed("plan")
    if plan_data is not None:
        plan = parse_plan(plan_data)
        record.backend, record.model_id = "user", "edited plan"
    else:
        with host.use("director", director) as (d, held):
            plan, d, warning = direct(d, check_prompt(prompt or ""), n_shots, seed, store,
                                      get_settings().director_fallback)
        record.backend, record.model_id = d.name, d.model_id
        record.meta["gpu_window"] = held.window
        if warning:
            record.meta["warning"] = warning
            progress.say(f"warning: {warning}")
    record.artifacts["main"] = store.write_json("plan.json", plan.model_dump(mode="json"))
    record.meta |= PlanOutput(plan=plan, prompt=prompt, seed=seed).meta()
    return record.finish()


def _key(ref: ReelRef, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int, director: str):
    if plan_data is not None:
        return {"plan": plan_data}
    fallback = get_settings().director_fallback  # a fallback plan is cached apart from the director's own
    return {"prompt": prompt, "n_shots": n_shots, "seed": seed, "director": base.identity("director", director)} | (
        {"fallback": base.identity("director", fallback)} if fallback else {})


@stage("plan", version="1", key_parts=_key, role="director",
       task_run_name="plan", **infra_retries())
def plan_stage(ref: ReelRef, prompt: str | None, plan_data: dict | None, n_shots: int, seed: int,
               director: str) -> StageRecord:
    return make_plan(ref.store(), prompt, plan_data, n_shots, seed, director)
