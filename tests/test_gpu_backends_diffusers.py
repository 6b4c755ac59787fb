"""The diffusers GPU backends (FLUX.2 klein, Wan2.2, ACE-Step 1.5) through their real load path.

Each backend loads a tiny random pipeline that tests/tiny_models.py built offline and saved, with
`from_pretrained(folder)` on CPU, and writes real files: a PNG of the requested size, an mp4 of
the requested frame count, a wav of the requested length. Tests that need torch/diffusers skip
with the reason when they are not installed; the import and missing-folder checks never need them.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from PIL import Image

from models.gpu.acestep_music import AceStepMusic, bpm_of, keyscale_of
from models.gpu.flux2_image import Flux2KleinImage, master_prompt, scene_setting
from models.gpu.fbcache import para_attn_api
from models.gpu.wan_video import Wan22Video, frames_to_render
from reel import prompts
from reel.errors import BackendUnavailable, UserError
from reel.media import ffmpeg_exe, probe
from reel.schema import Plan, RenderKnobs

ROOT = Path(__file__).resolve().parents[1]


def _needs_stack():
    pytest.importorskip("torch", reason="torch is not installed (GPU extra: pip install -e .[gpu])")
    pytest.importorskip("diffusers", reason="diffusers is not installed (GPU extra: pip install -e .[gpu])")


def _plan() -> Plan:
    from models.cpu.director import HeuristicDirector

    return HeuristicDirector().plan("two friends meet at a rainy Tokyo crossing at night", 6, 1)


def _knobs(**over) -> RenderKnobs:
    base = dict(seed=7, prompt="Slow dolly in. A red kite drifts over the hill. shot on Arri Alexa",
                negative_prompt="blurry, static", frames=9, fps=16, width=64, height=32, steps=2,
                flow_shift=5.0, guidance=3.5, guidance_2=3.0, fbcache=0.08)
    return RenderKnobs(**{**base, **over})


def _frame_count(path: Path) -> int:
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null",
                          "-"], capture_output=True, text=True).stderr
    return int(re.findall(r"frame=\s*(\d+)", err)[-1])


def _png(path: Path, size: tuple[int, int], colour=(180, 40, 40)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


# --- no torch needed ---------------------------------------------------------------------------

@pytest.mark.parametrize("module", ["models.gpu.flux2_image", "models.gpu.wan_video", "models.gpu.acestep_music",
                                    "models.gpu.accel", "models.gpu.encode"])
def test_importing_a_backend_does_not_import_torch(module):
    code = f"import {module}, sys; assert 'torch' not in sys.modules and 'diffusers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_gpu_switches_are_set_on_import_before_torch_under_the_names_it_reads():
    """CUDA/HIP read the allocator setting once, when they start: `import models` sets it before
    anything imports torch, as PYTORCH_ALLOC_CONF for torch >= 2.9 (2.13 here), the old per-platform
    names before that; an operator's own value (either name) is kept."""
    import os
    import subprocess
    import sys

    from models import gpu_env

    names = gpu_env.ALLOC_NAMES_NEW + gpu_env.ALLOC_NAMES_OLD
    clean = {k: v for k, v in os.environ.items() if k not in names + tuple(gpu_env.KERNELS)}
    code = ("import os, sys, models; print(sys.modules.get('torch') is None, "
            + ", ".join(f"os.environ.get({n!r})" for n in (*names, "MIOPEN_FIND_MODE", "TORCH_BLAS_PREFER_HIPBLASLT"))
            + ")")
    run = lambda env: subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout.split()
    assert run(clean) == ["True", "expandable_segments:True", "None", "None", "FAST", "1"]
    assert run({**clean, "PYTORCH_CUDA_ALLOC_CONF": "mine"}) == ["True", "None", "mine", "None", "FAST", "1"]
    assert gpu_env.alloc_names((2, 8)) == ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_HIP_ALLOC_CONF")
    assert gpu_env.torch_version() >= (2, 9)


@pytest.mark.parametrize("cls, setting", [(Flux2KleinImage, "REEL_MODEL_IMAGE"), (Wan22Video, "REEL_MODEL_VIDEO"),
                                          (AceStepMusic, "REEL_MODEL_MUSIC")])
