"""A stopped run (Ctrl-C, SIGTERM): mark it in Prefect, give the gpu slot back, say how to resume.

The CLI's work runs in a child process (see app/supervise.py); a signal reaches it as a
KeyboardInterrupt in its main thread. Shot subflows and submitted tasks run on other threads
that an interrupt cannot reach, so their runs are marked Crashed here and the process leaves
with os._exit instead of waiting for them.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from flows import start_gate
from reel import run_state

CLEANUP_S = 2.5
NOTHING_MADE = "nothing was made; run the same command again"


def kept_and_resume(reel_id: str, root: str) -> str:
    """The end of every stop line once the reel has started: what is kept and the exact command."""
    return f"finished stages of reel {reel_id} are kept; resume with: reel resume {reel_id} --out {root}"


OPEN = ["RUNNING", "PENDING", "SCHEDULED", "PAUSED", "CANCELLING"]


def raise_interrupt_on_signals() -> None:
    """SIGINT and SIGTERM stop the work at once: the handler cleans up and leaves the process
    itself (os._exit), without unwinding through Prefect's engine, which would first wait on
    the API. (SIGINT is set too: a background job starts with it ignored.)"""
    def handler(signum, frame):
        on_interrupt(KeyboardInterrupt(signal.Signals(signum).name))
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# A task run exists on the server only once the server has recorded its events (Prefect 3 creates
# task runs client-side): one that started a moment before the signal may not be readable yet at
# the first pass, and would then stay Running for ever. Later passes look again.
RECHECK_S = (0.5, 1.2)
# A shot's subflow whose creation began before the signal (flows/start_gate.py) is made after the
# first passes; once it reaches its body (or by this second) a last pass marks it and its tracking
# task run, which the subflow's own first states would otherwise have reopened.
SETTLE_BY_S = 1.8  # and the last pass ends inside CLEANUP_S


def crash_open_runs(flow_run_id: str) -> list[str]:
    """Mark the reel's flow run, its shot subflows and their task runs Crashed; returns the names
    of the task runs that were running. The state changes go out at once: the CLI has seconds."""
    import asyncio
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId,
                                                TaskRunFilter, TaskRunFilterFlowRunId, TaskRunFilterState,
                                                TaskRunFilterStateType)
    from prefect.states import Crashed

    message = "stopped by the user (signal); finished stages are kept"
    started = time.monotonic()

    async def crash_pass(client, running: dict[str, str]) -> None:
        ids, frontier, wrappers = [flow_run_id], [flow_run_id], set()
        while frontier:  # shot subflows (and their children): runs whose parent is in the tree
            children = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier)))
            wrappers |= {r.parent_task_run_id for r in children}
            frontier = [str(r.id) for r in children if str(r.id) not in ids]
            ids += frontier
        open_tasks, flow_runs = await asyncio.gather(
            client.read_task_runs(task_run_filter=TaskRunFilter(
                flow_run_id=TaskRunFilterFlowRunId(any_=ids),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=OPEN)))),
            client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids))))
        await asyncio.gather(
            *(client.set_task_run_state(t.id, Crashed(message=message), force=True) for t in open_tasks),
            *(client.set_flow_run_state(r.id, Crashed(message=message), force=True)
              for r in flow_runs if r.state is None or not r.state.is_final()))
        running.update({str(t.id): t.name.replace("-", " ") for t in open_tasks
                        if t.state_type and t.state_type.value == "RUNNING" and t.id not in wrappers})

    async def crash() -> list[str]:
        running: dict[str, str] = {}
        async with get_client() as client:
            await crash_pass(client, running)
            result.append(sorted(set(running.values())))  # the line can be said from here on
            for at in RECHECK_S:
                await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
                await crash_pass(client, running)
            await asyncio.to_thread(start_gate.settled, SETTLE_BY_S - (time.monotonic() - started))
            await crash_pass(client, running)
        return sorted(set(running.values()))

    # On a thread of its own: the signal may arrive while this thread is inside an event loop,
    # and the CLI has seconds, not minutes, so the cleanup is bounded.
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(crash())), daemon=True)
    worker.start()
    worker.join(CLEANUP_S)
    if not result:
        raise TimeoutError(f"the Prefect API did not answer within {CLEANUP_S:.0f}s")
    return result[-1]


def _kill_descendants() -> None:
    """ffmpeg, the ephemeral API server and the vLLM worker (which runs in a session of its own,
    out of the reach of the CLI's group kill): every process below this one."""
    import psutil

    procs = psutil.Process().children(recursive=True)
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=1)


def on_interrupt(exc: BaseException) -> None:
    """Clean up after a stop and leave at once (threads still rendering are not waited for)."""
    from reel.settings import get_settings

    # Prefect's background services complain on stderr while the run is torn down: one line is the rule.
    logging.disable(logging.CRITICAL)
    signame = str(exc) if str(exc).startswith("SIG") else "SIGINT"
    run_state.stop_starting()  # the shots' threads go on until the exit: no new stage may start meanwhile
    cur = run_state.current()
    running: list[str] = []
    from runtime import slot_holders

    # The gpu lease goes back while the runs are marked: both talk to the API, the clock is short.
    releasing = threading.Thread(target=slot_holders.release_mine, args=(get_settings().gpu_slot_name,), daemon=True)
    releasing.start()
    try:
        if cur is not None and cur.flow_run_id:
            running = crash_open_runs(cur.flow_run_id)
        releasing.join(CLEANUP_S)
    except Exception as err:  # noqa: BLE001 - the API may be gone already; the line still matters
        running = running or [f"(could not read the run: {type(err).__name__})"]
    if cur is None:
        line = f"reel: stopped ({signame}) before the reel started; {NOTHING_MADE}"
    else:
        what = ", ".join(running) if running else "between stages"
        line = f"reel: stopped ({signame}) while running {what}; {kept_and_resume(cur.reel_id, cur.root)}"
    _kill_descendants()
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)
    os._exit(128 + (signal.SIGTERM if signame == "SIGTERM" else signal.SIGINT))
