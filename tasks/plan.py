"""Stage 1: the plan. A director writes it from the prompt, or a user hands one in (edited)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from models import base
from runtime import host
from reel import progress
from reel.errors import DirectorError, UserError
from reel.ids import control_char_problem, prompt_words
from reel.records import ReelRef, StageOutput, StageRecord
from reel.schema import MAX_SHOTS, Plan
from reel.settings import get_settings
from reel.stage import infra_retries, stage, timed
from reel.store import ArtifactStore

MAX_PROMPT_CHARS = 2000


class PlanOutput(StageOutput):
    plan: Plan
    prompt: str | None
    seed: int


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


def direct(director: Any, prompt: str, n_shots: int, seed: int, store: ArtifactStore,
           fallback: str = "") -> tuple[Plan, Any, str | None]:
    """(plan, the director that wrote it, a warning). When the director writes no valid plan its raw
    replies are saved in the reel's folder (director/reply-N.txt); then the `fallback` director plans
    and the warning says so, or the error names the failing rule and the saved replies."""
    try:
        return director.plan(prompt, n_shots=n_shots, seed=seed), director, None
    except DirectorError as exc:
        saved = [store.url(store.write_bytes(f"director/reply-{i}.txt", reply.encode()).path)
                 for i, reply in enumerate(exc.replies, 1)]
        replies = f"its raw replies are in {', '.join(saved)}" if saved else "it sent no reply"
        if not fallback:
            raise DirectorError(f"{exc}; {replies}; a larger model writes valid plans more often, or add "
                                "--director-fallback heuristic (REEL_DIRECTOR_FALLBACK=heuristic) to continue on the "
                                "offline director's plan", exc.rule, exc.replies) from None
        backup = base.create("director", fallback)
        warning = (f"the {director.name} director ({director.model_id}) wrote no valid plan ({exc.rule}; {replies}); "
                   f"this reel uses the {backup.name} director's plan (--director-fallback {fallback})")
        return backup.plan(prompt, n_shots=n_shots, seed=seed), backup, warning


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