def test_a_missing_model_folder_names_the_path_and_the_setting(tmp_path, cls, setting):
    missing = tmp_path / "no-such-model"
    backend = cls(device="cpu", model=str(missing))
    assert backend.model_id == str(missing) and backend.heavy and backend.pipe is None  # constructor loads nothing
    with pytest.raises(BackendUnavailable) as err:
        backend.load()
    message = str(err.value)
    assert setting in message and str(missing) in message and "\n" not in message


def test_a_missing_gpu_stack_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import fails as if not installed
    with pytest.raises(BackendUnavailable, match=re.escape("pip install -e .[gpu]")):
        Wan22Video(device="cpu", model=str(tmp_path)).load()


def test_an_unknown_fbcache_implementation_is_one_clear_error():
    with pytest.raises(UserError, match=r"REEL_FBCACHE.*diffusers, para-attn"):
        Wan22Video(device="cpu", model="Wan-AI/Wan2.2-I2V-A14B-Diffusers", fbcache="teacache")


def test_master_prompts_come_from_the_table():
    plan = _plan()
    t = prompts.table("image_prompts.json")
    a = master_prompt(plan, "A")
    assert plan.characters["A"].rstrip(". ") in a and a.endswith(t["style"])
    group = master_prompt(plan, "group")
    assert all(p.rstrip(". ") in group for p in plan.characters.values())
    assert group.startswith("Takumi and Hina") or group.startswith("Hina and Takumi")
    setting = scene_setting(plan)
    assert setting and "Takumi" not in setting and "Hina" not in setting and "shot on" not in setting
    assert plan.shots[0].camera_sentence not in setting
    scene = master_prompt(plan, "scene")
    assert plan.story_logline.rstrip(". ") in scene and scene.count("shot on") == 1
    with pytest.raises(ValueError, match="master subject"):
        master_prompt(plan, "Z")


def test_brief_parsing_and_frame_grid():
    assert bpm_of("solo cello with koto, 60 BPM, melancholic") == 60
    assert bpm_of("upbeat 128bpm house") == 128
    assert bpm_of("slow and warm") is None
    assert keyscale_of("piano ballad in d minor, 70 BPM") == "D minor"
    assert keyscale_of("ambient pad") is None
    assert [frames_to_render(n) for n in (81, 121, 9, 7, 1)] == [81, 121, 9, 9, 1]


class PipelineCalls(list):
    """A spy on a loaded pipeline: the real `__call__` runs, and each call's keyword arguments (a
    dict, with the frames it returned as `.frames`) are recorded in order."""

    class Call(dict):
        frames = None

    def __init__(self, pipe):
        super().__init__()
        self.cls, self.real = type(pipe), type(pipe).__call__

    def __enter__(self):
        real, calls = self.real, self

        def spy(pipe, *args, **kwargs):
            out = real(pipe, *args, **kwargs)
            call = PipelineCalls.Call(kwargs)
            call.frames = getattr(out, "frames", [None])[0]
            calls.append(call)
            return out

        self.cls.__call__ = spy
        return self

    def __exit__(self, *exc):
        self.cls.__call__ = self.real


# --- FLUX.2 [klein] ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flux2(tmp_path_factory):
    _needs_stack()
    from tests.tiny_models import build_tiny_flux2

    backend = Flux2KleinImage(device="cpu", model=str(build_tiny_flux2(tmp_path_factory.mktemp("flux2"))), steps=2)
    backend.load()
    yield backend
    backend.unload()


@pytest.mark.parametrize("subject, size", [("A", (80, 48)), ("group", (64, 64)), ("scene", (72, 40))])
def test_flux2_master_is_a_png_of_the_requested_size(flux2, tmp_path, subject, size):
    out = tmp_path / f"master_{subject}.png"
    flux2.master(_plan(), subject, seed=3, size=size, out=out)
    with Image.open(out) as im:
        assert (im.format, im.size, im.mode) == ("PNG", size, "RGB")  # (72, 40) is off the 16-grid: resized


