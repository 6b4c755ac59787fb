"""The GPU memory plan (real configs, real classes on the meta device), the model host's residency
decisions from it, the hand-over between models, and one owner per GPU across real processes."""

from __future__ import annotations

import os
import re
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
    assert "does not fit" in row["24"]["video"] and "does not fit" in row["24"]["director"]
    # Each mode passed over is named with its figures; the allocator's reserve is what tips Wan over:
    # FP8 offloaded on 24 GiB and bf16 resident on 80 GiB fit on weights + activations, not with it.
    assert re.search(r"offload fp8 needs [\d.]+ GiB weights \+ [\d.]+ activations \+ [\d.]+ allocator reserve = "
                     r"[\d.]+ > 22\.5 usable \(fits without the reserve the allocator keeps\)", cards["24"])
    assert "offload" in row["80"]["video"]
    assert re.search(r"not resident bf16 needs 64\.3 GiB weights \+ 7\.3 activations \+ 10\.5 allocator reserve = "
                     r"82\.1 > 78\.5 usable \(fits without the reserve", cards["80"])
    assert "resident, fp8" in row["80"]["critic"] and "resident, fp8" in row["80"]["director"]
    assert "resident, bf16" in row["141"]["critic"] and "resident, bf16" in row["141"]["video"]
    assert "video+critic" in cards["192"] and "video+critic" not in cards["80"]
    assert "video+voice" in cards["80"]  # Kokoro stays with the video model instead of evicting it
    assert "gpu_memory_utilization=0.90" not in cards["141"]  # the plan's share, not vLLM's blanket default


def test_the_qwen_formula_counts_what_the_meta_model_holds():
    """The fallback for an install without the class must agree with the class itself."""
    from runtime import memory_plan

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

    @property
    def holds_compiled(self) -> bool:  # as Wan22Video says while its compiled expert is loaded
        return PlannedVideo.compiled is not None

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
    from models import base
    from runtime import host

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


def test_host_keeps_what_fits_on_the_card_and_loads_each_model_as_planned(planned, monkeypatch, caplog):
    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "141")
    video = _use(host, "video")
    assert not video.offload and not video.fp8  # 64 GiB of bf16 weights resident on a 141 GiB card
    host.unload_all()
    EVENTS.clear()
    monkeypatch.setenv("REEL_GPU_GB", "80")
    with caplog.at_level("INFO", logger="runtime.host"):
        video = _use(host, "video")
    # 64.3 GiB of bf16 weights + 7.3 of activations fit 80 GiB; with the 10.5 GiB the allocator keeps
    # reserved they do not, so the experts take turns on the card (model CPU offload), and the log says why.
    assert video.offload and not video.fp8
    assert ("the video model loads offload, because resident bf16 needs 64.3 GiB weights + 7.3 activations + "
            "10.5 allocator reserve = 82.1 > 78.5 usable (fits without the reserve the allocator keeps)") in caplog.messages
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
    with caplog.at_level("WARNING", logger="runtime.host"):
        video = _use(host, "video")
    assert video.offload and video.fp8  # a 24 GiB card: model CPU offload with FP8 weights, its smallest form
    assert any(m.startswith("the video model may not fit this card; loading it FP8 and offloaded anyway (resident bf16 "
                            "needs") for m in caplog.messages)
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

    from runtime.cpu_calls import InTurn

    queue, served = InTurn(), []
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


def _compiled_video(monkeypatch, fn) -> list:
    """A real torch.compile of `fn` as the stand-in video model's compiled graph; returns the list
    that gets one entry per compile (a backend that counts, then runs the traced graph)."""
    import torch

    compiles = []

    def counting_backend(gm, example_inputs):
        compiles.append(len(example_inputs))
        return gm.forward

    monkeypatch.setattr(PlannedVideo, "compiled", torch.compile(fn, backend=counting_backend))
    return compiles


def test_a_load_waits_for_the_memory_then_compiled_state_is_reset(planned, monkeypatch):
    import torch

    from runtime import memory_plan

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    compiles = _compiled_video(monkeypatch, lambda x: torch.sin(x) * 2)
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
        # 69 GiB while loaded and for 3 s after its unload (as a real driver does until the
        # allocator and a dying worker hand the memory back).
        busy = ("loaded", "video") in EVENTS and (not unloaded_at or time.monotonic() - unloaded_at[0] < 3.0)
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


def test_unloading_another_model_keeps_a_resident_compiled_experts_graphs(planned, monkeypatch):
    """dynamo's caches are process-wide: unloading the voice model beside a resident compiled video
    model must not reset them (the next render would recompile for minutes)."""
    import torch

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    compiles = _compiled_video(monkeypatch, lambda x: torch.cos(x) * 3)
    _use(host, "video")  # its load runs the compiled function once
    _use(host, "voice")  # fits beside it on 80 GiB
    host.unload("voice", "planned")
    assert ("unloaded", "voice") in EVENTS and ("unloaded", "video") not in EVENTS
    PlannedVideo.compiled(torch.ones(3))
    assert len(compiles) == 1  # still the first graph: no dynamo reset while the compiled model stays


