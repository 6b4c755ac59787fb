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
        what = "is a folder, not a file" if p.is_dir() else "not found"
        raise UserError(f"plan file {path} {what}; write one with `reel plan \"PROMPT\" > plan.json`")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except PermissionError:
        raise UserError(f"plan file {path} cannot be read (permission denied); check its permissions") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"plan file {path} is not UTF-8 text (byte {exc.start}); a plan is the JSON that "
                        "`reel plan \"PROMPT\" > plan.json` writes, saved as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"plan file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    from tasks.plan import parse_plan

    parse_plan(data, source=f"plan file {path}")
    return data


def cmd_make(args: argparse.Namespace) -> int:
    from reel.delivery import delivery_for
    from reel.ids import check_reel_id
    from reel.presets import for_aspect, get_preset, with_length

    from models.base import choose_backends

    # Fail fast on bad names, before Prefect starts.
    if args.reel_id is not None:
        check_reel_id(args.reel_id)
    choose_backends(for_aspect(get_preset(args.preset), args.aspect).backends, args.backends)
    delivery_for(args.aspect, args.loudness, args.subtitles)
    plan = _load_plan_file(args.plan) if args.plan else None
    with_length(get_preset(args.preset), len(plan["shots"]) if plan else args.shots, args.seconds, args.shot_seconds)
    if plan is not None:
        _say_plan_edits(plan, args)
    if plan is None:
        from tasks.plan import check_prompt, check_shots

        check_prompt(args.prompt or "")
        check_shots(args.shots)
    return _run_reel(prompt=args.prompt or "", plan=plan, preset=args.preset, reel_id=args.reel_id,
                     aspect=args.aspect, seed=args.seed, root=args.out, backends=args.backends, n_shots=args.shots,
                     loudness=args.loudness, subtitles=args.subtitles, seconds=args.seconds,
                     shot_seconds=args.shot_seconds, review=args.review)


def _say_plan_edits(plan: dict, args: argparse.Namespace) -> None:
    """Before rendering an edited plan: which shots differ from the plan already in that reel."""
    from app.plan_edits import describe
    from reel.records import ReelRef

    ref = ReelRef.for_request("", plan, args.preset, args.reel_id, args.aspect, args.seed, args.out, args.shots)
    store = ref.store()
    old = store.read_json("plan.json") if store.exists("plan.json") else None
    print(f"  reel {ref.reel_id}: {describe(old, plan)}", flush=True)


