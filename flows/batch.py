"""The `batch` flow: a list of prompts, one reel each, for schedules.

Every prompt becomes its own child run of the `reel/<preset>` deployment (run_deployment,
linked to this run as a subflow), so each reel runs on whichever worker takes it, keeps its own
state, logs and retry button, and one bad prompt cannot sink the others.

With `in_process` the reels run instead as subflows of the batch run itself, all at once in
threads of this one process: they share its model host, so on a GPU each model is loaded about
once for the whole batch (the host batches every reel's work per model) instead of once per reel.
Every model call still holds the `gpu` slot, and each reel keeps its own id, cache and resume.

Outcome: the batch waits for every child, then publishes a summary table (`batch-summary`). It
finishes Completed when at least one reel was made (its message names the failures) and Failed
only when every reel failed. A failed child is resumed on its own: retry that flow run, or run
`reel/<preset>` again with the same parameters; finished stages come from the cache.
"""

from __future__ import annotations

import contextvars
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed

from flows.child_runs import start_runs, wait_for_runs
from flows.start_gate import one_at_a_time
from runtime import host
from reel.records import ReelRef
from reel.stage import role_of

DEFAULT_PROMPTS = "deployments/batch_prompts.txt"


def read_prompts(source: str) -> list[str]:
    """Prompts from a file path (relative to the project), an http(s) URL or an fsspec URL
    (s3://...): one per line; blank lines and lines starting with # are skipped."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as r:
            text = r.read().decode("utf-8")
    elif "://" in source:
        import fsspec

        with fsspec.open(source, "rt", encoding="utf-8") as f:
            text = f.read()
    else:
        text = Path(source).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def summary_rows(prompts: list[str], runs: list[FlowRun], where: list[str]) -> list[dict[str, Any]]:
    return [{"#": i, "prompt": p if len(p) <= 90 else p[:87] + "...", "run": r.name,
             "state": r.state.name if r.state else "?",
             "reel": where[i] if r.state and r.state.is_completed() else (r.state.message or "")[:200]}
            for i, (p, r) in enumerate(zip(prompts, runs))]


def _ref(p: dict[str, Any]) -> ReelRef:
    """The reel one parameter set makes (as reel_flow names it)."""
    from flows.request import ReelRequest

    # Not validated here: a bad request fails its own reel's run, not the batch.
    return ReelRequest.model_construct(**p).ref()


def run_in_process(parameter_sets: list[dict[str, Any]], refs: list[ReelRef]) -> list[FlowRun]:
    """Each reel as a subflow of the calling run, all at once; their flow runs once finished.
    A reel that fails ends Failed on its own; the others go on."""
    from prefect.client.orchestration import get_client

    from reel.stage import result_storage

    # Each reel's results block is saved here, one after another, before the reels start at once:
    # ten concurrent block saves can outlast a busy SQLite server's retries (503).
    for ref in refs:
        result_storage(ref)
    with ThreadPoolExecutor(max_workers=len(parameter_sets), thread_name_prefix="reel") as pool:
        # Each thread runs in a copy of this flow's context, so the reels are its child runs.
        futures = [pool.submit(contextvars.copy_context().run, _reel, params, ref)
                   for params, ref in zip(parameter_sets, refs)]
        states = [f.result() for f in futures]
    with get_client(sync_client=True) as client:
        return [client.read_flow_run(state.state_details.flow_run_id) for state in states]


def _reel(params: dict[str, Any], ref: ReelRef):
    """One reel's thread: its first model request (the plan) is announced to the model host before
    its subflow starts, so the director is not swapped out while the other reels are starting."""
    from flows.reel_flow import reel_flow, reel_line

    from tasks.plan import plan_stage

    with host.line(reel_line(ref), first=role_of(plan_stage)), one_at_a_time():
        return reel_flow(**params, return_state=True)


@flow(name="batch", flow_run_name="batch-{preset}")
def batch(prompts: list[str] | None = None, prompts_file: str = DEFAULT_PROMPTS, preset: str = "preview",
          n_shots: int = 6, aspect: str = "16:9", seed: int = 0, root: str | None = None,
          timeout_s: float | None = None, in_process: bool = False):
    """Render a list of prompts, one child run of `reel/<preset>` per prompt.

    Args:
        prompts: the prompts; when empty, they are read from `prompts_file`.
        prompts_file: a file in the project (one prompt per line, # comments), an http(s) URL
            or an s3:// URL.
        preset: which `reel/<preset>` deployment renders them (default, draft, fast, cinematic, preview).
        n_shots: shots per reel.
        aspect: 16:9 or 9:16.
        seed: base seed of every reel.
        root: artifact root (a folder or s3://bucket/prefix); empty means each worker's REEL_ROOT.
        timeout_s: stop waiting for the children after this many seconds (they keep running).
        in_process: run the reels as subflows in this process, sharing one model host (one
            GPU machine: each model loaded about once per batch), instead of one deployment run each.
    """
    from prefect.artifacts import create_table_artifact

    todo = list(prompts) if prompts else read_prompts(prompts_file)
    if not todo:
        raise ValueError(f"no prompts given and none in {prompts_file}")
    params = [{"prompt": p, "preset": preset, "n_shots": n_shots, "aspect": aspect, "seed": seed, "root": root}
              for p in todo]
    refs = [_ref(p) for p in params]
    if in_process:
        runs = run_in_process(params, refs)
    else:
        runs = wait_for_runs(start_runs(f"reel/{preset}", params), timeout=timeout_s)
    where = [f"{ref.root}/{ref.reel_id}/reel.mp4" for ref in refs]
    rows = summary_rows(todo, runs, where)
    failed = [row for row in rows if row["state"] != "Completed"]
    create_table_artifact(table=rows, key="batch-summary",
                          description=f"Batch of {len(rows)} reels (preset {preset}): {len(rows) - len(failed)} made")
    if len(failed) == len(rows):
        raise RuntimeError(f"all {len(rows)} reels failed; first: {failed[0]['reel']}")
    note = "" if not failed else "; failed: " + ", ".join(f"#{r['#']} {r['run']} ({r['state']})" for r in failed)
    return Completed(message=f"{len(rows) - len(failed)}/{len(rows)} reels made{note}")
