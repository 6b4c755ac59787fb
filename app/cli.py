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
    from tasks.plan_input import parse_plan

    parse_plan(data, source=f"plan file {path}")
    return data


def cmd_make(args: argparse.Namespace) -> int:
    if args.director_fallback:  # read by the plan stage through the settings, as a worker's REEL_* would be
        os.environ["REEL_DIRECTOR_FALLBACK"] = args.director_fallback
    request = _request_from(args)
    request.resolve()  # fail fast on an unknown or uninstallable backend, before Prefect starts
    if request.plan is not None:
        _say_plan_edits(request)
    return _run_reel(request)


def _request_from(args: argparse.Namespace, model=None):
    """The ReelRequest the `make` options describe (each option is one of its fields)."""
    from flows.request import ReelRequest

    model = model or ReelRequest
    fields = {name: getattr(args, name) for name in model.model_fields if hasattr(args, name)}
    if fields.get("plan") is not None:
        fields["plan"] = _load_plan_file(fields["plan"])
    return model(**fields)


def _say_plan_edits(request) -> None:
    """Before rendering an edited plan: which shots differ from the plan already in that reel."""
    from app.plan_edits import describe

    ref = request.ref()
    store = ref.store()
    old = store.read_json("plan.json") if store.exists("plan.json") else None
    print(f"  reel {ref.reel_id}: {describe(old, request.plan)}", flush=True)


def _run_reel(request) -> int:
    from reel.writable import require_writable

    require_writable(request.root)  # before Prefect starts: its home is one of the folders
    from flows.reel_flow import reel_flow

    started = time.time()
    print(f"making a reel (preset {request.preset}) ...", flush=True)
    from prefect.exceptions import CancelledRun

    try:
        url = reel_flow(**request.model_dump())
    except CancelledRun:
        print("reel cancelled at the storyboard review; finished stages are kept")
        return 1
    print(f"done in {time.time() - started:.1f}s: {url}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from flows.request import ReelRequest
    from reel.settings import get_settings
    from reel.store import ArtifactStore

    root = args.out or get_settings().root
    store = ArtifactStore(root, args.reel_id)  # refuses an id that is not one safe folder name
    if not store.exists("request.json"):
        raise UserError(f"no reel {args.reel_id!r} under {root} (request.json missing); check the id and --out")
    return _run_reel(ReelRequest.from_stored(store.read_json("request.json"), args.reel_id, root))


def cmd_plan(args: argparse.Namespace) -> int:
    from models import base
    from reel.settings import get_settings
    from reel.store import ArtifactStore
    from tasks.plan_input import check_prompt, check_shots, direct

    from flows.request import ReelRequest

    s = get_settings()
    prompt = check_prompt(args.prompt)
    # The same settings the host hands every backend in `reel make` (the server, model and key).
    director = base.create("director", s.backend_for("director", args.director), **s.backend_options("director"))
    # The reel `reel make PROMPT` makes: an edited plan rendered there re-renders only what changed.
    reel_id = ReelRequest(prompt=prompt, preset=s.preset, seed=args.seed, n_shots=args.shots).id
    plan, _, warning = direct(director, prompt, check_shots(args.shots), args.seed, ArtifactStore(s.root, reel_id),
                              args.director_fallback)
    if warning:
        print(f"reel: warning: {warning}", file=sys.stderr)
    print(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False))
    print(f"reel: render an edited copy into this prompt's reel with: reel make --plan plan.json --reel-id {reel_id}"
          f"{f' --seed {args.seed}' if args.seed else ''}", file=sys.stderr)
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from reel.estimate import estimate, markdown
    from reel.presets import for_aspect, get_preset, with_length

    plan = _load_plan_file(args.plan) if args.plan else None
    n = len(plan["shots"]) if plan else args.shots
    if plan is None:
        from tasks.plan_input import check_shots

        check_shots(n)
    preset = with_length(for_aspect(get_preset(args.preset), args.aspect), n, args.seconds, args.shot_seconds)
    figures = estimate(preset, n, args.card, args.price, subjects=len(plan["characters"]) + 1 if plan else None,
                       planned=plan is not None)
    print(json.dumps(figures, indent=2) if args.json else markdown(figures))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """The benchmarks are their own entry point (benchmarks/__main__.py, `reel-bench`): hand over."""
    os.execv(sys.executable, [sys.executable, "-m", "benchmarks", args.which, *args.rest])


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import run_checks

    return run_checks()


def _fallback_option(command: argparse.ArgumentParser, default: str) -> None:
    command.add_argument("--director-fallback", choices=["heuristic"], default=default or None,
                         help="when the director model writes no valid plan, continue on this director's plan "
                              "(with a warning in the manifest); default: stop (REEL_DIRECTOR_FALLBACK)")


def add_request_options(p: argparse.ArgumentParser, model=None, **defaults) -> None:
    """One option per field of the request (flows/request.py): its flag, type, choices and help
    come from the field, so a new field is a new option with no edit here."""
    import types
    import typing

    from flows.request import FLAG, ReelRequest

    for name, f in (model or ReelRequest).model_fields.items():
        flag = (f.json_schema_extra or {}).get(FLAG, "--" + name.replace("_", "-"))
        kinds = [t for t in typing.get_args(f.annotation) if t is not type(None)] \
            if isinstance(f.annotation, types.UnionType) or typing.get_origin(f.annotation) is typing.Union \
            else [f.annotation]
        kind = kinds[0] if len(kinds) == 1 else str
        default = defaults.get(name, f.default)
        shown = f" (default {default})" if default is not None and default is not False else ""
        opts: dict = {"default": default, "help": f"{f.description}{shown}"}
        if kind is bool:
            opts["action"] = "store_true"
        elif typing.get_origin(kind) is typing.Literal:
            opts["choices"] = list(typing.get_args(kind))
        elif kind in (int, float):
            opts["type"] = kind
        if flag.startswith("-"):
            if kind is not bool and "choices" not in opts:
                opts["metavar"] = flag.lstrip("-").replace("-", "_").upper()
            p.add_argument(flag, dest=name, **opts)
        else:
            p.add_argument(flag, nargs="?", **opts)


def parser() -> argparse.ArgumentParser:
    from reel.settings import get_settings

    s = get_settings()
    p = argparse.ArgumentParser(prog="reel", description="One sentence in, a finished ~30 s reel out.")
    sub = p.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a reel from a prompt or an edited plan")
    add_request_options(make, preset=s.preset)
    make.add_argument("--verbose", action="store_true", help="show Prefect's own logs on the terminal")
    _fallback_option(make, s.director_fallback)
    make.set_defaults(func=cmd_make)

    plan = sub.add_parser("plan", help="print the director's plan as JSON")
    plan.add_argument("prompt")
    plan.add_argument("--shots", type=int, default=6)
    plan.add_argument("--seed", type=int, default=0)
    plan.add_argument("--director", default="heuristic", help="director backend (default heuristic)")
    _fallback_option(plan, s.director_fallback)
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
    bench.add_argument("which", choices=["schedule", "memory", "preview", "batch", "plan"],
                       help="schedule: model loads and GPU time, ours vs StudioMI300's; "
                            "memory: the GPU memory plan (--gpu-gb 80 141 192); preview: where a preview reel's "
                            "time goes, beside an empty flow and a bare encode (--server: on a worker); "
                            "batch: model loads of a batch in one process vs reel after reel (--reels N); "
                            "plan: `reel plan` from a cold start beside python -c pass and the parser's load")
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
