"""The turbo preset: a step-distilled first attempt for every shot, full steps where the critic asks.

The distilled weights are real files on disk: LoRAs made with peft (random weights) for the tiny
Wan2.2 in tests/tiny_models.py, in the original Wan layout lightx2v ships, loaded by the backend
through diffusers' load_lora_weights into both experts, as a user's REEL_TURBO_LORA files are.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from models import base
from runtime import host
from models.gpu.wan_video import Wan22Video
from reel.errors import UserError
from reel.presets import get_preset
from reel.schema import FailureLabel, Issue, RenderKnobs, Verdict
from reel.seeds import Seeds
from reel.strategies import next_attempt
from tasks.render import _key, first_knobs

STEPS = 2  # the tiny model's "full" render


def _plan():
    from models.cpu.director import HeuristicDirector

    return HeuristicDirector().plan("two friends meet at a rainy Tokyo crossing at night", 3, 1)


def _knobs(**over) -> RenderKnobs:
    return RenderKnobs(**{**dict(seed=7, prompt="Slow dolly in. A red kite drifts over the hill. shot on Arri Alexa",
                                 negative_prompt="blurry", frames=9, fps=16, width=64, height=32, steps=STEPS,
                                 flow_shift=5.0, guidance=1.0, guidance_2=1.0), **over})


def _frames(path) -> np.ndarray:
    import cv2

    cap, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = cap.read()
        if not ok:
            return np.stack(frames).astype(np.int16)
        frames.append(frame)


# --- presets, knobs, strategies, cache keys (no torch) -----------------------------------------

def test_turbo_preset_and_option_start_shots_distilled_at_the_authors_schedule():
    plan = _plan()
    hero, broll = (first_knobs(plan, i, get_preset("turbo"), 0) for i in (0, 1))
    for k in (hero, broll):
        assert (k.distilled, k.steps, k.flow_shift, k.guidance, k.guidance_2, k.fbcache) == (True, 4, 5.0, 1.0, 1.0, None)
    fast = first_knobs(plan, 1, get_preset("fast+turbo"), 0)
    assert fast.distilled and fast.steps == 4 and get_preset("fast+turbo").broll_steps == 18
    # turbo_heroes=false: the hero starts at full steps, b-roll stays distilled.
    no_heroes = get_preset("turbo+turbo_heroes=false")
    assert not first_knobs(plan, 0, no_heroes, 0).distilled and first_knobs(plan, 0, no_heroes, 0).steps == 30
    assert first_knobs(plan, 1, no_heroes, 0).distilled
    assert not first_knobs(plan, 1, get_preset("default"), 0).distilled
    with pytest.raises(UserError, match=r"unknown preset option 'warp'.*fast\+turbo"):
        get_preset("default+warp")


def test_a_failed_distilled_attempt_goes_to_full_steps_on_the_base_experts_then_the_label_fix():
    plan, preset = _plan(), get_preset("turbo")
    seeds = Seeds(7)  # each attempt's seed, as the shot flow passes it
    k1 = first_knobs(plan, 1, preset, seeds.render(1, 1))
    full = first_knobs(plan, 1, preset, seeds.render(1, 1), turbo=False)
    failing = Verdict(overall=4, critic="test", issues=[Issue(label=FailureLabel.OBJECT_MORPHING, detail="x")])
    k2, note = next_attempt(plan, 1, [(k1, failing)], seeds.render(1, 2), full=full)
    assert not k2.distilled and k2.attempt == 2 and k2.seed != k1.seed
    # full steps (24) plus the label's own change (+4 steps, shift -1), CFG and the cache back on
    assert (k2.steps, k2.flow_shift, k2.guidance, k2.guidance_2, k2.fbcache) == (28, 7.0, 3.5, 3.0, 0.08)
    assert note.startswith("attempt 2: distilled attempt failed -> full render on the base experts (24 steps")
    assert "OBJECT_MORPHING -> flow_shift 8.0 -> 7.0; steps 24 -> 28" in note
    k3, note3 = next_attempt(plan, 1, [(k1, failing), (k2, failing)], seeds.render(1, 3), full=full)
    assert not k3.distilled and "distilled" not in note3  # an undistilled retry escalates as before
    with pytest.raises(ValueError, match="full-step knobs"):
        next_attempt(plan, 1, [(k1, failing)], seeds.render(1, 2))


def test_cache_keys_separate_distilled_from_full_renders_and_one_lora_from_another(monkeypatch, tmp_path):
    from reel.records import StageRecord

    monkeypatch.setenv("REEL_MODEL_VIDEO", str(tmp_path / "wan"))
    monkeypatch.setenv("REEL_TURBO_LORA", "/loras/high_a.safetensors,/loras/low_a.safetensors")
    plan, keyframe = _plan(), StageRecord(stage="keyframe", subject="1")
    key = lambda knobs: _key(None, plan, 1, 1, keyframe, knobs, "wan22")  # noqa: E731
    full, distilled = _knobs(), _knobs(distilled=True)
    assert "distilled" not in key(full) and "distilled" not in key(full)["knobs"]  # keys made before turbo stand
    assert key(distilled) != key(full)
    assert key(distilled)["distilled"] == "lora:/loras/high_a.safetensors,/loras/low_a.safetensors"
    before = key(distilled)
    monkeypatch.setenv("REEL_TURBO_LORA", "/loras/high_b.safetensors,/loras/low_b.safetensors")
    assert key(distilled) != before and key(full) == key(full)


def test_a_turbo_reel_without_distilled_weights_is_refused_in_one_line(monkeypatch):
    monkeypatch.delenv("REEL_TURBO_LORA", raising=False)
    monkeypatch.delenv("REEL_MODEL_VIDEO_TURBO", raising=False)
    with pytest.raises(UserError, match="REEL_TURBO_LORA") as err:
        base.check_distilled("video", "wan22")
    assert "\n" not in str(err.value)
    base.check_distilled("video", "camera-move")  # the preview animates without steps: nothing to load


# --- the real libraries: diffusers + peft on the tiny Wan2.2 -----------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("peft", reason="LoRA loading needs peft (pip install -e .[gpu-test])")
    from tests.tiny_models import build_tiny_wan, build_tiny_wan_loras

    root = tmp_path_factory.mktemp("turbo")
    wan = build_tiny_wan(root / "wan")
    high, low = build_tiny_wan_loras(root / "loras", wan)
    key = root / "key.png"
    Image.new("RGB", (64, 32), (180, 40, 40)).save(key)
    return {"wan": wan, "lora": f"{high},{low}", "key": key}


def test_distilled_loras_load_into_both_experts_change_the_output_and_unload_to_the_base(tiny, tmp_path):
    backend = Wan22Video(device="cpu", model=str(tiny["wan"]), turbo_lora=tiny["lora"])
    plan = _plan()
    try:
        backend.render(plan, plan.shots[1], tiny["key"], None, _knobs(), tmp_path / "base.mp4")
        assert backend.weights == base.FULL and backend.last_accel["weights"] == "base"
        backend.render(plan, plan.shots[1], tiny["key"], None, _knobs(distilled=True), tmp_path / "distilled.mp4")
        assert backend.weights == base.DISTILLED
        assert backend.pipe.get_list_adapters() == {"transformer": ["distilled"], "transformer_2": ["distilled"]}
        assert backend.last_accel["weights"] == "lora:" + tiny["lora"]
        backend.render(plan, plan.shots[1], tiny["key"], None, _knobs(), tmp_path / "again.mp4")
        assert backend.pipe.get_list_adapters() == {}  # unloaded, not merely switched off
    finally:
        backend.unload()
    before, distilled, after = (_frames(tmp_path / f) for f in ("base.mp4", "distilled.mp4", "again.mp4"))
    assert np.abs(distilled - before).mean() > 2.0  # the LoRAs change the picture
    assert np.array_equal(after, before)  # and leave the base experts exactly as they were


def test_a_lora_for_another_model_is_one_clear_line(tiny, tmp_path):
    from safetensors.torch import save_file
    import torch

    wrong = tmp_path / "wrong.safetensors"
    save_file({"diffusion_model.blocks.0.self_attn.q.lora_down.weight": torch.zeros(4, 999),
               "diffusion_model.blocks.0.self_attn.q.lora_up.weight": torch.zeros(999, 4)}, wrong)
    backend = Wan22Video(device="cpu", model=str(tiny["wan"]), turbo_lora=str(wrong))
    backend.load()
    try:
        with pytest.raises(base.BackendUnavailable, match="cannot load the distilled LoRAs") as err:
            backend.use_weights(base.DISTILLED)
        assert "\n" not in str(err.value) and backend.weights == base.FULL
        assert backend.pipe.get_list_adapters() == {}
    finally:
        backend.unload()


@pytest.mark.usefixtures("prefect_server")  # the host holds the `gpu` slot, a Prefect concurrency limit
def test_the_host_switches_weights_as_a_model_change_and_keeps_the_model(tiny, monkeypatch):
    """Through the settings and the model host, as a reel asks: one load, then a switch each way."""
    for name, value in {"REEL_MODEL_VIDEO": str(tiny["wan"]), "REEL_TURBO_LORA": tiny["lora"],
                        "REEL_DEVICE_VIDEO": "cpu", "REEL_GPU_SLOT_FOR": "gpu"}.items():
        monkeypatch.setenv(name, value)
    host.unload_all()
    host.events.clear()
    try:
        with host.use("video", "wan22", base.DISTILLED) as (model, _):
            first = model
            assert model.weights == base.DISTILLED and model.pipe.get_list_adapters()["transformer_2"] == ["distilled"]
        with host.use("video", "wan22", base.DISTILLED) as (model, _):
            assert model is first  # kept: no second load, no second LoRA load
        with host.use("video", "wan22", base.FULL) as (model, _):
            assert model is first and model.weights == base.FULL and model.pipe.get_list_adapters() == {}
        assert [e for e in host.events if e[0] in ("load", "switch", "unload")] == [
            ("load", "video"), ("switch", "video", "full")]
    finally:
        host.unload_all()


def test_a_distilled_checkpoint_folder_replaces_the_experts_and_back(tmp_path):
    """REEL_MODEL_VIDEO_TURBO: the distilled model as its own diffusers folder (a model load each way)."""
    pytest.importorskip("diffusers")
    from tests.tiny_models import build_tiny_wan

    wan = build_tiny_wan(tmp_path / "wan")
    other = build_tiny_wan(tmp_path / "distilled", seed=1)  # other random experts stand in for the distilled ones
    key = tmp_path / "key.png"
    Image.new("RGB", (64, 32), (40, 140, 40)).save(key)
    backend = Wan22Video(device="cpu", model=str(wan), turbo_model=str(other))
    plan = _plan()
    try:
        for name, distilled in (("a", False), ("b", True), ("c", False)):
            backend.render(plan, plan.shots[1], key, None, _knobs(distilled=distilled), tmp_path / f"{name}.mp4")
            assert backend.folder() == str(other if distilled else wan)
        assert backend.last_accel["weights"] == "base"
    finally:
        backend.unload()
    a, b, c = (_frames(tmp_path / f"{n}.mp4") for n in "abc")
    assert np.array_equal(a, c) and np.abs(a - b).mean() > 2.0


# --- a whole reel: the failed distilled attempt re-rendered at full steps -----------------------

@pytest.mark.usefixtures("prefect_server")
def test_a_turbo_reel_re_renders_a_failed_distilled_attempt_at_full_steps_and_says_so(tmp_path):
    """The preview family animates (it takes no distilled weights; the knobs and the strategy are the
    same), a scripted critic fails shot 0's first attempt: its retry is a full render, on record."""
    import json

    from tests.helpers import reel_cli

    fail = {"character_match": 8, "scene_match": 8, "composition": 4, "artifact_free": 5, "overall": 4,
            "issues": ["OBJECT_MORPHING: the lamp post bends in frame 3"]}
    passes = {k: 9 for k in ("character_match", "scene_match", "composition", "artifact_free", "overall")}
    script = tmp_path / "critic.json"
    script.write_text(json.dumps({"0:1": json.dumps(fail), "*": json.dumps(passes | {"issues": []})}))
    proc = reel_cli("make", "a baker opens her shop in Lyon at dawn", "--preset", "turbo", "--backends", "preview",
                    "--shots", "2", "--out", str(tmp_path / "out"),
                    env={"REEL_BACKEND_CRITIC": "scripted", "REEL_MODEL_CRITIC": str(script)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    (reel_dir,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    lines = {(v["shot"], v["attempt"]): v for v in map(json.loads, (reel_dir / "verdicts.jsonl").read_text().splitlines())}
    assert sorted(lines) == [(0, 1), (0, 2), (1, 1)]
    first, retry = lines[(0, 1)], lines[(0, 2)]
    assert first["weights"] == "distilled" and not first["passed"]
    assert (first["knobs"]["steps"], first["knobs"]["guidance"], first["knobs"]["fbcache"]) == (4, 1.0, None)
    assert retry["weights"] == "full" and retry["passed"] and retry["shipped"]
    # hero: 30 full steps, +4 for OBJECT_MORPHING; CFG and the cache back
    assert (retry["knobs"]["steps"], retry["knobs"]["guidance"], retry["knobs"]["fbcache"]) == (34, 3.5, 0.08)
    assert first["next"].startswith("attempt 2: distilled attempt failed -> full render on the base experts (30 steps")
    assert lines[(1, 1)]["weights"] == "distilled" and lines[(1, 1)]["passed"]
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    assert [a["knobs"]["distilled"] for a in manifest["shots"][0]["attempts"]] == [True, False]
    assert "shot 0 attempt 1: 4.0 FAIL (OBJECT_MORPHING) [" in proc.stdout and "distilled 4 steps]" in proc.stdout
