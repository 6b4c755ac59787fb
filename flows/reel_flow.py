"""The `reel` flow: the whole story of one reel, stage by stage."""

from __future__ import annotations

import contextvars
import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from prefect import flow

from flows.shot import ShotOutcome, replay_shot, shot_flow
from models.base import choose_backends
from models import host
from reel import progress, verdict_log
from flows import publish
from models.gpu_slot import ensure_gpu_limit
from reel.manifest import build_manifest, write_manifest
from reel.presets import for_aspect, get_preset
from reel.records import ReelRef
from reel.schema import Plan
from reel.settings import get_settings
from reel.stage import Ledger, collect, run, submit
from tasks.keyframes import keyframe_stage
from tasks.masters import master_stage, subjects
from tasks.mix import mix_stage
from tasks.music import music_stage
from tasks.plan import check_prompt, check_shots, parse_plan, plan_stage
from tasks.voice import voice_stage


def run_shots(calls: list[dict[str, Any]]) -> list[ShotOutcome]:
    """One `shot` subflow per shot. Under the affinity schedule they run at once, so the model
    host can batch every shot's render, then every critique; `sequential` runs them in turn.
    With fan-out on (REEL_FAN_OUT=1) each shot is a run of the `shot/fan-out` deployment
    (REEL_SHOT_DEPLOYMENT) on whichever worker takes it, linked here as a child run; masters,
    keyframes and clips travel through the artifact store, and each outcome comes back as the
    child's result, persisted in the reel's own results folder."""
    s = get_settings()
    reel_id, done = calls[0]["ref"].reel_id, []

    def finished(outcome: ShotOutcome) -> ShotOutcome:
        done.append(outcome.shot_index)
        publish.shot_finished(reel_id, outcome.shot_index, outcome.attempts, outcome.shipped, len(done), len(calls))
        return outcome

    # Shots whose every stage is cached come straight from the cache; only the others start a subflow.
    replayed = {i: replay_shot(**call) for i, call in enumerate(calls)}
    todo = [call for i, call in enumerate(calls) if replayed[i] is None]
    for outcome in replayed.values():
        if outcome is not None:
            finished(outcome)
    if not todo:
        return [replayed[i] for i in range(len(calls))]
    ran = iter(_run_subflows(todo, s, finished))
    return [replayed[i] if replayed[i] is not None else next(ran) for i in range(len(calls))]


def _run_subflows(calls: list[dict[str, Any]], s, finished) -> list[ShotOutcome]:
    if s.fan_out:
        return _fan_out(calls, s.shot_deployment, finished)
    if s.schedule == "sequential":
        return [finished(shot_flow(**call)) for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="shot") as pool:
        # Each thread runs in a copy of this flow's context, so the subflows are its children.
        futures = [pool.submit(contextvars.copy_context().run, shot_flow, **call) for call in calls]
        for f in as_completed(futures):
            if f.exception() is None:
                finished(f.result())
        return [f.result() for f in futures]


def _fan_out(calls: list[dict[str, Any]], deployment: str, finished) -> list[ShotOutcome]:
    """Each shot as a run of the `shot` deployment, waited for and read back from the store."""
    from pydantic_core import to_jsonable_python

    from flows.child_runs import start_runs, wait_for_runs
    from reel.stage import result_storage_slug

    # The children persist their outcome where this run can read it: the reel's own results block.
    slug = result_storage_slug(calls[0]["ref"])
    env = {"PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true", "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": slug}
    outcomes: dict[int, ShotOutcome] = {}

    def collect_outcome(i: int, child) -> None:
        if child.state.is_completed():
            outcomes[i] = finished(child.state.result())

    children = wait_for_runs(start_runs(deployment, [to_jsonable_python(call) for call in calls], {"env": env}),
                             on_final=collect_outcome)
    failed = [f"shot {i} ({c.name}: {c.state.name}: {c.state.message})" for i, c in enumerate(children)
              if i not in outcomes]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(calls)} shot runs did not complete: {'; '.join(failed)}")
    return [outcomes[i] for i in range(len(calls))]