def test_flux2_keyframe_edits_from_references_and_is_seeded(flux2, tmp_path):
    plan = _plan()
    refs = [_png(tmp_path / "master_A.png", (64, 96)), _png(tmp_path / "tiny.png", (32, 24), (20, 90, 200))]
    outs = []
    for i, seed in enumerate((5, 5, 6)):
        out = tmp_path / f"key_{i}.png"
        flux2.keyframe(plan, plan.shots[1], refs, seed=seed, size=(96, 64), out=out)
        with Image.open(out) as im:
            assert (im.format, im.size) == ("PNG", (96, 64))
            outs.append(im.tobytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]  # same seed, same picture
    # The references reach the real pipeline call and change the picture: same seed, other references.
    other = [_png(tmp_path / "other_A.png", (64, 96), (240, 240, 240))]
    with PipelineCalls(flux2.pipe) as calls:
        flux2.keyframe(plan, plan.shots[1], other, seed=5, size=(96, 64), out=tmp_path / "key_other.png")
    (call,) = calls
    images = call["image"]
    assert (call["num_inference_steps"], call["prompt"]) == (2, plan.shots[1].prompt)
    assert [im.getpixel((0, 0)) for im in images] == [(240, 240, 240)]
    assert Image.open(tmp_path / "key_other.png").tobytes() != outs[0]


def test_flux2_unload_frees_and_load_again_works(flux2, tmp_path):
    flux2.unload()
    assert flux2.pipe is None
    flux2.load()
    flux2.master(_plan(), "B", seed=1, size=(32, 32), out=tmp_path / "b.png")
    assert Image.open(tmp_path / "b.png").size == (32, 32)


def test_an_empty_model_folder_is_backend_unavailable(tmp_path):
    _needs_stack()
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackendUnavailable, match="REEL_MODEL_IMAGE"):
        Flux2KleinImage(device="cpu", model=str(tmp_path / "empty")).load()


# --- Wan2.2 ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wan(tmp_path_factory):
    _needs_stack()
    from tests.tiny_models import build_tiny_wan

    backend = Wan22Video(device="cpu", model=str(build_tiny_wan(tmp_path_factory.mktemp("wan"))))
    backend.load()
    yield backend
    backend.unload()


@pytest.fixture(scope="module")
def wan_ti2v(tmp_path_factory):
    _needs_stack()
    from tests.tiny_models import build_tiny_wan

    backend = Wan22Video(device="cpu", model=str(build_tiny_wan(tmp_path_factory.mktemp("ti2v"), ti2v=True)))
    yield backend
    backend.unload()


def test_wan_a14b_renders_first_last_frame_clip(wan, tmp_path, caplog):
    key = _png(tmp_path / "key.png", (96, 48))  # other aspect than the render: cover-fitted
    end = _png(tmp_path / "end.png", (64, 32), (30, 30, 200))
    out = tmp_path / "clip.mp4"
    with PipelineCalls(wan.pipe) as calls:
        wan.render(_plan(), _plan().shots[0], key, end, _knobs(), out)
        wan.render(_plan(), _plan().shots[0], key, None, _knobs(), tmp_path / "no_end.mp4")
    with_end, without_end = calls
    # The end frame reaches the real pipeline call as `last_image`, fitted to the render size, and
    # changes the clip: the same seed and knobs without it give other frames.
    assert with_end["last_image"].size == (64, 32) and with_end["last_image"].getpixel((10, 10)) == (30, 30, 200)
    assert "last_image" not in without_end
    knobs = _knobs()  # every knob of the attempt reaches the call, each to its own argument
    assert (with_end["guidance_scale"], with_end["guidance_scale_2"], with_end["num_inference_steps"]) == (3.5, 3.0, 2)
    assert (with_end["prompt"], with_end["negative_prompt"]) == (knobs.prompt, knobs.negative_prompt)
    assert with_end["generator"].initial_seed() == knobs.seed
    assert abs(with_end.frames - without_end.frames).max() > 1e-3
    wan.render(_plan(), _plan().shots[0], key, None, _knobs(flow_shift=8.0), tmp_path / "again.mp4")
    info = probe(out)
    assert (info.video_codec, info.pix_fmt, info.width, info.height, info.fps) == ("h264", "yuv420p", 64, 32, 16)
    assert _frame_count(out) == 9
    assert wan.pipe.scheduler.config.flow_shift == 8.0  # set per call: b-roll after hero
    assert wan.last_accel["fbcache"]["note"].startswith("off: 2 steps")  # a 2-step schedule never caches


