"""The `reel` command: make, plan, resume, doctor."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from reel.env import configure
from reel.errors import UserError


def _load_plan_file(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"plan file {path} not found; write one with `reel plan \"PROMPT\" > plan.json`")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"plan file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    from tasks.plan import parse_plan

    parse_plan(data, source=f"plan file {path}")
    return data


def cmd_make(args: argparse.Namespace) -> int:
    from reel.presets import for_aspect, get_preset

    from models.base import choose_backends

    # Fail fast on bad names, before Prefect starts.
    choose_backends(for_aspect(get_preset(args.preset), args.aspect).backends, args.backends)
    plan = _load_plan_file(args.plan) if args.plan else None
    if plan is None:
        from tasks.plan import check_prompt, check_shots

        check_prompt(args.prompt or "")
        check_shots(args.shots)
    return _run_reel(prompt=args.prompt or "", plan=plan, preset=args.preset, reel_id=args.reel_id,
                     aspect=args.aspect, seed=args.seed, root=args.out, backends=args.backends, n_shots=args.shots)


def _run_reel(**params) -> int:
    from flows.reel_flow import reel_flow

    started = time.time()
    print(f"making a reel (preset {params['preset']}) ...", flush=True)
    url = reel_flow(**params)
    print(f"done in {time.time() - started:.1f}s: {url}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from reel.settings import get_settings
    from reel.store import ArtifactStore

    root = args.out or get_settings().root
    store = ArtifactStore(root, args.reel_id)
    if not store.exists("request.json"):
        raise UserError(f"no reel {args.reel_id!r} under {root} (request.json missing); check the id and --out")
    request = store.read_json("request.json")
    return _run_reel(prompt=request["prompt"] or "", plan=request["plan"], preset=request["preset"],
                     reel_id=args.reel_id, aspect=request["aspect"], seed=request["seed"], root=root,
                     backends=request.get("backends"), n_shots=request.get("n_shots", 6))


def cmd_plan(args: argparse.Namespace) -> int:
    from models import base
    from reel.settings import get_settings
    from tasks.plan import check_prompt, check_shots

    director = base.create("director", get_settings().backend_for("director", args.director))
    plan = director.plan(check_prompt(args.prompt), n_shots=check_shots(args.shots), seed=args.seed)
    print(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.which == "memory":
        from benchmarks.memory import main as memory

        return memory(args.rest)
    if args.which in ("preview", "batch"):
        import importlib

        importlib.import_module(f"benchmarks.{args.which}").main(args.rest)
        return 0
    if args.rest:
        raise UserError(f"`reel bench schedule` takes no options (got {' '.join(args.rest)})")
    from benchmarks.schedule import main as schedule

    schedule()
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import run_checks

    return run_checks()


def parser() -> argparse.ArgumentParser:
    from reel.settings import get_settings

    s = get_settings()
    p = argparse.ArgumentParser(prog="reel", description="One sentence in, a finished ~30 s reel out.")
    sub = p.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a reel from a prompt or an edited plan")
    make.add_argument("prompt", nargs="?", default="", help="one sentence describing the reel")
    make.add_argument("--plan", help="render this plan.json instead of planning from a prompt")
    make.add_argument("--preset", default=s.preset, help=f"quality preset (default {s.preset})")
    make.add_argument("--reel-id", help="id of the reel (default: derived from the request)")
    make.add_argument("--out", default=None, help=f"artifact root, a folder or s3://bucket/prefix (default {s.root})")
    make.add_argument("--aspect", default="16:9", help="16:9 or 9:16")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--shots", type=int, default=6, help="number of shots (default 6)")
    make.add_argument("--verbose", action="store_true", help="show Prefect's own logs on the terminal")
    make.add_argument("--backends", default=None, help="backend family for every role: preview or gpu")
    make.set_defaults(func=cmd_make)

    plan = sub.add_parser("plan", help="print the director's plan as JSON")
    plan.add_argument("prompt")
    plan.add_argument("--shots", type=int, default=6)
    plan.add_argument("--seed", type=int, default=0)
    plan.add_argument("--director", default="heuristic", help="director backend (default heuristic)")
    plan.set_defaults(func=cmd_plan)

    resume = sub.add_parser("resume", help="continue a reel from its last good artifact")
    resume.add_argument("reel_id")
    resume.add_argument("--out", default=None)
    resume.add_argument("--verbose", action="store_true", help="show Prefect's own logs on the terminal")
    resume.set_defaults(func=cmd_resume)

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench.add_argument("which", choices=["schedule", "memory", "preview", "batch"],
                       help="schedule: model loads and GPU time, ours vs the seed's; "
                            "memory: the GPU memory plan (--gpu-gb 80 141 192); preview: where a preview reel's "
                            "time goes, beside an empty flow and a bare encode (--server: on a worker); "
                            "batch: model loads of a batch in one process vs reel after reel (--reels N)")
    bench.add_argument("rest", nargs=argparse.REMAINDER,
                       help="options of the benchmark (memory: --gpu-gb N ...; preview: --server, --shots N)")
    bench.set_defaults(func=cmd_bench)

    doctor = sub.add_parser("doctor", help="check ffmpeg, espeak, Prefect and the GPU stack")
    doctor.set_defaults(func=cmd_doctor)
    return p


def main(argv: list[str] | None = None) -> int:
    configure()
    args = parser().parse_args(argv)
    if args.command in ("make", "resume"):
        os.environ.setdefault("REEL_PROGRESS", "1")
        if not args.verbose:
            # Progress lines and one-line errors on the terminal; Prefect's logs still go to its API/UI.
            os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    try:
        return args.func(args)
    except UserError as exc:
        print(f"reel: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a failed run: say where it stopped and how to continue

        cause = exc
        while cause.__cause__ is not None and not isinstance(cause, UserError):
            cause = cause.__cause__
        if isinstance(cause, UserError):
            print(f"reel: error: {cause}", file=sys.stderr)
            return 2
        print(f"reel: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.command in ("make", "resume"):
            print("reel: finished stages are kept; run the same command again (or `reel resume <id>`) to continue",
                  file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
