"""Prefect settings this project needs before Prefect is imported: offline and patient."""

from __future__ import annotations

import os

DEFAULTS = {
    # No analytics calls from an offline machine.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The ephemeral API needs longer than the default 20 s to start on a fresh home with 2 cores.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Concurrency leases on disk (PREFECT_HOME), not in the API process's memory: a lease left by
    # a killed run must still be known to the next ephemeral API so it can be released.
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
    # A SQLite API (the ephemeral one, or `prefect server` without PostgreSQL) has one writer at a
    # time; a query waits this long for the lock before the client gets a 503. Ten seconds (Prefect's
    # default) ran out for a batch of ten reels in one process on a busy 2-core box.
    "PREFECT_SERVER_DATABASE_TIMEOUT": "30",
    # A flow run's heartbeat every 30 s (Prefect's default is 180 s): a run whose process is gone
    # is marked Crashed after a few silent beats by the automation `make deploy` creates (app/lost_runs.py).
    # A worker's runs load Prefect before reel: prefect.yaml's job variables set it for them.
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
}


def heartbeat_setting() -> str:
    """This process's flow-run heartbeat (seconds), as its child runs must send it too."""
    return os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY") or DEFAULTS["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"]


def setdefaults(values: dict[str, str]) -> None:
    """Put `values` in the environment, keeping any the operator already set."""
    for key, value in values.items():
        os.environ.setdefault(key, value)


def configure() -> None:
    import warnings

    # An unwritable PREFECT_HOME is reported by the CLI's own check (reel/writable.py) as one line.
    warnings.filterwarnings("ignore", message="Failed to create the Prefect home")
    setdefaults(DEFAULTS)
