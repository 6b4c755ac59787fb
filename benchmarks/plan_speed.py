"""How long `reel plan PROMPT` takes from a cold start, beside its floors: a bare interpreter
(`python -c pass`) and the English parser's own import and load (spaCy with the pipeline the
preview director reads with, loaded the way the director loads it); for reference, the same
pipeline loaded plainly (thinc importing torch, every spaCy plugin's factories). Each is a fresh process,
run `--runs` times; wall and CPU (user + system) seconds, the best run of each.

    python -m benchmarks.plan_speed            # or: reel bench plan
    python -m benchmarks.plan_speed --runs 5 --prompt "a monk sweeps temple steps in the snow"

The target (issue 18): `reel plan` under 3 s on two cores, the parser's load included. On a
shared machine the wall figure carries other processes' load; the CPU figure does not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

PROMPT = "a beekeeper lifts a honeycomb frame in a lavender field in Provence at noon"
PARSER = "from models.cpu.director.reading import _nlp; _nlp()"
PLAIN = "import spacy; from models.cpu.director.reading import EXCLUDE, PIPELINE; spacy.load(PIPELINE, exclude=EXCLUDE)"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process; it must exit 0."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode:
        raise SystemExit(f"{' '.join(argv[:3])} ... failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="reel bench plan", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--prompt", default=PROMPT)
    args = p.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("REEL_ROOT", tempfile.mkdtemp(prefix="reel-bench-plan-"))
    python = sys.executable
    rows = {
        "python -c pass (floor)": [python, "-c", "pass"],
        "spaCy import + load (floor)": [python, "-c", PARSER],
        "spaCy plain load (torch, plugins)": [python, "-c", PLAIN],
        "reel plan PROMPT": [python, "-m", "app.cli", "plan", args.prompt],
    }
    print(f"{'command':32} {'wall s':>8} {'cpu s':>8}   (best of {args.runs}, cores: {len(os.sched_getaffinity(0))})")
    for name, cmd in rows.items():
        runs = [timed(cmd, env) for _ in range(max(1, args.runs))]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{name:32} {wall:8.2f} {cpu:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
