"""Lost machines: a run whose process dies without a word is marked Crashed.

A worker that is killed with its flow run's process (a machine that is gone) reports nothing, so
the run would stay Running forever and `prefect flow-run retry` would refuse it. Every process
that runs reel's flows sends Prefect's flow-run heartbeat every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
seconds (reel/env.py: the CLI sets it before Prefect loads, prefect.yaml's job variables for
worker runs); this automation (Prefect's zombie-flow recipe, docs: /v3/advanced/detect-zombie-flows)
marks a run of the reel, shot or batch flow Crashed once it has sent no heartbeat and no state
change for SILENT_BEATS heartbeats. `make deploy` creates or updates it:

    python -m app.lost_runs
"""

from __future__ import annotations

from datetime import timedelta

NAME = "reel: crash runs whose process is gone"
FLOWS = ["reel", "shot", "batch"]  # the flows of prefect.yaml
SILENT_BEATS = 4  # a busy 2-core machine may delay one heartbeat or two; four missed is a lost run


def heartbeat_s() -> int:
    from reel.env import heartbeat_setting

    return int(heartbeat_setting())


def automation():
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    silent = SILENT_BEATS * heartbeat_s()
    return Automation(
        name=NAME,
        description=f"A reel, shot or batch run with no heartbeat or state change for {silent} s is Crashed "
                    "(its process is gone); retry it as deployments/RUNBOOK.md says.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.*"},  # another heartbeat, or any state change (a final one ends it)
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification({"prefect.resource.role": "flow", "prefect.resource.name": FLOWS}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silent),
        ),
        actions=[ChangeFlowRunState(
            state=StateType.CRASHED,
            message=f"no heartbeat for {silent} s: the process running this flow run is gone (killed, or its "
                    "machine lost); retry it, finished stages come from the cache")],
    )


def ensure() -> str:
    """Create the automation, or bring an existing one of that name up to date; says which."""
    from prefect.automations import Automation

    wanted = automation()
    try:
        found = Automation.read(name=NAME)
    except ValueError:
        wanted.create()
        return f"automation {NAME!r}: created (Crashed after {wanted.trigger.within.total_seconds():.0f} s silent)"
    wanted.id = found.id
    wanted.update()
    return f"automation {NAME!r}: updated (Crashed after {wanted.trigger.within.total_seconds():.0f} s silent)"


if __name__ == "__main__":
    print(ensure())
