"""The model host's schedule, measured by the benchmark's own code on the real flow."""

from __future__ import annotations

import pytest

from benchmarks.schedule import run_once

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_affinity_schedule_loads_each_model_once_per_round():
    ours = run_once(rounds=1, schedule="affinity", shots=6)
    print(ours)
    assert ours["loads"] <= 8, ours
    assert ours["per_role"]["video"] == 2 and ours["per_role"]["critic"] == 2
    assert ours["max_resident"] == 1  # never two heavy models at once (none declared to fit together)


def test_seed_schedule_reloads_around_every_call_and_costs_more():
    seed = run_once(rounds=1, schedule="sequential", shots=2)
    ours = run_once(rounds=1, schedule="affinity", shots=2)
    print(seed, ours)
    assert seed["per_role"]["video"] == 4 and seed["per_role"]["critic"] == 4
    assert ours["gpu_minutes"] < seed["gpu_minutes"] and ours["loads"] < seed["loads"]
