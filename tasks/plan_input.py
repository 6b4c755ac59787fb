"""What the plan stage checks and asks of a director, without Prefect: `reel plan` and a request's
validation import this, so a plan printed on the command line does not pay Prefect's import
(tasks/plan.py wraps the same functions in the stage)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from models import base
from reel.errors import DirectorError, UserError
from reel.ids import control_char_problem, prompt_words
from reel.schema import MAX_SHOTS, Plan
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