def test_the_allocator_cache_is_emptied_before_waiting_for_memory(planned, monkeypatch):
    """The video model's unload leaves its blocks in this process's caching allocator; the host empties
    it before it looks at the free memory, so the critic's vLLM starts at once instead of waiting."""
    import torch

    from runtime import memory_plan

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    monkeypatch.setenv("REEL_MEMORY_WAIT_S", "1")
    cached = {"gib": 0.0}
    # The fakes are the CUDA device (there is none here): 69 GiB reserved by the allocator after the
    # video model's unload until torch.cuda.empty_cache() hands them back.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: cached.update(gib=0.0))
    monkeypatch.setattr(memory_plan, "_mem_get_info",
                        lambda device: ((80 - 1 - cached["gib"]) * memory_plan.GIB, 80 * memory_plan.GIB))
    _use(host, "video")
    cached["gib"] = 69.0  # what Wan's run left reserved
    host.events.clear()
    _use(host, "critic")
    assert [e[0] for e in host.events] == ["unload", "load"], host.events  # no wait: the cache went back first


def test_a_load_that_never_gets_its_memory_says_so(planned, monkeypatch):
    from runtime import memory_plan
    from runtime.residency import GpuBusy

    host = planned
    monkeypatch.setenv("REEL_GPU_GB", "80")
    monkeypatch.setenv("REEL_MEMORY_WAIT_S", "1")
    # The one fake, as above: a CUDA card where another program keeps 70 of 80 GiB.
    monkeypatch.setattr(memory_plan, "_mem_get_info", lambda device: (10 * memory_plan.GIB, 80 * memory_plan.GIB))
    with pytest.raises(GpuBusy, match=r"cuda:0 still has only 10.0 GiB free after 1 s; the video model needs"):
        _use(host, "video")
    assert ("loaded", "video") not in EVENTS


def test_a_timed_out_worker_takes_its_whole_process_group_with_it(tmp_path):
    from models.gpu.vllm_worker import run_until_reply

    pids = tmp_path / "pids"
    script = ("import os, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
              "time.sleep(120)\n")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_until_reply([sys.executable, "-c", script], tmp_path / "never.json", timeout=3)
    assert time.monotonic() - started < 30
    for pid in map(int, pids.read_text().split()):  # the worker and its EngineCore-like child
        assert not _alive(pid), f"process {pid} survived the timeout"


def test_a_worker_that_wrote_its_reply_is_not_waited_for(tmp_path):
    """vLLM's teardown can hang after the answer is in: the parent returns within the grace and ends
    the worker's process group (its EngineCore-like child too), instead of waiting up to 30 min."""
    from models.gpu.vllm_worker import run_until_reply

    pids, reply = tmp_path / "pids", tmp_path / "reply.json"
    script = ("import os, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
              f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
              f"open({str(reply) + '.part'!r}, 'w').write('{{}}'); os.replace({str(reply) + '.part'!r}, {str(reply)!r})\n"
              "time.sleep(120)\n")  # a shutdown that never ends
    started = time.monotonic()
    code = run_until_reply([sys.executable, "-c", script], reply, timeout=300, grace=1.0)
    assert code is None and reply.exists()
    assert time.monotonic() - started < 20
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), f"process {pid} survived its reply"


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


# ---------------------------------------------------------------- a server on the same card


def test_a_vllm_server_on_this_machine_is_part_of_the_plan(monkeypatch):
    """An `openai` critic pointed at a `vllm serve` on localhost: the server's share of the card (read
    from its real /metrics over HTTP) is not ours, so the video model is planned for the rest
    (offloaded on 141 GiB) instead of waiting 900 s for memory the server never gives back.
    REEL_EXTERNAL_GPU_GB wins; a server elsewhere holds nothing of this card."""
    import http.server
    import threading

    from runtime import external_gpu, host

    metrics = ('# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n'
               'vllm:cache_config_info{block_size="16",cache_dtype="auto",gpu_memory_utilization="0.64",'
               'num_gpu_blocks="4000"} 1.0\n')

    class Metrics(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = metrics.encode() if self.path == "/metrics" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    external_gpu.served_share.cache_clear()
    try:
        monkeypatch.setenv("REEL_GPU_GB", "141")
        monkeypatch.setenv("REEL_BACKEND_CRITIC", "openai")
        monkeypatch.setenv("REEL_OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
        card = host.plan()
        assert card.gpu_gib == pytest.approx(141 - 0.64 * 141)
        assert card.stage("video").mode == "offload"  # 64 GiB of experts do not fit beside the server
        monkeypatch.setenv("REEL_EXTERNAL_GPU_GB", "5")
        assert host.plan().gpu_gib == 136 and host.plan().stage("video").mode == "resident"
        monkeypatch.delenv("REEL_EXTERNAL_GPU_GB")
        monkeypatch.setenv("REEL_OPENAI_BASE_URL", "http://10.1.2.3:8000/v1")  # another machine's card
        assert host.plan().gpu_gib == 141
    finally:
        server.shutdown()
        external_gpu.served_share.cache_clear()
