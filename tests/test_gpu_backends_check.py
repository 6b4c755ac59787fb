"""benchmarks/gpu_check.py, the one-command GPU check, on the CPU: its real-size configs build the
models the model cards describe (on the meta device: no memory), and its whole code path runs end to
end with tiny configs (`--tiny`), so it is known to work before anyone spends a GPU on it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("stage, name, low, high", [
    ("video", "transformer", 14.0e9, 14.6e9),     # one Wan2.2 A14B expert
    ("video", "transformer_2", 14.0e9, 14.6e9),
    ("video", "text_encoder", 5.5e9, 5.9e9),      # umT5-XXL encoder
    ("image", "transformer", 3.7e9, 4.1e9),       # FLUX.2 klein 4B
    ("image", "text_encoder", 3.9e9, 4.1e9),      # Qwen3-4B
])
def test_real_configs_build_the_real_sizes(stage, name, low, high):
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from benchmarks.gpu_check import component

    model = component(stage, name, tiny=False, device="meta", dtype=torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    assert low < params < high
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}


def test_gpu_check_runs_the_whole_stack_through_its_backends_with_tiny_configs():
    """One command, every model through its own backend in a reel's order. vLLM runs in the project's
    worker process on a folder holding the Qwen3.5 config, with load_format="dummy"; on this CPU its
    engine is the stand-in (gpu_stack.STANDIN) that builds the real EngineArgs from the worker's keywords
    and binds the chat call to the real LLM.chat, so a keyword vLLM 0.30 does not take fails here."""
    pytest.importorskip("diffusers")
    pytest.importorskip("vllm")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--tiny"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {re.split(r"\s{2,}", line)[0]: line for line in done.stdout.splitlines()[3:]}
    assert list(rows) == [
        "start", "director: vLLM worker, dummy weights, 1 plan request", "director worker exited",
        "FLUX.2 klein 4B: build, resident", "FLUX.2 klein 4B: Flux2KleinImage.keyframe 64x64, 1 reference",
        "FLUX.2 klein unloaded", "Wan2.2 A14B: build (2 experts, umT5, VAE fp32), resident",
        "Wan2.2 A14B: Wan22Video.render 64x32x9, 10 steps, FLF2V",
        "Wan2.2 A14B: Wan22Video.render 64x32x9, 10 steps, FLF2V, compiled transformer_2", "Wan2.2 A14B unloaded",
        "critic: vLLM worker start, dummy weights", "critic: 1 question, 4 frames + 3 portraits",
        "critic worker unloaded", "ACE-Step 1.5: build, resident", "ACE-Step 1.5: AceStepMusic.compose 2 s",
        "ACE-Step unloaded", "Kokoro-82M: build", "Kokoro-82M: KokoroVoice.speak, one Spanish line", "Kokoro unloaded",
        "whole stack"]
    director = rows["director: vLLM worker, dummy weights, 1 plan request"]
    assert "reply 2 chars, schema-constrained" in director  # the stand-in's "{}" for a JSON-constrained request
    assert "reply 34 chars" in rows["critic: 1 question, 4 frames + 3 portraits"]
    first, compiled = (rows[f"Wan2.2 A14B: Wan22Video.render 64x32x9, 10 steps, FLF2V{c}"]
                       for c in ("", ", compiled transformer_2"))
    assert "FBCache 0.08 on 2 experts, compiled nothing, VAE float32" in first
    assert "FBCache 0.08 on 2 experts, compiled transformer_2, VAE float32" in compiled
    assert "KiB wav" in rows["ACE-Step 1.5: AceStepMusic.compose 2 s"]
    assert re.search(r"[\d.]+ s of speech", rows["Kokoro-82M: KokoroVoice.speak, one Spanish line"])
    # the plan's figures stand beside each stage (a 192 GiB card's plan on the CPU): Wan's 64.3 GiB of weights
    plan = re.split(r"\s+", first.split("FLF2V", 1)[1].strip())
    assert plan[1:5] == ["-", "-", "64.3", "64.3"]  # peak and reserved: none measured on a CPU


def test_gpu_check_runs_the_pipelines_end_to_end_with_tiny_configs():
    pytest.importorskip("diffusers")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--tiny", "--pipelines"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if re.match(r"^(umT5|Wan|FLUX|start)", line)]
    names = [re.split(r"\s{2,}", r)[0] for r in rows]
    assert names == ["start", "umT5-XXL: build + encode prompt, negative", "umT5-XXL unloaded",
                     "Wan2.2 A14B: build (2 experts + VAE)",
                     "Wan2.2 A14B: 64x32x9, 2 steps, FBCache off", "Wan2.2 A14B: 64x32x9, 2 steps, FBCache 0.08",
                     "Wan2.2 A14B: 64x32x9, 4 steps, FBCache off", "Wan2.2 A14B: 64x32x9, 4 steps, FBCache 0.08",
                     "Wan VAE (fp32): decode 9 frames", "Wan2.2 A14B unloaded", "FLUX.2 klein 4B: build",
                     "FLUX.2 klein 4B: keyframe 64x64 from 1 reference, 2 steps", "FLUX.2 klein unloaded"]
    forwards = [re.search(r"(\d+)/(\d+) forwards ran all blocks", r).groups() for r in rows if "steps, FBCache" in r]
    uncached = [f for f, r in zip(forwards, [r for r in rows if "steps, FBCache" in r]) if "FBCache off" in r]
    assert all(full == total for full, total in uncached)  # without the cache every forward runs every block
    assert [int(t) for _, t in forwards] == [4, 4, 8, 8]  # CFG: two expert forwards per step
    assert "video (1, 3, 9, 32, 64)" in done.stdout and "image (1, 64, 64, 3)" in done.stdout
    assert "GPU check on CPU (tiny configs)" in done.stdout
    # The turbo comparison: same frames and size, full steps with CFG and the cache against 4 distilled
    # steps without either (one forward a step, every block), and the line that sets them side by side.
    turbo = [line for line in done.stdout.splitlines() if line.startswith("turbo check")]
    assert [re.split(r"\s{2,}", r)[0] for r in turbo] == [
        "turbo check: full 10 steps, CFG 3.5, FBCache 0.08", "turbo check: distilled 4 steps, no CFG, LoRA r4, no cache",
        "turbo check: distilled vs full"]
    assert re.search(r"\d+/20 forwards ran all blocks", turbo[0]) and "4/4 forwards ran all blocks" in turbo[1]
    assert re.search(r"[\d.]+ s vs [\d.]+ s \([\d.]+x\), 64x32x9 both", turbo[2])


def test_gpu_check_without_a_card_says_so_in_one_line():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA card is visible here")
    done = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("gpu_check: the GPU check needs a CUDA or ROCm card")
    assert "Traceback" not in done.stderr
