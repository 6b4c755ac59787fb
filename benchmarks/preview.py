"""Where a preview reel's time goes, beside the floors it is measured against: one cold and one
cached reel in this process, an empty Prefect flow and a bare ffmpeg encode of the same output
(same codec settings as the mix), each stage's wall and CPU seconds, Prefect's own overhead
(the reel's wall minus the time some stage body was running) and the peak RSS.

    python -m benchmarks.preview              # or: reel bench preview
    python -m benchmarks.preview --server     # against PREFECT_API_URL: a deployment run on a worker

`--server` needs a running server, the `reel/preview` deployment and a worker on its pool
(`make server deploy worker`); the reel's root is a fresh folder, so the worker must share this
machine's disk (or pass --root s3://...).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROMPT = "a violinist plays in a Brooklyn subway station at midnight"
STAGES = ("plan", "master", "keyframe", "render", "critique", "music", "voice", "mix")


@dataclass
class Span:
    stage: str
    start: float
    end: float
    cpu: float = 0.0


@dataclass
class Meter:
    """Stage bodies' wall intervals and CPU seconds (their thread plus the processes they ran)."""

    spans: list[Span] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.spans.clear()


_meter = Meter()
_tls = threading.local()
_real_waitpid = os.waitpid


def _waitpid_counting(pid: int, options: int):
    """os.waitpid that also adds the child's CPU time to the waiting thread's tally: subprocess
    reaps ffmpeg through os.waitpid, and wait4 is the same call with the child's rusage."""
    if pid <= 0:
        return _real_waitpid(pid, options)
    got, status, usage = os.wait4(pid, options)
    tally = getattr(_tls, "children", None)
    if got and tally is not None:
        tally[0] += usage.ru_utime + usage.ru_stime
    return got, status


def _measured(stage_name: str, fn):
    def body(*args, **kwargs):
        outer = getattr(_tls, "children", None)
        _tls.children = [0.0]
        cpu0, t0 = time.thread_time(), time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            span = Span(stage_name, t0, time.time(), time.thread_time() - cpu0 + _tls.children[0])
            _tls.children = outer
            with _meter.lock:
                _meter.spans.append(span)

    body.__wrapped__ = fn
    return body


def instrument() -> None:
    """Wrap every stage task's body with the meter (the Task objects the flows call)."""
    from tasks import critique, keyframes, masters, mix, music, plan, render, voice

    os.waitpid = _waitpid_counting
    for t in (plan.plan_stage, masters.master_stage, keyframes.keyframe_stage, render.render_stage,
              critique.critique_stage, music.music_stage, voice.voice_stage, mix.mix_stage):
        if not hasattr(t.fn, "__wrapped__"):
            t.fn = _measured(t.name, t.fn)


def covered(spans: list[Span], start: float, end: float) -> float:
    """Seconds of [start, end] during which at least one stage body was running."""
    total, cursor = 0.0, start
    for s in sorted(spans, key=lambda s: s.start):
        lo, hi = max(s.start, cursor), min(s.end, end)
        if hi > lo:
            total += hi - lo
            cursor = hi
    return total


def cpu_now() -> float:
    """CPU seconds of this process and every child it waited for (ffmpeg), so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def server_cpu_now() -> float:
    """CPU seconds so far of the child processes still running: the ephemeral Prefect server
    (its work for our API calls is Prefect overhead too, but happens outside this process)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


