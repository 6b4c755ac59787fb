"""What a reel will cost before any model runs: model loads, GPU-minutes per stage, wall time, disk
and money on a chosen card, from StudioMI300's measured run times (configs/costs.json); after a run,
the same figures measured, for the manifest to show side by side. Every figure here is an estimate."""

from __future__ import annotations

from typing import Any

from reel import prompts
from reel.errors import UserError
from reel.presets import Preset

TABLE = "costs.json"
ROLES = ("director", "image", "video", "critic", "music", "voice")
# Which role's model each stage runs (the mix is ffmpeg on the CPU).
STAGE_ROLE = {"plan": "director", "shorten": "director", "master": "image", "keyframe": "image", "render": "video",
              "critique": "critic", "music": "music", "voice": "voice"}


def card_for(card: str) -> dict:
    cards = prompts.table(TABLE)["cards"]
    if card not in cards:
        raise UserError(f"unknown card {card!r}; choose one of: {', '.join(cards)}")
    return cards[card]


def _calls(preset: Preset, n_shots: int, subjects: int | None, planned: bool) -> dict[str, tuple[float, float]]:
    """Model calls per role: (every shot passes first time, every shot uses all its attempts)."""
    masters = subjects if subjects is not None else prompts.table(TABLE)["masters_assumed"]
    return {"director": (0 if planned else 1, 0 if planned else 1), "image": (masters + n_shots, masters + n_shots),
            "video": (n_shots, n_shots * preset.attempts), "critic": (n_shots, n_shots * preset.attempts),
            "music": (1, 1), "voice": (n_shots, n_shots)}


def _run_seconds(role: str, preset: Preset, n_shots: int) -> float:
    """Seconds of one call on the reference card, scaled from the measured conditions."""
    t, ref = prompts.table(TABLE)["roles"][role], prompts.table(TABLE)["reference"]
    if role == "video":
        steps = (preset.hero_steps + (n_shots - 1) * preset.broll_steps) / n_shots
        w, h = preset.render_size
        return t["run_s"] * preset.frames / ref["video_frames"] * w * h / ref["video_pixels"] * steps / ref["video_steps"]
    if role == "image":
        w, h = preset.master_size
        return t["run_s"] * w * h / ref["image_pixels"] * preset.image_steps / ref["image_steps"]
    if role == "music":
        return t["run_s"] * n_shots * preset.shot_seconds / ref["music_seconds"]
    return t["run_s"]


def estimate(preset: Preset, n_shots: int, card: str = "mi300x", price: float | None = None,
             subjects: int | None = None, planned: bool = False, gpu: bool | None = None) -> dict[str, Any]:
    """Best and worst case (all shots pass first time / all use every attempt) on one card of `card`;
    gpu: whether the GPU models run (default: the preset's family)."""
    table, spec = prompts.table(TABLE), card_for(card)
    price = spec["price_per_hour"] if price is None else price
    if price < 0:
        raise UserError(f"--price is {price}; give the card's cost in $ per GPU-hour (0 or more)")
    gpu = preset.backends == "gpu" if gpu is None else gpu
    stages: dict[str, Any] = {}
    calls = _calls(preset, n_shots, subjects, planned)
    for role in ROLES:
        best, worst = calls[role]
        loads = (0 if best == 0 else 1, 0 if worst == 0 else 1 + (preset.attempts - 1 if role in ("video", "critic") else 0))
        run = _run_seconds(role, preset, n_shots) / spec["speed"] if gpu else 0.0
        load = table["roles"][role]["load_s"] / spec["speed"] if gpu else 0.0
        stages[role] = {"calls": [best, worst], "loads": list(loads),
                        "gpu_minutes": [round((best * run + loads[0] * load) / 60, 1),
                                        round((worst * run + loads[1] * load) / 60, 1)]}
    minutes = [round(sum(s["gpu_minutes"][k] for s in stages.values()), 1) for k in (0, 1)]
    weights = sum(table["roles"][r]["weights_gb"] for r in ROLES if gpu and calls[r][1])
    return {"label": "estimate", "preset": preset.name, "shots": n_shots, "shot_seconds": round(preset.shot_seconds, 2),
            "attempts": preset.attempts, "card": card, "price_per_gpu_hour": price, "gpu": gpu, "stages": stages,
            "model_loads": [sum(s["loads"][k] for s in stages.values()) if gpu else 0 for k in (0, 1)],
            "gpu_minutes": minutes, "wall_minutes": minutes,
            "money_usd": [round(m / 60 * price, 2) for m in minutes],
            "disk_gb": {"weights": round(weights, 1),
                        "outputs": round(n_shots * preset.attempts * table["output_gb_per_shot_attempt"], 2)},
            "basis": "run times measured by StudioMI300 on one MI300X, scaled by frames, pixels and steps; "
                     "load times, weight sizes, card speeds and prices assumed (configs/costs.json)"}


def actual(ledger: list[dict[str, Any]], started: float, ended: float) -> dict[str, Any]:
    """What the run spent, per role: minutes the GPU slot was held by stages that ran (not cached)."""
    held = {role: 0.0 for role in ROLES}
    for e in ledger:
        meta = e["record"]["meta"]
        role, window = STAGE_ROLE.get(e["stage"]), meta.get("gpu_window")
        if "gpu_window" in meta and window is None:
            continue  # a CPU backend's call: it held no GPU
        if role and not e["cached"]:
            held[role] += (window[1] - window[0]) if window and window[1] else e["seconds"]
    return {"label": "measured", "stages": {r: {"gpu_minutes": round(s / 60, 2)} for r, s in held.items()},
            "gpu_minutes": round(sum(held.values()) / 60, 2), "wall_minutes": round((ended - started) / 60, 2)}


def markdown(e: dict[str, Any]) -> str:
    """The estimate as a table people read before spending (CLI and the run's first artifact)."""
    rng = lambda pair, fmt="{:g}": fmt.format(pair[0]) if pair[0] == pair[1] else f"{fmt.format(pair[0])}-{fmt.format(pair[1])}"  # noqa: E731
    head = (f"### Estimate: {e['shots']} shots of {e['shot_seconds']} s, preset {e['preset']}, one {e['card']}\n\n")
    if not e["gpu"]:
        return head + "CPU preview: no GPU time, nothing to pay for per GPU-hour.\n"
    rows = "".join(f"| {role} | {rng(s['calls'])} | {rng(s['loads'])} | {rng(s['gpu_minutes'])} |\n"
                   for role, s in e["stages"].items())
    return (head + "| stage | model calls | model loads | GPU-minutes |\n|---|---|---|---|\n" + rows
            + f"| **total** | | {rng(e['model_loads'])} | {rng(e['gpu_minutes'])} |\n\n"
            + f"- wall time: about {rng(e['wall_minutes'])} min on one card (from every shot passing first time "
              f"to every shot using all {e['attempts']} attempts)\n"
            + f"- money: ${rng(e['money_usd'], '{:.2f}')} at ${e['price_per_gpu_hour']:g}/GPU-hour\n"
            + f"- disk: {e['disk_gb']['weights']:g} GB of weights, about {e['disk_gb']['outputs']:g} GB of outputs\n"
            + f"- these are estimates: {e['basis']}\n")
