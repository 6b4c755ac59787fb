"""What a reel will cost before any model runs: model loads, GPU-minutes per stage, wall time, disk
and money on a chosen card, from the seed's measured run times (prompts/costs.json); after a run,
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


def render_seconds(frames: int, size: tuple[int, int], steps: float, cfg: bool = True) -> float:
    """Seconds of one Wan render on the reference card: the seed's measured clip scaled by frames,
    pixels and expert forwards (a step is two with CFG, one without: a distilled render)."""
    t, ref = prompts.table(TABLE)["roles"]["video"], prompts.table(TABLE)["reference"]
    forwards = steps * (2 if cfg else 1) / (ref["video_steps"] * 2)
    return t["run_s"] * frames / ref["video_frames"] * size[0] * size[1] / ref["video_pixels"] * forwards


def _video(preset: Preset, n_shots: int) -> tuple[float, float, int, int]:
    """(seconds if every shot passes first time, seconds if every shot uses all its attempts,
    weight switches in each case): first attempts distilled where the preset's turbo says so,
    every retry at full steps with CFG."""
    size, frames = preset.render_size, preset.frames
    hero_full = not preset.turbo or not preset.turbo_heroes
    full = [preset.hero_steps] + [preset.broll_steps] * (n_shots - 1)
    distilled = 0 if not preset.turbo else n_shots - (1 if hero_full else 0)
    first = sum(render_seconds(frames, size, s) for s in full[:n_shots - distilled])
    first += distilled * render_seconds(frames, size, preset.turbo_steps, cfg=False)
    retries = (preset.attempts - 1) * sum(render_seconds(frames, size, s) for s in full)
    switches = (1, 2 if preset.attempts > 1 else 1) if distilled else (0, 0)  # LoRAs on; off for the retries
    return first, first + retries, *switches


def _run_seconds(role: str, preset: Preset, n_shots: int) -> float:
    """Seconds of one call on the reference card, scaled from the measured conditions."""
    t, ref = prompts.table(TABLE)["roles"][role], prompts.table(TABLE)["reference"]
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
        load = table["roles"][role]["load_s"] / spec["speed"] if gpu else 0.0
        if role == "video":  # renders plus switches of weights (turbo: distilled LoRAs on, then off)
            first, every, *switches = _video(preset, n_shots)
            runs = [first + switches[0] * table["roles"]["video"]["switch_s"],
                    every + switches[1] * table["roles"]["video"]["switch_s"]]
        else:
            runs = [best * _run_seconds(role, preset, n_shots), worst * _run_seconds(role, preset, n_shots)]
        runs = [r / spec["speed"] if gpu else 0.0 for r in runs]
        stages[role] = {"calls": [best, worst], "loads": list(loads),
                        "gpu_minutes": [round((runs[0] + loads[0] * load) / 60, 1),
                                        round((runs[1] + loads[1] * load) / 60, 1)]}
        if role == "video" and preset.turbo:
            stages[role]["weight_switches"] = switches
    minutes = [round(sum(s["gpu_minutes"][k] for s in stages.values()), 1) for k in (0, 1)]
    weights = sum(table["roles"][r]["weights_gb"] for r in ROLES if gpu and calls[r][1])
    figures = {"label": "estimate", "preset": preset.spec, "shots": n_shots, "shot_seconds": round(preset.shot_seconds, 2),
            "attempts": preset.attempts, "card": card, "price_per_gpu_hour": price, "gpu": gpu, "stages": stages,
            "model_loads": [sum(s["loads"][k] for s in stages.values()) if gpu else 0 for k in (0, 1)],
            "gpu_minutes": minutes, "wall_minutes": minutes,
            "money_usd": [round(m / 60 * price, 2) for m in minutes],
            "disk_gb": {"weights": round(weights, 1),
                        "outputs": round(n_shots * preset.attempts * table["output_gb_per_shot_attempt"], 2)},
            "basis": "run times measured by the seed project on one MI300X, scaled by frames, pixels and steps; "
                     "load times, weight sizes, card speeds and prices assumed (prompts/costs.json)"}
    if preset.turbo:  # next to the same preset without turbo (for `turbo`: default, whose look it has)
        name = "default" if preset.name == "turbo" else preset.name
        plain = estimate(preset.model_copy(update={"turbo": False, "turbo_heroes": True, "name": name}), n_shots, card,
                         price, subjects, planned, gpu)
        figures["compared_with"] = {k: plain[k] for k in ("preset", "gpu_minutes", "money_usd", "model_loads")}
        figures["basis"] += ("; a distilled render is scaled from the undistilled measurement by its expert "
                             "forwards (4 steps, no CFG), and switching the distilled LoRAs on or off is assumed")
    return figures


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
            + _compared(e, rng) + f"- these are estimates: {e['basis']}\n")


def _compared(e: dict[str, Any], rng) -> str:
    """A turbo preset's figures next to the same preset without turbo."""
    if "compared_with" not in e:
        return ""
    c = e["compared_with"]
    return (f"- without turbo ({c['preset']}): {rng(c['gpu_minutes'])} GPU-minutes, "
            f"${rng(c['money_usd'], '{:.2f}')}; turbo: {rng(e['gpu_minutes'])} GPU-minutes, "
            f"${rng(e['money_usd'], '{:.2f}')} (best case: every distilled first attempt passes; worst: every "
            f"shot re-rendered at full steps {e['attempts'] - 1} times)\n")
