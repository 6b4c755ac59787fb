"""Where the preview's render time goes: for each shot of a finished reel, the camera-move clip made
again from its keyframe, timed by phase, beside a bare x264 encode of the very same frames.

    python -m benchmarks.animatic_render OUTPUTS/<reel-id>

Per clip: the frames alone (affine warps, hand-over dissolve and grain, in memory), the whole render
(frames piped into one libx264 encode) with its own and ffmpeg's CPU seconds, and the bare encode of
the same frames with the same settings (the floor no renderer of these frames can beat).
`animatic_render_figures` is the function a wider benchmark (`reel bench preview`) calls.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from models.cpu.camera_move import CameraMoveVideo, continues, encode_rgb
from reel.camera import camera_move
from reel.presets import get_preset
from reel.schema import Plan, RenderKnobs


def _cpu() -> tuple[float, float]:
    """(this process, its finished children) CPU seconds, user + system."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _knobs(plan: Plan, i: int, preset: str) -> RenderKnobs:
    p = get_preset(preset)
    return RenderKnobs(seed=i, prompt=plan.shots[i].prompt, negative_prompt="", frames=p.frames, fps=p.fps,
                       width=p.render_size[0], height=p.render_size[1], steps=0, flow_shift=5.0, guidance=1.0,
                       guidance_2=1.0)


def animatic_render_figures(reel_dir: Path, preset: str = "preview") -> list[dict[str, float | str]]:
    """One row per shot of the reel in reel_dir (its plan.json and keyframes/keyframe_N.png)."""
    plan = Plan.model_validate_json((reel_dir / "plan.json").read_text())
    video, rows = CameraMoveVideo(), []
    with tempfile.TemporaryDirectory() as tmp:
        for i, shot in enumerate(plan.shots):
            key = reel_dir / "keyframes" / f"keyframe_{i}.png"
            nxt = reel_dir / "keyframes" / f"keyframe_{i + 1}.png" if continues(plan, shot) else None
            k = _knobs(plan, i, preset)
            c0 = _cpu()
            frames = list(video.frames(plan, shot, key, nxt, k))
            c1, w1 = _cpu(), time.perf_counter()
            video.render(plan, shot, key, nxt, k, Path(tmp) / f"render_{i}.mp4")
            c2, w2 = _cpu(), time.perf_counter()
            encode_rgb(frames, k.width, k.height, k.fps, Path(tmp) / f"bare_{i}.mp4")
            c3, w3 = _cpu(), time.perf_counter()
            rows.append({"shot": i, "move": camera_move(shot.prompt) + (" +hand-over" if nxt else ""),
                         "frames_cpu_s": c1[0] - c0[0], "render_wall_s": w2 - w1,
                         "render_cpu_s": (c2[0] - c1[0]) + (c2[1] - c1[1]), "render_ffmpeg_cpu_s": c2[1] - c1[1],
                         "bare_encode_wall_s": w3 - w2, "bare_encode_cpu_s": c3[1] - c2[1]})
    return rows


def print_figures(rows: list[dict[str, float | str]]) -> None:
    cols = ["frames_cpu_s", "render_wall_s", "render_cpu_s", "render_ffmpeg_cpu_s", "bare_encode_wall_s",
            "bare_encode_cpu_s"]
    print(f"{'shot':>4} {'move':<22}" + "".join(f"{c:>20}" for c in cols))
    for r in rows:
        print(f"{r['shot']:>4} {r['move']:<22}" + "".join(f"{r[c]:>20.2f}" for c in cols))
    print(f"{'all':>4} {'':<22}" + "".join(f"{sum(r[c] for r in rows):>20.2f}" for c in cols))


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "plan.json").exists():
        sys.exit("usage: python -m benchmarks.animatic_render OUTPUTS/<reel-id>  (a finished preview reel's folder)")
    print_figures(animatic_render_figures(Path(sys.argv[1])))
