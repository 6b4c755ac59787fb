"""Prefect settings this project needs before Prefect is imported: offline and patient."""

from __future__ import annotations

import os

DEFAULTS = {
    # No analytics calls from an offline machine.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The ephemeral API needs longer than the default 20 s to start on a fresh home with 2 cores.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def setdefaults(values: dict[str, str]) -> None:
    """Put `values` in the environment, keeping any the operator already set."""
    for key, value in values.items():
        os.environ.setdefault(key, value)


def configure() -> None:
    setdefaults(DEFAULTS)