def test_wan_keeps_its_vae_in_fp32_beside_bf16_experts(wan, tmp_path):
    """On a card the pipeline loads in bf16 but the Wan VAE in fp32 (diffusers' advice; the memory
    plan and the GPU check count it so): the same load on CPU with the card's dtype, through the
    backend's own render."""
    import torch

    backend = Wan22Video(device="cpu", model=wan.model_id)
    backend.dtype = torch.bfloat16  # what load_pipeline picks for a cuda device
    try:
        out = tmp_path / "clip.mp4"
        backend.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), _png(tmp_path / "e.png", (64, 32)),
                       _knobs(), out)
        pipe = backend.pipe
        assert pipe.vae.dtype == torch.float32
        assert pipe.transformer.dtype == pipe.transformer_2.dtype == pipe.text_encoder.dtype == torch.bfloat16
        assert _frame_count(out) == 9
    finally:
        backend.unload()


def test_the_memory_plan_of_a_small_card_loads_wan_in_fp8(wan, tmp_path, monkeypatch):
    """The plan for a 24 GiB card (the real plan, from the real configs) handed to the real backend:
    model CPU offload with FP8 weights. The tiny checkpoint loads with its experts stored in FP8 (on
    the CPU; offload needs an accelerator to offload to, so it is only asked for) and still renders."""
    import torch

    from runtime import host

    monkeypatch.setenv("REEL_GPU_GB", "24")
    backend = Wan22Video(device="cpu", model=wan.model_id)
    backend.apply_plan(host.plan().stage("video"))
    assert backend.offload and backend.fp8
    try:
        backend.load()
        for expert in (backend.pipe.transformer, backend.pipe.transformer_2):
            stored = {p.dtype for p in expert.blocks.parameters()}
            assert torch.float8_e4m3fn in stored, stored
        backend.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), None, _knobs(fbcache=None),
                       tmp_path / "fp8.mp4")
    finally:
        backend.unload()
    assert _frame_count(tmp_path / "fp8.mp4") == 9


def test_wan_trims_to_any_frame_count_and_resizes_off_grid_sizes(wan, tmp_path):
    out = tmp_path / "clip.mp4"
    wan.render(_plan(), _plan().shots[1], _png(tmp_path / "k.png", (64, 32)), None,
               _knobs(frames=7, width=70, height=36, fps=24, fbcache=None), out)
    info = probe(out)
    assert (info.width, info.height, info.fps) == (70, 36, 24)
    assert _frame_count(out) == 7


class BlockRuns:
    """How many times each expert's last block really computed (its feed-forward ran): a cached step
    skips it, so fewer runs at the same step count means the cache reused steps."""

    def __init__(self, pipe):
        self.counts = {"transformer": 0, "transformer_2": 0}
        self.handles = [getattr(pipe, name).blocks[-1].ffn.register_forward_hook(self._hook(name))
                        for name in self.counts]

    def _hook(self, name):
        def count(*_):
            self.counts[name] += 1
        return count

    def take(self) -> dict:
        counts, self.counts = self.counts, dict.fromkeys(self.counts, 0)
        return counts

    def close(self):
        for h in self.handles:
            h.remove()


