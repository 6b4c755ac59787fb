"""Tier-1 false alarms and catches on prompts no table was written for: each prompt planned by the
offline director, every shot's keyframe drawn by the animatic, its camera-move clip rendered untouched
(attempt 1, no fault injected) and with each fault the critic must catch, and the measured critic's
verdicts counted per half of the prompts.

    python -m benchmarks.tier1_sweep [N_PROMPTS] [skip=K] [insert] [untouched] [dev|held-out] [save] [clips=DIR]

N_PROMPTS: how many prompts of each half (default all), after the first K; insert: judge only the
shots without a character (inserts and wide views, where low-structure pictures live); untouched: no
faults injected (false alarms only, 4x quicker); dev / held-out: one half only;
save: write the figures to benchmarks/tier1_sweep.json, which later runs print beside theirs;
clips=DIR: keep every keyframe and clip under DIR and reuse them when there (a changed critic judged
on the same clips: only the critique runs).

An untouched clip shows its keyframe moved the way the shot asks, so every verdict should pass: a
failing one is a false alarm (each costs a wasted render of minutes on a GPU). Each judged shot is
also spoiled four ways, and each spoiled clip must fail: frozen, ignore_camera and drift (as the
faulty video backend renders them, models.cpu.faulty_video) and wrong_keyframe (the untouched clip
judged against the keyframe of a shot framed unlike it). Prints one line per
false alarm and per missed fault, then the counts per half beside the saved run's, and the notes the
critic wrote (checks it skipped and why). The prompts are tests/data/everyday_prompts.json, split once
by reel.ids.half (the split tests/test_fidelity.py prints).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from models.cpu.camera_move import continues
from models.cpu.director import HeuristicDirector
from models.cpu.faulty_video import FAULTS, FaultyVideo
from models.cpu.painter import AnimaticImage
from models.measured.measured_critic import MeasuredCritic
from reel.ids import digest, half
from reel.presets import get_preset
from tasks.render import first_knobs

PROMPTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "everyday_prompts.json"
SAVED = Path(__file__).resolve().with_suffix(".json")
HALVES = ("dev", "held-out")


def judge_prompt(prompt: str, inserts_only: bool, clips: Path | None = None, faults: bool = True,
                 preset: str = "preview") -> dict[str, bool]:
    """{'<shot> <case>': passed} for one prompt: case 'untouched' should pass, every fault should fail.
    clips: a folder to keep keyframes and clips in (one subfolder per prompt), reused when there."""
    director, painter, critic = HeuristicDirector(), AnimaticImage(), MeasuredCritic()
    the_preset = get_preset(preset)
    plan = director.plan(prompt)
    work = Path(tempfile.mkdtemp(prefix="tier1-")) if clips is None else clips / digest(prompt, 12)
    work.mkdir(parents=True, exist_ok=True)
    (work / "prompt.txt").write_text(prompt + "\n")

    def key(i: int) -> Path:  # drawn when first needed: a sweep of inserts needs few of them
        path = work / f"key_{i}.png"
        if not path.exists():
            painter.keyframe(plan, plan.shots[i], [], seed=i, size=the_preset.render_size, out=path)
        return path

    results = {}
    for shot in plan.shots:
        if inserts_only and shot.dominant_subject != "scene":
            continue
        i = shot.index
        end = key(i + 1) if continues(plan, shot) else None
        knobs = first_knobs(plan, i, the_preset, seed=0)
        other = key(unlike(plan, i))
        for case in ("untouched", *FAULTS, "wrong_keyframe") if faults else ("untouched",):
            # wrong_keyframe: the untouched clip, judged against another shot's keyframe
            clip = work / f"clip_{i}_{'untouched' if case == 'wrong_keyframe' else case}.mp4"
            if not clip.exists():
                FaultyVideo("" if case == "untouched" else f"{i}:{knobs.attempt}:{case}").render(
                    plan, shot, key(i), end, knobs, clip)
            verdict = critic.critique(plan, shot, clip, other if case == "wrong_keyframe" else key(i), {}, knobs,
                                      end)
            passed = verdict.passes(the_preset.pass_threshold)
            results[f"{i} {shot.shot_type} | {case}"] = passed
            if passed == (case != "untouched"):
                print(f"  {'FALSE ALARM' if case == 'untouched' else 'MISSED ' + case}: {prompt[:50]} shot {i} "
                      f"({shot.shot_type}): overall {verdict.overall}; "
                      + "; ".join(x.detail[:140] for x in verdict.issues), flush=True)
            for note in verdict.notes:
                results.setdefault(f"note | {note.split(':')[0]}", True)
    return results


def unlike(plan, i: int) -> int:
    """Another shot of the plan framed unlike shot i (no word of their shot types in common): its
    keyframe is a different picture. Two wide shots of one setting are drawn near-identical by the
    animatic (configs/qc_thresholds.json, structure), so a wide's clip on the other wide's keyframe
    shows nothing wrong to catch."""
    words = lambda s: set(s.shot_type.lower().split())  # noqa: E731
    return next((s.index for s in plan.shots if s.index != i and not words(s) & words(plan.shots[i])),
                1 if i == 0 else 0)


def tally(results: dict[str, dict[str, bool]]) -> Counter:
    """Counts over {prompt: {'shot | case': passed}}: untouched clips and false alarms, faults and catches."""
    c = Counter()
    for per_prompt in results.values():
        for key, passed in per_prompt.items():
            case = key.split(" | ")[1]
            if key.startswith("note"):
                c[f"note: {case}"] += 1
            elif case == "untouched":
                c["clips"] += 1
                c["false alarms"] += not passed
            else:
                c["faults"] += 1
                c["caught"] += not passed
                c[f"{case} faults"] += 1
                c[f"{case} caught"] += not passed
    return c


def sweep(n_prompts: int | None, inserts_only: bool, halves: tuple[str, ...], clips: Path | None = None,
          faults: bool = True, skip: int = 0) -> dict[str, dict]:
    rows = json.loads(PROMPTS.read_text())["prompts"]
    out = {}
    started = time.perf_counter()
    for h in halves:
        prompts = [r["prompt"] for r in rows if half(r["prompt"]) == h][skip:][:n_prompts]
        out[h] = {}
        for n, prompt in enumerate(prompts):
            out[h][prompt] = judge_prompt(prompt, inserts_only, clips, faults)
            c = tally(out[h])
            print(f"[{h} {n + 1}/{len(prompts)}] {c['clips']} untouched clips, {c['false alarms']} false alarms; "
                  f"{c['caught']}/{c['faults']} faults caught ({time.perf_counter() - started:.0f} s)", flush=True)
    return out


def report(results: dict[str, dict], saved: dict[str, dict]) -> list[str]:
    """Counts per half beside the saved run's on the same prompts and shots, and the faults it caught
    that this run misses."""
    lines = []
    for h, per_prompt in results.items():
        now = tally(per_prompt)
        before_runs = {p: saved.get(h, {}).get(p) for p in per_prompt}
        comparable = all(before_runs.values())
        before = tally(before_runs) if comparable else Counter()
        was = (lambda k: f"  (saved run {before[k]})") if comparable else (lambda k: "")
        lines += [f"{h}: {len(per_prompt)} prompts",
                  f"  untouched clips {now['clips']}, false alarms {now['false alarms']}{was('false alarms')}",
                  f"  faults caught {now['caught']}/{now['faults']}{was('caught')}"]
        lines += [f"    {f}: {now[f + ' caught']}/{now[f + ' faults']}{was(f + ' caught')}"
                  for f in (*FAULTS, "wrong_keyframe")]
        if comparable:
            lost = [f"{p[:50]} / {k}" for p, r in per_prompt.items() for k, passed in r.items()
                    if not k.startswith("note") and "untouched" not in k and passed and not before_runs[p].get(k, True)]
            lines += [f"  caught by the saved run, missed now: {len(lost)}", *(f"    {x}" for x in lost)]
        lines += [f"  {k} ({v} prompts)" for k, v in now.items() if k.startswith("note: ")]
    return lines


def main(argv: list[str]) -> int:
    n = next((int(a) for a in argv if a.isdigit()), None)
    halves = tuple(h for h in HALVES if h in argv) or HALVES
    inserts_only = "insert" in argv
    clips = next((Path(a.split("=", 1)[1]) for a in argv if a.startswith("clips=")), None)
    skip = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("skip=")), 0)
    results = sweep(n, inserts_only, halves, clips, "untouched" not in argv, skip)
    mode = "insert" if inserts_only else "all"
    saved = json.loads(SAVED.read_text()).get(mode, {}) if SAVED.exists() else {}
    print("\n" + "\n".join(report(results, saved)))
    if "save" in argv:
        table = json.loads(SAVED.read_text()) if SAVED.exists() else {}
        for h, per_prompt in results.items():
            table.setdefault(mode, {}).setdefault(h, {}).update(per_prompt)
        SAVED.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
        print(f"saved to {SAVED}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
