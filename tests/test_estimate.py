"""`reel estimate`: figures from the seed's measured run times, scaled by what the preset asks."""

from __future__ import annotations

import json

import pytest

from reel.errors import UserError
from reel.estimate import actual, estimate, markdown
from reel.presets import get_preset, with_length
from tests.helpers import reel_cli


def test_default_preset_on_the_seed_card():
    e = estimate(get_preset("default"), 6)
    video = e["stages"]["video"]
    assert video["calls"] == [6, 18] and video["loads"] == [1, 3]  # up to 3 attempts a shot
    # 6 clips of the seed's 210 s (81 frames, 832x480, 25 steps on average) plus one 120 s load.
    assert video["gpu_minutes"][0] == pytest.approx((6 * 210 * (30 + 5 * 24) / 6 / 25 + 120) / 60, abs=0.1)
    assert e["gpu_minutes"][0] < e["gpu_minutes"][1]
    assert e["money_usd"] == [round(m / 60 * 2.5, 2) for m in e["gpu_minutes"]]
    assert "estimate" in markdown(e) and "assumed" in markdown(e)


def test_longer_clips_slower_cards_and_prices_move_the_figures():
    base = estimate(get_preset("draft"), 6)
    longer = estimate(with_length(get_preset("draft"), 6, shot_seconds=10.0), 6)  # 161 frames vs 81
    video = lambda e: e["stages"]["video"]["gpu_minutes"][0] - 120 / 60  # noqa: E731 - minus the load
    assert video(longer) == pytest.approx(video(base) * 161 / 81, rel=0.02)
    assert estimate(get_preset("draft"), 6, "a100")["gpu_minutes"][0] > base["gpu_minutes"][0] * 2
    assert estimate(get_preset("draft"), 6, price=10.0)["money_usd"][0] == round(base["gpu_minutes"][0] / 6, 2)
    preview = estimate(get_preset("preview"), 6)
    assert not preview["gpu"] and preview["gpu_minutes"] == [0, 0] and "CPU preview" in markdown(preview)
    with pytest.raises(UserError, match="unknown card 'tpu'"):
        estimate(get_preset("draft"), 6, "tpu")


def test_actual_sums_the_slot_time_of_stages_that_ran():
    entry = lambda stage, cached, window: {"stage": stage, "cached": cached, "seconds": 99.0,  # noqa: E731
                                           "record": {"meta": {"gpu_window": window}}}
    spent = actual([entry("render", False, [10.0, 70.0]), entry("render", True, [0.0, 600.0]),
                    entry("critique", False, [70.0, 100.0]), entry("mix", False, None)], 0.0, 180.0)
    assert spent["stages"]["video"]["gpu_minutes"] == 1.0 and spent["stages"]["critic"]["gpu_minutes"] == 0.5
    assert spent["gpu_minutes"] == 1.5 and spent["wall_minutes"] == 3.0


def test_estimate_command_prints_json_and_rejects_bad_input():
    proc = reel_cli("estimate", "a violinist in a subway", "--preset", "fast", "--shots", "4", "--card", "h100",
                    "--price", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["shots"] == 4 and figures["card"] == "h100" and figures["price_per_gpu_hour"] == 3.0
    assert figures["stages"]["video"]["calls"] == [4, 8]
    bad = reel_cli("estimate", "x", "--shots", "20")
    assert bad.returncode == 2 and "1-12 shots" in bad.stderr


def test_turbo_is_estimated_next_to_default_from_the_same_tables():
    turbo, default = estimate(get_preset("turbo"), 6), estimate(get_preset("default"), 6)
    video = turbo["stages"]["video"]
    # best: six distilled clips (4 steps, one forward each, against the seed's 25 steps of two) plus
    # the load and one switch of the LoRAs; worst: two full-step retries of every shot, LoRAs off.
    assert video["gpu_minutes"][0] == pytest.approx((6 * 210 * 4 / 50 + 120 + 15) / 60, abs=0.1)
    assert video["gpu_minutes"][1] == pytest.approx((6 * 210 * 4 / 50 + 2 * 6 * 210 * 25 / 25 + 3 * 120 + 2 * 15) / 60,
                                                    abs=0.1)
    assert video["weight_switches"] == [1, 2] and "weight_switches" not in default["stages"]["video"]
    assert turbo["compared_with"] == {k: default[k] for k in ("preset", "gpu_minutes", "money_usd", "model_loads")}
    assert turbo["gpu_minutes"][0] < default["gpu_minutes"][0] / 2
    proc = reel_cli("estimate", "a violinist in a subway", "--preset", "turbo")
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("- without turbo")][0]
    assert f"(default): {default['gpu_minutes'][0]:g}-{default['gpu_minutes'][1]:g} GPU-minutes" in line
    assert "these are estimates" in proc.stdout and "switching the distilled LoRAs on or off is assumed" in proc.stdout
    # hero shots at full steps: one clip fewer distilled, so dearer than turbo, cheaper than default
    heroes = estimate(get_preset("turbo+turbo_heroes=false"), 6)["gpu_minutes"][0]
    assert turbo["gpu_minutes"][0] < heroes < default["gpu_minutes"][0]