@pytest.mark.parametrize("impl", ["diffusers", "para-attn"])
def test_wan_fbcache_runs_on_both_experts_with_each_calls_threshold(wan, tmp_path, impl):
    """The real cache (diffusers' hook, or para-attn's Wan adapter) on the tiny A14B pipeline: a new
    threshold in the same process takes effect, off really computes every step, and a step-distilled
    schedule never caches. The record says what ran."""
    if impl == "para-attn":
        pytest.importorskip("para_attn", reason="para-attn is not installed (gpu-test extra)")
    backend = Wan22Video(device="cpu", model=wan.model_id, fbcache=impl)
    key = _png(tmp_path / "k.png", (64, 32))
    backend.load()
    runs = BlockRuns(backend.pipe)
    try:
        seen = {}
        for label, threshold, steps in (("tight", 1e-9, 10), ("loose", 50.0, 10), ("off", None, 10),
                                        ("loose again", 50.0, 10), ("distilled", 50.0, 4)):
            backend.render(_plan(), _plan().shots[0], key, None, _knobs(fbcache=threshold, steps=steps),
                           tmp_path / f"{label}.mp4")
            seen[label] = (runs.take(), backend.last_accel["fbcache"])
            assert _frame_count(tmp_path / f"{label}.mp4") == 9
    finally:
        runs.close()
        backend.unload()
    full = seen["off"][0]
    assert full["transformer"] > 0 and full["transformer_2"] > 0  # 10 steps with CFG reach both experts
    assert seen["tight"][0] == full  # nothing is similar enough at ~0: every step computes
    loose = seen["loose"][0]
    assert loose["transformer"] < full["transformer"] and loose["transformer_2"] < full["transformer_2"]
    assert seen["loose again"][0] == loose  # after off, the cache comes back at the new call's threshold
    assert seen["distilled"][0]["transformer_2"] > 0
    assert seen["loose"][1] == {"impl": impl, "threshold": 50.0, "experts": 2, "note": "on"}
    assert seen["off"][1]["impl"] is None and seen["off"][1]["note"] == "off in the preset"
    assert seen["distilled"][1]["impl"] is None and "step-distilled" in seen["distilled"][1]["note"]


def test_para_attn_patches_instances_not_the_pipeline_class(wan, tmp_path):
    """para-attn's own apply_cache_on_pipe patches the pipeline class for the whole process; the
    backend must not, so another pipeline of the same class stays untouched."""
    pytest.importorskip("para_attn", reason="para-attn is not installed (gpu-test extra)")
    assert para_attn_api() is not None
    from diffusers import WanImageToVideoPipeline

    backend = Wan22Video(device="cpu", model=wan.model_id, fbcache="para-attn")
    try:
        backend.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), None,
                       _knobs(fbcache=0.08, steps=10), tmp_path / "c.mp4")
        assert backend.pipe.transformer._is_cached and backend.pipe.transformer_2._is_cached
        assert not getattr(WanImageToVideoPipeline, "_is_cached", False)
        assert not getattr(wan.pipe.transformer, "_is_cached", False)  # another loaded pipeline
    finally:
        backend.unload()


def test_para_attn_gives_each_expert_its_own_cache_context(wan, tmp_path):
    """A context holds the previous step's residual: shared, the low-noise expert's first step would
    compare against the high-noise expert's. Inside each expert's blocks the current context is that
    expert's own, the same on every step of a render, and a new one on the next render."""
    pytest.importorskip("para_attn", reason="para-attn is not installed (gpu-test extra)")
    from para_attn.first_block_cache import utils

    backend = Wan22Video(device="cpu", model=wan.model_id, fbcache="para-attn")
    backend.load()
    seen = {"transformer": [], "transformer_2": []}
    handles = [getattr(backend.pipe, name).blocks[0].register_forward_hook(
        lambda *_, name=name: seen[name].append(utils.get_current_cache_context())) for name in seen]
    try:
        backend.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), None,
                       _knobs(fbcache=0.08, steps=10), tmp_path / "c.mp4")
        kept = {name: list(contexts) for name, contexts in seen.items()}  # alive: ids stay unique
        first = {name: {id(c) for c in contexts} for name, contexts in kept.items()}
        for contexts in seen.values():
            contexts.clear()
        backend.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), None,
                       _knobs(fbcache=0.08, steps=10), tmp_path / "d.mp4")
    finally:
        for h in handles:
            h.remove()
        backend.unload()
    assert len(first["transformer"]) == len(first["transformer_2"]) == 1
    assert first["transformer"] != first["transformer_2"]
    assert id(None) not in first["transformer"] | first["transformer_2"]
    assert {id(c) for c in seen["transformer"]}.isdisjoint(first["transformer"])  # a fresh context per render
    assert utils.get_current_cache_context() is None  # nothing left behind after the call


