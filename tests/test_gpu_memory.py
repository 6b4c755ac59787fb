"""The GPU memory plan (real configs, real classes on the meta device), the model host's residency
decisions from it, the hand-over between models, and one owner per GPU across real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from models.gpu.flux2_image import Flux2KleinImage
from models.gpu.kokoro_voice import KokoroVoice
from models.gpu.vlm_critic import VllmCritic
from models.gpu.wan_video import Wan22Video
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("prefect_server")


# ---------------------------------------------------------------- the plan and `reel bench memory`


def test_bench_memory_prints_the_plan_for_each_card():
    proc = subprocess.run([sys.executable, "-m", "app.cli", "bench", "memory", "--gpu-gb", "24", "80", "141", "192"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    print(out)
    # Weights counted from the real classes at full size: two 14.29B Wan experts, a 34.66B MoE, Kokoro 82M.
    assert out.count("WanTransformer3DModel            14.29B") == 2
    assert "Qwen3_5MoeForCausalLM            34.66B" in out and "KModel                            0.08B" in out
    cards = {c.split(" GiB")[0]: c for c in out.split("card ")[1:]}
    assert set(cards) == {"24", "80", "141", "192"}
    row = {card: {line.split()[0]: line for line in text.splitlines()[2:] if line[:1].isalpha()}
           for card, text in cards.items()}
    assert "offload" in row["24"]["video"] and "does not fit" in row["24"]["director"]
    assert "resident, fp8" in row["80"]["critic"] and "resident, fp8" in row["80"]["director"]
    assert "resident, bf16" in row["141"]["critic"] and "resident, bf16" in row["141"]["video"]
    assert "video+critic" in cards["192"] and "video+critic" not in cards["80"]
    assert "video+voice" in cards["80"]  # Kokoro stays with the video model instead of evicting it
    assert "gpu_memory_utilization=0.90" not in cards["141"]  # the plan's share, not vLLM's blanket default


def test_the_qwen_formula_counts_what_the_meta_model_holds():
    """The fallback for an install without the class must agree with the class itself."""
    from models import memory_plan

    component = memory_plan.load_config("director")["components"]["language_model"]
    assert memory_plan.source(component) == "meta"
    built = memory_plan._count(component)
    assert memory_plan.qwen35_moe_params(component["config"]) == built
    assert 34.6e9 < built[0] < 34.7e9


# ---------------------------------------------------------------- the host decides from the plan

EVENTS: list[tuple] = []


class _Planned:
    """The real backend classes with only load() and unload() replaced: their checkpoints (tens of GB
    on a CUDA device) cannot load here. What the memory plan sets goes through each class's own
    apply_plan and lands on its own attributes, so renaming one of them fails these tests."""

    def load(self) -> None:
        EVENTS.append(("loaded", self.role))

    def unload(self) -> None:
        EVENTS.append(("unloaded", self.role))


class PlannedVideo(_Planned, Wan22Video):
    compiled = None

    def load(self) -> None:
        super().load()
        import torch

        if PlannedVideo.compiled is not None:
            PlannedVideo.compiled(torch.ones(3))  # a real torch.compile graph from the last load


class PlannedCritic(_Planned, VllmCritic):
    role = "critic"


class PlannedVoice(_Planned, KokoroVoice):
    role = "voice"


class PlannedImage(_Planned, Flux2KleinImage):
    pass


@pytest.fixture
def planned(monkeypatch, tmp_path):
    from models import base, host

    for cls in (PlannedVideo, PlannedCritic, PlannedVoice, PlannedImage):
        monkeypatch.setitem(base.REGISTRY[cls.role], "planned", f"tests.test_gpu_memory:{cls.__name__}")
    monkeypatch.setenv("REEL_SWAP_GRACE_S", "0")
    host.unload_all()
    EVENTS.clear()
    host.events.clear()
    yield host
    host.unload_all()


def _use(host, role):
    with host.use(role, "planned") as (backend, _):
        return backend


def test_host_keeps_what_fits_on_the_card_and_loads_each_model_as_planned(planned, monkeypatch):
    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    video = _use(host, "video")
    assert not video.offload and not video.fp8  # 64 GiB of bf16 weights fit an 80 GiB card
    _use(host, "voice")
    assert ("unloaded", "video") not in EVENTS  # the 82M voice model does not evict the video model
    critic = _use(host, "critic")
    assert ("unloaded", "video") in EVENTS  # video + critic do not fit 80 GiB: one swap
    assert ("unloaded", "voice") not in EVENTS
    knobs = critic.engine_options
    assert knobs["quantization"] == "fp8" and 0.3 < knobs["gpu_memory_utilization"] < 0.9
    assert knobs["max_num_seqs"] == 8 and knobs["max_images"] == critic.max_images == 8
    _use(host, "image")
    assert ("unloaded", "critic") not in EVENTS  # image + critic fit together on 80 GiB

    host.unload_all()
    EVENTS.clear()
    monkeypatch.setenv("REEL_GPU_GB", "24")
    video = _use(host, "video")
    assert video.offload and video.fp8  # a 24 GiB card: model CPU offload with FP8 weights
    from reel.errors import BackendUnavailable

    with pytest.raises(BackendUnavailable, match=r"the critic model \S+ needs 33.\d GiB for its weights alone "
                                                 r"\(FP8\) and this 24 GiB card has 22.5 GiB usable"):
        _use(host, "critic")


def test_without_a_card_every_heavy_model_replaces_the_last(planned):
    host = planned
    _use(host, "video")
    _use(host, "voice")
    assert EVENTS == [("loaded", "video"), ("unloaded", "video"), ("loaded", "voice")]


def test_cpu_backends_take_no_gpu_turn_unless_every_call_must(planned, monkeypatch):
    """While a GPU model holds its turn and the slot, preview (CPU) calls still run, side by side
    up to this process's cores, and record no GPU window; REEL_GPU_SLOT_FOR=all queues them."""
    import threading

    host = planned
    cores = min(2, len(os.sched_getaffinity(0)))
    together = threading.Barrier(cores, timeout=30)  # broken unless `cores` calls are inside at once
    windows = []

    def cpu_call() -> None:
        with host.use("video", "camera-move") as (backend, held):
            together.wait()
        windows.append(held.window)

    with host.use("video", "planned") as (_, gpu_held):
        threads = [threading.Thread(target=cpu_call) for _ in range(cores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert windows == [None] * cores and gpu_held.window and not together.broken
    monkeypatch.setenv("REEL_GPU_SLOT_FOR", "all")
    with host.use("video", "camera-move") as (_, held):
        pass
    assert held.window and held.window[0] >= gpu_held.window[1]


def test_a_cpu_backends_calls_go_in_the_order_they_arrived():
    """espeak-ng's output depends on the lines spoken before, so one backend's calls are served in
    arrival order whatever order the threads wake in; a caller that gives up does not block the rest."""
    import random
    import threading

    from models.host import _InTurn

    queue, served = _InTurn(), []
    turns = [queue.ask() for _ in range(12)]

    def call(i: int) -> None:
        time.sleep(random.random() / 20)
        if i == 5:
            queue._next(5)  # what a wait cut short by an exception does
            return
        with turns[i]:
            served.append(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in reversed(range(12))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert served == [i for i in range(12) if i != 5]


# ---------------------------------------------------------------- hand-over


def test_a_load_waits_for_the_memory_then_compiled_state_is_reset(planned, monkeypatch):
    import torch

    from models import memory_plan

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    compiles = []

    def counting_backend(gm, example_inputs):
        compiles.append(len(example_inputs))
        return gm.forward

    monkeypatch.setattr(PlannedVideo, "compiled", torch.compile(lambda x: torch.sin(x) * 2, backend=counting_backend))
    PlannedVideo.compiled(torch.ones(3))
    assert len(compiles) == 1
    unloaded_at = []
    real_unload = PlannedVideo.unload

    def unload(self):
        real_unload(self)
        unloaded_at.append(time.monotonic())

    monkeypatch.setattr(PlannedVideo, "unload", unload)

    def mem_get_info(device):
        # The CUDA memory query is the one fake: there is no CUDA device here. The video model takes
        # 69 GiB while loaded and for 0.5 s after its unload (as a real driver does until the
        # allocator and a dying worker hand the memory back).
        busy = ("loaded", "video") in EVENTS and (not unloaded_at or time.monotonic() - unloaded_at[0] < 0.5)
        return ((11 if busy else 79) * memory_plan.GIB, 80 * memory_plan.GIB)

    monkeypatch.setattr(memory_plan, "_mem_get_info", mem_get_info)
    _use(host, "video")
    assert [e[0] for e in host.events][-1] == "load"
    host.events.clear()
    _use(host, "critic")
    kinds = [e[0] for e in host.events]
    assert kinds == ["unload", "wait", "free", "load"], host.events
    assert host.events[1][1] == "critic" and host.events[2][2] >= 40
    PlannedVideo.compiled(torch.ones(3))
    assert len(compiles) == 2  # the graph compiled for the unloaded model was dropped (torch._dynamo.reset)


def test_a_load_that_never_gets_its_memory_says_so(planned, monkeypatch):
    from models import memory_plan
    from models.residency import GpuBusy

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    monkeypatch.setenv("REEL_MEMORY_WAIT_S", "1")
    # The one fake, as above: a CUDA card where another program keeps 70 of 80 GiB.
    monkeypatch.setattr(memory_plan, "_mem_get_info", lambda device: (10 * memory_plan.GIB, 80 * memory_plan.GIB))
    with pytest.raises(GpuBusy, match=r"cuda:0 still has only 10.0 GiB free after 1 s; the video model needs"):
        _use(host, "video")
    assert ("loaded", "video") not in EVENTS


def test_a_timed_out_worker_takes_its_whole_process_group_with_it(tmp_path):
    from models.gpu.vllm_worker import run_group

    pids = tmp_path / "pids"
    script = ("import os, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
              "time.sleep(120)\n")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_group([sys.executable, "-c", script], timeout=3)
    assert time.monotonic() - started < 30
    for pid in map(int, pids.read_text().split()):  # the worker and its EngineCore-like child
        assert not _alive(pid), f"process {pid} survived the timeout"


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
        except (FileNotFoundError, ProcessLookupError):
            return False
        if "Z" in state.split()[1]:  # a zombie waiting for init to reap it: it has ended
            return False
        time.sleep(0.1)
    return True


# ---------------------------------------------------------------- one GPU, one owner


def test_gpu_identity_names_its_device_lock_and_slot(monkeypatch, tmp_path):
    from reel.settings import get_settings

    monkeypatch.setenv("REEL_GPU_LOCK", str(tmp_path / "gpu.lock"))
    s = get_settings()
    assert (s.gpu_device, s.gpu_slot_name, s.gpu_lock_path.name) == ("cuda:0", "gpu", "gpu.lock")
    assert s.device_for("video") == "cuda:0"
    monkeypatch.setenv("REEL_GPU", "1")
    s = get_settings()
    assert (s.gpu_device, s.gpu_slot_name, s.gpu_lock_path.name) == ("cuda:1", "gpu-1", "gpu-1.lock")
    assert s.device_for("video") == "cuda:1" and s.resident_lock_path.name == "gpu-1.resident"
    monkeypatch.setenv("REEL_DEVICE_VOICE", "cpu")
    assert get_settings().device_for("voice") == "cpu"


def test_two_workers_on_one_gpu_never_hold_heavy_models_at_once(tmp_path):
    log = tmp_path / "residency.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REEL_GPU_LOCK": str(tmp_path / "gpu.lock"),
           "REEL_SWAP_GRACE_S": "0.2"}
    work = [("w1", ["a violinist plays in a Brooklyn subway station at midnight",
                    "a baker shapes bread in a Paris kitchen at dawn"]),
            ("w2", ["a fisherman mends his nets in Lisbon at noon"])]
    procs = [subprocess.Popen([sys.executable, "-m", "tests.residency_worker", str(log), str(tmp_path / name),
                               *prompts], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, prompts in work]
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-3000:]
    resident: dict[str, set] = {}
    owners = []
    for line in log.read_text().splitlines():
        pid, event, role, _ = line.split()
        if event == "load":
            others = {p: r for p, r in resident.items() if p != pid and r}
            assert not others, f"{pid} loads {role} while {others} are resident: {line}"
            resident.setdefault(pid, set()).add(role)
            owners.append(pid)
        else:
            resident[pid].discard(role)
    assert not any(resident.values())
    assert len(set(owners)) == 2, "only one worker ever loaded a model"
    handovers = sum(a != b for a, b in zip(owners, owners[1:]))
    print(f"{len(owners)} loads, {handovers} hand-overs between the two workers")
    assert handovers >= 2, "the workers never took turns, so the test proved nothing"
