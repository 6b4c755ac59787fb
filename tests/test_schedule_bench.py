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


def test_in_process_batch_loads_each_model_about_once_for_all_its_reels():
    """Three reels as subflows of one batch run share the model host: the loads of one reel
    (director, image, music, voice once; video and critic once per round), not three reels' worth;
    a bad prompt fails its own reel only."""
    from benchmarks.batch import PROMPTS, run_batch

    r = run_batch([*PROMPTS[:3], "   "], shots=2, rounds=1)
    print(r)
    assert r["reels"] == 3 and r["state"] == "Completed" and "3/4 reels made" in r["message"], r
    assert r["loads"] <= 8 and r["per_role"]["video"] == 2 and r["per_role"]["critic"] == 2, r
    assert r["max_resident"] == 1, r


def test_turbo_renders_every_distilled_first_attempt_on_one_load_and_costs_less_than_default():
    """Half the first attempts fail: turbo renders every first attempt with the LoRAs on, critiques
    them, then renders the failures at full steps; default renders everything at full steps."""
    turbo = run_once(0, "affinity", shots=4, preset="bench+turbo", pass_rate=0.5)
    default = run_once(0, "affinity", shots=4, preset="bench", pass_rate=0.5)
    print(turbo, default)
    assert turbo["per_role"]["video"] == default["per_role"]["video"] == 2  # first attempts, then the retries
    assert turbo["per_role"]["critic"] == 2 and turbo["max_resident"] == 1
    # LoRAs on with the first load; off once more only if a retry comes while they are still on (a
    # clip the CPU tier-1 critic failed before the vision critic was loaded)
    assert turbo["switches"] in (1, 2) and default["switches"] == 0
    # The retries are the same full renders in both; the first attempts differ: 4 distilled renders of
    # 4 forwards against a 30-step hero and three 24-step b-roll shots with CFG (the seed's 210 s is 50 forwards).
    saved = (2 * 30 + 3 * 2 * 24 - 4 * 4) * 210 / 50 - 15 * turbo["switches"]
    assert default["gpu_minutes"] - turbo["gpu_minutes"] == pytest.approx(saved / 60, abs=0.05)