def _run_reel(**params) -> int:
    from reel.writable import require_writable

    require_writable(params["root"])  # before Prefect starts: its home is one of the folders
    from flows.reel_flow import reel_flow

    started = time.time()
    print(f"making a reel (preset {params['preset']}) ...", flush=True)
    from prefect.exceptions import CancelledRun

    try:
        url = reel_flow(**params)
    except CancelledRun:
        print("reel cancelled at the storyboard review; finished stages are kept")
        return 1
    print(f"done in {time.time() - started:.1f}s: {url}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from reel.settings import get_settings
    from reel.store import ArtifactStore

    root = args.out or get_settings().root
    store = ArtifactStore(root, args.reel_id)  # refuses an id that is not one safe folder name
    if not store.exists("request.json"):
        raise UserError(f"no reel {args.reel_id!r} under {root} (request.json missing); check the id and --out")
    request = store.read_json("request.json")
    return _run_reel(prompt=request["prompt"] or "", plan=request["plan"], preset=request["preset"],
                     reel_id=args.reel_id, aspect=request["aspect"], seed=request["seed"], root=root,
                     backends=request.get("backends"), n_shots=request.get("n_shots", 6),
                     loudness=request.get("loudness"), subtitles=request.get("subtitles"),
                     seconds=request.get("seconds"), shot_seconds=request.get("shot_seconds"),
                     review=request.get("review", False))


def cmd_plan(args: argparse.Namespace) -> int:
    from models import base
    from reel.settings import get_settings
    from tasks.plan import check_prompt, check_shots

    from reel.ids import reel_id_for

    s = get_settings()
    prompt = check_prompt(args.prompt)
    director = base.create("director", s.backend_for("director", args.director))
    plan = director.plan(prompt, n_shots=check_shots(args.shots), seed=args.seed)
    print(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False))
    # The reel `reel make PROMPT` makes: an edited plan rendered there re-renders only what changed.
    reel_id = reel_id_for(prompt, preset=s.preset, aspect="16:9", seed=args.seed, n_shots=args.shots, plan=None)
    print(f"reel: render an edited copy into this prompt's reel with: reel make --plan plan.json --reel-id {reel_id}"
          f"{f' --seed {args.seed}' if args.seed else ''}", file=sys.stderr)
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from reel.estimate import estimate, markdown
    from reel.presets import for_aspect, get_preset, with_length

    plan = _load_plan_file(args.plan) if args.plan else None
    n = len(plan["shots"]) if plan else args.shots
    if plan is None:
        from tasks.plan import check_shots

        check_shots(n)
    preset = with_length(for_aspect(get_preset(args.preset), args.aspect), n, args.seconds, args.shot_seconds)
    figures = estimate(preset, n, args.card, args.price, subjects=len(plan["characters"]) + 1 if plan else None,
                       planned=plan is not None)
    print(json.dumps(figures, indent=2) if args.json else markdown(figures))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.which == "memory":
        from benchmarks.memory import main as memory

        return memory(args.rest)
    if args.which in ("preview", "batch"):
        import importlib

        importlib.import_module(f"benchmarks.{args.which}").main(args.rest)
        return 0
    from benchmarks.schedule import main as schedule

    schedule(args.rest)
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
    make.add_argument("--aspect", default="16:9", help="16:9, 9:16, 1:1 or 4:5: every frame composed at that shape")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--shots", type=int, default=6, help="number of shots, 1-12 (default 6)")
    make.add_argument("--seconds", type=float, default=None,
                      help="the reel's length; each shot gets the nearest valid clip length (default: the preset's)")
    make.add_argument("--shot-seconds", type=float, default=None, help="each shot's length instead of --seconds")
    make.add_argument("--loudness", default=None,
                      help="web (-14 LUFS), podcast (-16), broadcast (-23) or a level such as -18 "
                           "(default: web for vertical and square, -18 for 16:9)")
    make.add_argument("--subtitles", default=None, choices=["burn", "srt", "off"],
                      help="burn captions into the picture, or only write .srt/.vtt "
                           "(default: burn for 9:16, 1:1, 4:5; srt for 16:9)")
    make.add_argument("--review", action="store_true",
                      help="pause after the storyboard: approve, edit, re-roll or cancel in the Prefect UI")
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

    est = sub.add_parser("estimate", help="GPU-minutes, model loads, wall time, disk and money before a run")
    est.add_argument("prompt", nargs="?", default="", help="the reel's sentence (the figures depend on the shots)")
    est.add_argument("--plan", help="estimate this plan.json (its shots and characters)")
    est.add_argument("--preset", default=s.preset if s.preset != "preview" else "default",
                     help="quality preset (default: default)")
    est.add_argument("--aspect", default="16:9")
    est.add_argument("--shots", type=int, default=6)
    est.add_argument("--seconds", type=float, default=None)
    est.add_argument("--shot-seconds", type=float, default=None)
    est.add_argument("--card", default=s.card, help=f"mi300x, h200, h100, a100 or l40s (default {s.card}, REEL_CARD)")
    est.add_argument("--price", type=float, default=s.gpu_price,
                     help="$ per GPU-hour (default: REEL_GPU_PRICE, else the card's typical price)")
    est.add_argument("--json", action="store_true", help="print the figures as JSON")
    est.set_defaults(func=cmd_estimate)

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
    from app import supervise

    configure()
    argv = sys.argv[1:] if argv is None else argv
    try:
        cli = parser()  # its defaults read the settings: a REEL_* value that does not parse stops here
    except UserError as exc:
        print(f"reel: error: {exc}", file=sys.stderr)
        return 2
    args = cli.parse_args(argv)
    if args.command in ("make", "resume") and not supervise.is_worker():
        return supervise.run(argv)
    if args.command in ("make", "resume"):
        from app.stopping import raise_interrupt_on_signals

        raise_interrupt_on_signals()
        os.environ.setdefault("REEL_PROGRESS", "1")
        if not args.verbose:
            # Progress lines and one-line errors on the terminal; Prefect's logs still go to its API/UI.
            os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
            os.environ.setdefault("PREFECT_INTERNAL_LOGGING_LEVEL", "CRITICAL")
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:
        if args.command not in ("make", "resume"):
            raise
        from app.stopping import on_interrupt

        on_interrupt(exc)
        return 130
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