def test_wan_compiles_only_the_low_noise_expert_for_real(wan, tmp_path):
    """A real torch.compile (inductor, on CPU) of transformer_2 with the cache hooks on; the clip
    matches the eager render of the same knobs, and unload resets dynamo."""
    import torch

    knobs = _knobs(fbcache=0.08, steps=10)
    key = _png(tmp_path / "k.png", (64, 32))
    eager = Wan22Video(device="cpu", model=wan.model_id)
    backend = Wan22Video(device="cpu", model=wan.model_id, compile_video=True)
    try:
        eager.load()
        backend.load()
        frames = {}
        for name, b in (("eager", eager), ("compiled", backend)):
            captured = {}
            real_call = type(b.pipe).__call__

            def spy(pipe, *a, _captured=captured, **kw):
                out = real_call(pipe, *a, **kw)
                _captured["frames"] = out.frames[0]
                return out

            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(type(b.pipe), "__call__", spy)
                b.render(_plan(), _plan().shots[0], key, None, knobs, tmp_path / f"{name}.mp4")
            frames[name] = captured["frames"]
        pipe = backend.pipe
        assert pipe.transformer_2._compiled_call_impl is not None  # nn.Module.compile() in place
        assert pipe.transformer._compiled_call_impl is None
        assert backend.last_accel["compiled"] == "transformer_2"
        assert abs(frames["eager"] - frames["compiled"]).max() < 1e-3
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0
    finally:
        eager.unload()
        resets = []
        real_reset = torch._dynamo.reset
        with pytest.MonkeyPatch.context() as mp:  # a spy: the real reset runs
            mp.setattr(torch._dynamo, "reset", lambda: resets.append(1) or real_reset())
            backend.unload()
    assert resets == [1]  # the compiled expert's graphs are dropped with it
    assert _frame_count(tmp_path / "compiled.mp4") == 9


def test_wan_ti2v_5b_loads_from_its_folder_and_renders(wan_ti2v, tmp_path, caplog):
    out = tmp_path / "clip.mp4"
    with caplog.at_level(logging.WARNING, logger="models.gpu.wan_video"):
        wan_ti2v.render(_plan(), _plan().shots[0], _png(tmp_path / "k.png", (64, 32)), _png(tmp_path / "e.png", (64, 32)),
                        _knobs(fbcache=None), out)
    assert wan_ti2v.pipe.config.expand_timesteps and wan_ti2v.pipe.transformer_2 is None
    assert any("first frame only" in r.message for r in caplog.records)  # no FLF2V on TI2V: said, not fatal
    assert (probe(out).width, probe(out).height, _frame_count(out)) == (64, 32, 9)


# --- ACE-Step 1.5 ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def acestep(tmp_path_factory):
    _needs_stack()
    from tests.tiny_models import build_tiny_acestep

    backend = AceStepMusic(device="cpu", model=str(build_tiny_acestep(tmp_path_factory.mktemp("ace"))), steps=2)
    backend.load()
    yield backend
    backend.unload()


def test_acestep_writes_an_instrumental_wav_of_the_requested_length(acestep, tmp_path, monkeypatch):
    from tests.tiny_models import ACE_SAMPLE_RATE

    seen = {}
    real = acestep.pipe

    class Spy:  # the real pipeline, with its call arguments recorded
        def __getattr__(self, name):
            return getattr(real, name)

        def __call__(self, **kw):
            seen.update(kw)
            return real(**kw)

    monkeypatch.setattr(acestep, "pipe", Spy())
    out = tmp_path / "music.wav"
    acestep.compose("intimate ambient piano with warm pad, 72 BPM, in A minor, no drums", 1.5, seed=4, out=out)
    assert (seen["bpm"], seen["keyscale"], seen["lyrics"], seen["audio_duration"]) == (72, "A minor", "[Instrumental]", 1.5)
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, ACE_SAMPLE_RATE)
        assert w.getnframes() == round(1.5 * ACE_SAMPLE_RATE)
    assert probe(out).sample_rate == ACE_SAMPLE_RATE and abs(probe(out).duration - 1.5) < 0.02


def test_the_default_music_checkpoint_is_the_one_diffusers_loads_acestep_from():
    """ACE-Step/Ace-Step1.5 is the original repository layout; AceStepPipeline.from_pretrained needs the
    diffusers one, which is what diffusers' own AceStepPipeline example loads."""
    _needs_stack()
    import inspect

    from diffusers.pipelines.ace_step import pipeline_ace_step

    from reel.settings import Settings

    default = AceStepMusic().model_id
    assert default == Settings().model_music
    assert f'"{default}"' in inspect.getsource(pipeline_ace_step)
