"""The preview benchmark's meters (the benchmark itself is `reel bench preview`: it prints figures,
no test times it)."""

from __future__ import annotations

import os
import subprocess
import threading

from benchmarks import preview
from reel.media import ffmpeg_exe


def test_covered_counts_overlapping_stage_bodies_once():
    spans = [preview.Span("a", 0, 4), preview.Span("b", 2, 6), preview.Span("c", 8, 9), preview.Span("d", 8.5, 20)]
    assert preview.covered(spans, 0, 10) == 8.0  # [0, 6] and [8, 10]
    assert preview.covered([], 0, 10) == 0.0


def test_a_stage_body_is_charged_the_cpu_of_the_processes_it_runs():
    """ffmpeg encoding a second of noise, run from a measured body in another thread (as the flows
    run stages): its CPU lands on that body, not on the thread that merely waits for it."""
    preview._meter.reset()
    saved = os.waitpid
    os.waitpid = preview._waitpid_counting
    try:
        def encode() -> None:
            subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "nullsrc=s=640x360:d=1,noise=alls=40",
                            "-c:v", "libx264", "-preset", "medium", "-f", "null", "-"], check=True)

        body = preview._measured("render", encode)
        t = threading.Thread(target=body)
        t.start()
        t.join()
        preview._measured("plan", lambda: None)()
    finally:
        os.waitpid = saved
    render, plan = preview._meter.spans
    assert render.stage == "render" and render.cpu > 0.05 and render.end > render.start
    assert plan.stage == "plan" and plan.cpu < render.cpu
