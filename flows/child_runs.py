"""Child flow runs of a deployment: start them linked to the calling run, wait for them all.

Used by the batch flow (one reel per prompt) and by the reel flow's shot fan-out."""

from __future__ import annotations

import time
from typing import Any, Callable

from prefect.client.schemas.objects import FlowRun


def start_runs(deployment: str, parameter_sets: list[dict[str, Any]],
               job_variables: dict[str, Any] | None = None) -> list[FlowRun]:
    """One run of `deployment` per parameter set, scheduled now, linked to the calling flow run as
    child runs; returns at once (the runs wait for a worker)."""
    from prefect.deployments import run_deployment

    return [run_deployment(deployment, parameters=params, job_variables=job_variables, timeout=0, as_subflow=True)
            for params in parameter_sets]


def wait_for_runs(runs: list[FlowRun], on_final: Callable[[int, FlowRun], None] | None = None,
                  timeout: float | None = None, poll: float = 2.0) -> list[FlowRun]:
    """Poll until every run is in a final state; `on_final(position, run)` is called as each one
    finishes, in finishing order. Returns the finished runs in the order given."""
    from prefect.client.orchestration import get_client

    finished: list[FlowRun] = list(runs)
    pending = {run.id: i for i, run in enumerate(runs)}
    deadline = None if timeout is None else time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while pending:
            for run_id, i in list(pending.items()):
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_final():
                    finished[i] = run
                    del pending[run_id]
                    if on_final is not None:
                        on_final(i, run)
            if pending:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"{len(pending)} child runs still not finished after {timeout:.0f}s")
                time.sleep(poll)
    return finished