class TreeRss:
    """Peak resident memory of this process plus its children (ffmpeg, the ephemeral Prefect
    server), sampled every 0.2 s while running; ru_maxrss alone cannot see the children, and a
    child's own maxrss counts the parent's pages it had before exec."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def bare_encode(src: Path, out: Path) -> tuple[float, float]:
    """Re-encode the finished reel with the mix's codec settings (x264 veryfast crf 18 yuv420p,
    AAC 192k 48 kHz, faststart): the floor of any reel of that length. Wall and CPU seconds."""
    from reel.media import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-i", str(src), "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-crf", "18", "-preset", "veryfast", "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
           "-movflags", "+faststart", str(out)]
    t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.time() - t0, (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)


def _reel(root: str, shots: int) -> dict:
    from flows.reel_flow import reel_flow
    from reel.manifest import MANIFEST
    from flows.request import ReelRequest

    request = ReelRequest(prompt=PROMPT, preset="preview", root=root, n_shots=shots)
    _meter.reset()
    t0, c0, s0 = time.time(), cpu_now(), server_cpu_now()
    reel_flow(**request.model_dump())
    wall, cpu, server_cpu = time.time() - t0, cpu_now() - c0, server_cpu_now() - s0
    ref = request.ref()
    manifest = ref.store().read_json(MANIFEST)
    spans = list(_meter.spans)
    return {"wall": wall, "cpu": cpu, "server_cpu": server_cpu, "spans": spans, "busy": covered(spans, t0, t0 + wall),
            "cached": sum(s["cached"] for s in manifest["stages"]), "n_stages": len(manifest["stages"]),
            "final": ref.store().local_path(manifest["final"])}


def _empty_flow() -> float:
    from prefect import flow

    @flow(name="empty", persist_result=False)
    def empty() -> None:
        return None

    t0 = time.time()
    empty()
    return time.time() - t0


def local(shots: int) -> None:
    t0 = time.time()
    import prefect  # noqa: F401 - its import is part of every reel's start-up

    t_import = time.time() - t0
    t_first = _empty_flow()
    t_empty = min(_empty_flow() for _ in range(3))
    instrument()
    with tempfile.TemporaryDirectory(prefix="reel-bench-") as root:
        with TreeRss() as tree:
            cold = _reel(root, shots)
        rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cached = _reel(root, shots)
        enc_wall, enc_cpu = bare_encode(cold["final"], Path(root) / "bare.mp4")

    print(f"preview reel, {shots} shots, {os.cpu_count()} CPUs "
          f"(load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"  import prefect                 {t_import:7.1f} s")
    print(f"  first empty flow (start-up)    {t_first:7.1f} s")
    print(f"  empty Prefect flow (warm)      {t_empty:7.2f} s")
    print(f"  bare encode of the same reel   {enc_wall:7.1f} s wall {enc_cpu:7.1f} s CPU")
    print()
    print(f"  {'stage':<10} {'n':>3} {'wall s':>8} {'CPU s':>8}   (cold; cached re-run: every stage's body skipped)")
    for name in STAGES:
        spans = [s for s in cold["spans"] if s.stage == name]
        print(f"  {name:<10} {len(spans):>3} {sum(s.end - s.start for s in spans):>8.1f} "
              f"{sum(s.cpu for s in spans):>8.1f}")
    for label, r in (("cold", cold), ("cached", cached)):
        overhead = r["wall"] - r["busy"]
        print(f"  {label:<6} reel: wall {r['wall']:6.1f} s, CPU {r['cpu']:6.1f} s (stage bodies "
              f"{sum(s.cpu for s in r['spans']):.1f}) + Prefect server {r['server_cpu']:.1f} s, "
              f"some stage running {r['busy']:5.1f} s, "
              f"Prefect overhead {overhead:5.1f} s ({100 * overhead / r['wall']:.0f}%), "
              f"{r['cached']}/{r['n_stages']} stages cached")
    print(f"  cold reel / bare encode        {cold['wall'] / enc_wall:7.1f} x   (target <= 5)")
    print(f"  cached re-run - empty flow     {cached['wall'] - t_empty:7.1f} s   (target <= 3)")
    print(f"  peak RSS of the cold reel: this process {rss_self:.0f} MB; with its children (ffmpeg, Prefect "
          f"server) {tree.peak_mb:.0f} MB   (target <= 1500)")


def server(shots: int, root: str | None, deployment: str) -> None:
    """One cold and one cached run of the deployment on a worker. From the run's own states: the
    worker's pickup (Scheduled -> Pending), the process start (Pending -> Running) and the run
    (Running -> Completed); Prefect's overhead in the run is the run minus the stage bodies in its
    manifest, and from submit it adds the pickup and the process start."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    from reel.manifest import MANIFEST
    from flows.request import ReelRequest

    if not os.environ.get("PREFECT_API_URL"):
        raise SystemExit("--server needs PREFECT_API_URL pointing at a running server (make server deploy worker)")
    with tempfile.TemporaryDirectory(prefix="reel-bench-") as tmp:
        root = root or tmp
        print(f"deployment {deployment}, {shots} shots, against {os.environ['PREFECT_API_URL']} "
              f"({os.cpu_count()} CPUs)")
        for label in ("cold", "cached"):
            t0 = time.time()
            run = run_deployment(deployment, parameters={"prompt": PROMPT, "root": root, "n_shots": shots},
                                 timeout=1800, poll_interval=0.5)
            if not run.state.is_completed():
                raise SystemExit(f"{run.name} ended {run.state.name}: {run.state.message}")
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(run.id)
                states = client.read_flow_run_states(run.id)
            picked = min(s.timestamp.timestamp() for s in states if s.type.value == "PENDING")
            manifest = ReelRequest(prompt=PROMPT, preset="preview", root=root, n_shots=shots).ref().store().read_json(
                MANIFEST)
            spans = [Span(s["stage"], s["started"], s["ended"]) for s in manifest["stages"] if not s["cached"]]
            start, end = run.start_time.timestamp(), run.end_time.timestamp()
            busy = covered(spans, start, end)
            # Done is when the run reached Completed (what the UI shows), not when this poll noticed.
            wall, ran, in_run = end - t0, end - start, end - start - busy
            print(f"  {label:<6} submit -> Completed {wall:5.1f} s = worker pickup {picked - t0:4.1f} s + process "
                  f"start {start - picked:4.1f} s + run {ran:5.1f} s (load average {os.getloadavg()[0]:.1f})")
            print(f"         some stage running {busy:5.1f} s; Prefect overhead in the run {in_run:4.1f} s "
                  f"({100 * in_run / ran:.0f}% of the run; target <= 10% cold), from submit {wall - busy:4.1f} s "
                  f"({100 * (wall - busy) / wall:.0f}%)")


def main(argv: list[str] | None = None) -> None:
    from reel.env import configure

    configure()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    p = argparse.ArgumentParser(prog="reel bench preview")
    p.add_argument("--server", action="store_true", help="run the deployment on a worker of PREFECT_API_URL")
    p.add_argument("--shots", type=int, default=6)
    p.add_argument("--root", default=None, help="--server: artifact root the worker can reach (default: a temp dir)")
    p.add_argument("--deployment", default="reel/preview")
    args = p.parse_args(argv)
    if args.server:
        server(args.shots, args.root, args.deployment)
    else:
        local(args.shots)


if __name__ == "__main__":
    main()
