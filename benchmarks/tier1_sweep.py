"""Tier-1 false alarms on prompts no table was written for: each prompt planned by the offline
director, every shot's keyframe drawn by the animatic, its camera-move clip rendered untouched
(attempt 1, no fault injected), and the measured critic's verdict counted.

    python -m benchmarks.tier1_sweep [N_PROMPTS] [--shots all|insert]

An untouched clip shows its keyframe moved the way the shot asks, so every verdict should pass;
a failing one is a false alarm (each costs a wasted render of minutes on a GPU). Prints one line
per failure with its labels and measurements, then the totals, and the notes the critic wrote
(checks it skipped and why). The prompts are tests/data/everyday_prompts.json, both halves.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from models.cpu.camera_move import CameraMoveVideo, continues
from models.cpu.director import HeuristicDirector
from models.cpu.measured_critic import MeasuredCritic
from models.cpu.painter import AnimaticImage
from reel.presets import get_preset
from tasks.render import first_knobs

PROMPTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "everyday_prompts.json"


def sweep(n_prompts: int, inserts_only: bool = False, preset: str = "preview") -> dict:
    prompts = [p["prompt"] for p in json.loads(PROMPTS.read_text())["prompts"]][:n_prompts]
    director, painter, video, critic = HeuristicDirector(), AnimaticImage(), CameraMoveVideo(), MeasuredCritic()
    the_preset = get_preset(preset)
    size = the_preset.render_size
    counts, notes, failures = Counter(), Counter(), []
    started = time.perf_counter()
    for n, prompt in enumerate(prompts):
        plan = director.plan(prompt)
        work = Path(tempfile.mkdtemp(prefix="tier1-"))
        keys = []
        for shot in plan.shots:
            keys.append(work / f"key_{shot.index}.png")
            painter.keyframe(plan, shot, [], seed=shot.index, size=size, out=keys[-1])
        for shot in plan.shots:
            if inserts_only and shot.dominant_subject != "scene":
                continue
            i = shot.index
            end = keys[i + 1] if continues(plan, shot) else None
            knobs = first_knobs(plan, i, the_preset, seed=0)
            clip = work / f"clip_{i}.mp4"
            video.render(plan, shot, keys[i], end, knobs, clip)
            verdict = critic.critique(plan, shot, clip, keys[i], {}, knobs, end_frame=end)
            counts["clips"] += 1
            passed = verdict.passes(the_preset.pass_threshold)
            counts["passed" if passed else "failed"] += 1
            notes.update(note.split(":")[0] for note in verdict.notes)
            if not passed:
                failures.append(f"{prompt[:60]:60} shot {i} ({shot.shot_type}): overall {verdict.overall}; "
                                + "; ".join(f"{x.label.value if x.label else '-'} {x.detail}" for x in verdict.issues))
        print(f"[{n + 1}/{len(prompts)}] {counts['clips']} clips, {counts['failed']} failed "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    return {"counts": counts, "notes": notes, "failures": failures}


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv and argv[0].isdigit() else 30
    result = sweep(n, inserts_only="insert" in argv)
    print("\n".join(["", "failures (untouched clips):", *result["failures"]]) if result["failures"] else
          "\nno untouched clip failed tier 1")
    c = result["counts"]
    print(f"prompts {n}  clips {c['clips']}  passed {c['passed']}  failed {c['failed']}")
    for note, k in result["notes"].most_common():
        print(f"  skipped ({k}x): {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