@flow(name="reel", flow_run_name="reel-{preset}-{seed}")
def reel_flow(prompt: str = "", plan: dict[str, Any] | None = None, preset: str = "default", reel_id: str | None = None,
         aspect: str = "16:9", seed: int = 0, root: str | None = None, backends: str | None = None,
         n_shots: int = 6) -> str:
    """Make a reel from a prompt (or a ready plan); returns the final mp4's location."""
    the_preset = for_aspect(get_preset(preset), aspect)
    if plan is None:
        prompt = check_prompt(prompt)
        check_shots(n_shots)
    else:
        parse_plan(plan)
    ref = ReelRef.for_request(prompt, plan, preset, reel_id, aspect, seed, root, n_shots)
    roles = choose_backends(the_preset.backends, backends)
    ensure_gpu_limit()
    host.for_preset(the_preset)  # memory plan at its sizes, its declared pairs
    store = ref.store()
    # What was asked, so `reel resume <id>` can run the same request again after a crash.
    request = {"prompt": prompt or None, "plan": plan, "preset": preset, "aspect": aspect, "seed": seed,
               "backends": backends, "n_shots": n_shots}
    store.write_if_changed("request.json", json.dumps(request, indent=2, ensure_ascii=False).encode())
    progress.say(f"reel {ref.reel_id} -> {store.url('')}")
    ledger = Ledger()

    planned = run(plan_stage, ref, ledger, prompt=prompt or None, plan_data=plan, n_shots=n_shots, seed=seed,
                  director=roles["director"])
    the_plan = Plan.model_validate(planned.meta["plan"])
    n = len(the_plan.shots)
    publish.publish_plan(ref.reel_id, the_plan)
    publish.publish_progress(ref.reel_id, publish.PLANNED, "planned")

    music_job = submit(music_stage, ref, brief=the_plan.music_style, seconds=n * the_preset.shot_seconds, seed=seed,
                       backend=roles["music"])
    voice_jobs = [submit(voice_stage, ref, line=line, lang=the_plan.vo_lang, shot_index=i, backend=roles["voice"])
                  for i, line in enumerate(the_plan.vo_script_per_shot)]

    masters = {s: run(master_stage, ref, ledger, plan=the_plan, subject=s, preset=the_preset, seed=seed,
                      backend=roles["image"]) for s in subjects(the_plan)}
    keyframes = [run(keyframe_stage, ref, ledger, plan=the_plan, shot_index=i, masters=masters, preset=the_preset,
                     seed=seed, backend=roles["image"]) for i in range(n)]
    publish.publish_storyboard(store, the_plan, masters, keyframes)
    publish.publish_progress(ref.reel_id, publish.KEYFRAMED, "masters and keyframes painted")
    shots = run_shots([dict(ref=ref, plan=the_plan, shot_index=i, keyframe=keyframes[i], masters=masters,
                            preset=the_preset, seed=seed, backends=roles) for i in range(n)])
    for outcome in shots:
        ledger.extend(outcome.ledger)
    verdict_log.merge(store, n)
    publish.publish_scorecard(ref.reel_id, [(s.shot_index, s.attempts, s.shipped) for s in shots])

    music = collect(music_job, ledger)
    voices = [collect(job, ledger) for job in voice_jobs]
    final = run(mix_stage, ref, ledger, clips=[s.clip for s in shots], music=music, voices=voices, preset=the_preset)

    write_manifest(store, build_manifest(
        ref.reel_id, prompt or None, preset, seed, roles, ledger.entries,
        [{"shot": s.shot_index, "shipped_attempt": s.shipped, "clip": s.clip.artifact().path,
          "open_issues": [i.model_dump(mode="json") for i in s.attempts[s.shipped - 1].verdict.issues],
          "attempts": [a.model_dump(mode="json") for a in s.attempts]} for s in shots],
        final.artifact().path))
    publish.publish_final(store, final.artifact().path)
    url = store.url(final.artifact().path)
    progress.say(f"reel ready: {url}")
    return url
