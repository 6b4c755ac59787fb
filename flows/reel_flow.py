"""The `reel` flow: the whole story of one reel, stage by stage."""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Cancelled

from flows import review as review_gate
from flows.narration import fit_narration, max_line_seconds
from flows.shot import ShotOutcome, replay_shot, shot_flow, shot_line
from tasks.render import render_stage
from flows.request import ReelRequest, Resolved, takes_request
from flows.start_gate import one_at_a_time, opened
from models.base import backend_class
from runtime import host
from reel import drills, progress, run_state, verdict_log
from flows import publish
from runtime.gpu_slot import ensure_gpu_limit
from reel.env import heartbeat_setting
from reel.estimate import actual, estimate, markdown as estimate_markdown
from reel.manifest import build_manifest, write_manifest
from reel.reel_lock import reel_lock
from reel.records import ReelRef
from reel.schema import Plan
from reel.seeds import Seeds
from reel.settings import get_settings
from reel.stage import Ledger, collect, role_of, run, submit
from reel.writable import deployment_root
from tasks.keyframes import keyframe_stage
from tasks.masters import master_stage, subjects
from tasks.mix import MixOutput, mix_stage
from tasks.music import music_stage
from tasks.plan import PlanOutput, plan_stage
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
    pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="shot")
    try:
        # Each thread runs in a copy of this flow's context, so the subflows are its children.
        futures = [pool.submit(contextvars.copy_context().run, _shot, call) for call in calls]
        for f in as_completed(futures):
            if f.exception() is None:
                finished(f.result())
        pool.shutdown()
        return [f.result() for f in futures]
    except BaseException:
        # A stop (Ctrl-C, SIGTERM) must not wait for the other shots to finish rendering.
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _shot(call: dict[str, Any]) -> ShotOutcome:
    """One shot's thread: its first request (a render) is announced to the model host before its
    subflow starts, so the video model is not swapped out while the subflow is being created."""
    with host.line(shot_line(call["ref"], call["shot_index"]), first=role_of(render_stage)), one_at_a_time():
        return shot_flow(**call)


def _fan_out(calls: list[dict[str, Any]], deployment: str, finished) -> list[ShotOutcome]:
    """Each shot as a run of the `shot` deployment, waited for and read back from the store."""
    from pydantic_core import to_jsonable_python

    from flows.child_runs import start_runs, wait_for_runs
    from reel.stage import result_storage_slug

    # The children persist their outcome where this run can read it: the reel's own results block.
    slug = result_storage_slug(calls[0]["ref"])
    # (These job variables replace the deployment's `env`: its heartbeat setting comes along.)
    env = {"PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true", "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": slug,
           "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": heartbeat_setting()}
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
@takes_request(ReelRequest)
def reel_flow(**fields: Any) -> str:
    """Make a reel from a prompt (or a ready plan); returns the final mp4's location. The
    parameters are the fields of flows.request.ReelRequest (each described there)."""
    started = time.time()
    opened()  # in a batch, the next reel's subflow may be created now (flows/start_gate.py)
    request = ReelRequest(**fields)
    # A deployment's caller writes only where this worker allows.
    request = request.model_copy(update={"root": deployment_root(request.root)})
    resolved = request.resolve()
    ref = resolved.ref
    run_state.started(ref.reel_id, ref.root, flow_run.id)
    # One writer per reel: a second run of it waits here.
    store = ref.store()
    with reel_lock(store), host.line(reel_line(ref)):
        store.sweep(keep=drills.MARKERS)  # what an earlier run left when it was cut off
        try:
            return _make(request, resolved, started)
        finally:  # scratch and partial files go, whether the reel was made or not
            store.sweep(keep=drills.MARKERS)


def reel_line(ref: ReelRef) -> str:
    """The reel's own line of work at the model host (runtime/host.py `line`)."""
    return f"reel {ref.reel_id}"


def _make(request: ReelRequest, resolved: Resolved, started: float) -> str:
    """The reel's stages, in order, under its writer lock (each announces its model as it starts)."""
    ref, roles, delivery = resolved.ref, resolved.backends, resolved.delivery
    prompt, plan, preset, seed = request.prompt, request.plan, request.preset, request.seed
    ensure_gpu_limit()
    host.for_preset(resolved.preset)  # memory plan at its sizes, its declared pairs
    store = ref.store()
    # What was asked, so `reel resume <id>` can run the same request again after a crash.
    store.write_if_changed("request.json", request.stored())
    progress.say(f"reel {ref.reel_id} -> {store.url('')}")
    s = get_settings()
    expected = estimate(resolved.preset, request.shots_asked, s.card, s.gpu_price,
                        subjects=len(plan["characters"]) + 1 if plan else None, planned=plan is not None,
                        gpu=backend_class("video", roles["video"]).heavy)
    publish.publish_estimate(ref.reel_id, estimate_markdown(expected))
    if expected["gpu"]:
        progress.say(f"estimate: {expected['gpu_minutes'][0]:g}-{expected['gpu_minutes'][1]:g} GPU-minutes on one "
                     f"{s.card}, ${expected['money_usd'][0]:.2f}-{expected['money_usd'][1]:.2f}")
    ledger = Ledger()
    seeds = Seeds(seed)

    planned = run(plan_stage, ref, ledger, prompt=prompt or None, plan_data=plan, n_shots=request.n_shots,
                  seed=seeds.plan(),
                  director=roles["director"])
    directed = PlanOutput.of(planned).plan
    decisions = review_gate.saved(store)  # earlier review edits and re-rolls of this reel
    the_plan = review_gate.apply(directed, decisions)
    n = len(the_plan.shots)
    the_preset = request.preset_for(n)
    progress.say(f"{n} shots of {the_preset.shot_seconds:.2f} s ({the_preset.frames} frames at {the_preset.fps} fps)"
                 f" = {n * the_preset.shot_seconds:.2f} s")
    publish.publish_plan(ref.reel_id, the_plan)
    publish.publish_progress(ref.reel_id, publish.PLANNED, "planned")

    music_job = submit(music_stage, ref, brief=the_plan.music_style, seconds=n * the_preset.shot_seconds,
                       seed=seeds.music(), backend=roles["music"])

    def speak(i: int, line: str, lang: str):
        """Shot i's narration line, spoken in the background."""
        return submit(voice_stage, ref, line=line, lang=lang, shot_index=i, backend=roles["voice"],
                      max_seconds=max_line_seconds(the_preset))

    voice_jobs = [speak(i, line, the_plan.vo_lang) for i, line in enumerate(the_plan.vo_script_per_shot)]

    def paint(plan: Plan, decided: dict[str, Any]) -> str | None:
        """Masters and keyframes (cached unless their plan slice or seed changed), then the storyboard."""
        nonlocal masters, keyframes
        masters = {s: run(master_stage, ref, ledger, plan=plan, subject=s, preset=the_preset, seed=seeds.master(s),
                          backend=roles["image"]) for s in subjects(plan)}
        keyframes = [run(keyframe_stage, ref, ledger, plan=plan, shot_index=i, masters=masters,
                         preset=the_preset, seed=seeds.keyframe(i, review_gate.rerolls(decided, i)),
                         backend=roles["image"]) for i in range(n)]
        for i, line in enumerate(plan.vo_script_per_shot):  # an edited narration line is spoken anew
            if line != spoken[i]:
                spoken[i] = line
                voice_jobs[i] = speak(i, line, plan.vo_lang)
        return publish.publish_storyboard(store, plan, masters, keyframes)

    masters, keyframes, spoken = {}, [], list(the_plan.vo_script_per_shot)
    storyboard = paint(the_plan, decisions)
    publish.publish_progress(ref.reel_id, publish.KEYFRAMED, "masters and keyframes painted")
    if request.review:
        approved = review_gate.review_storyboard(store, directed, decisions, paint, storyboard, s.review_timeout_s,
                                                 s.review_poll_s)
        if approved is None:
            progress.say("reel cancelled at the storyboard review")
            return Cancelled(message="cancelled at the storyboard review")
        the_plan = approved
    # A shot the next one continues (its cut is false) ends on the next keyframe: no cut between them.
    ends = [keyframes[i + 1] if i + 1 < n and not the_plan.shots[i + 1].cut else None for i in range(n)]
    shots = run_shots([dict(ref=ref, plan=the_plan, shot_index=i, keyframe=keyframes[i], masters=masters,
                            preset=the_preset, seed=seed, backends=roles, end_frame=ends[i]) for i in range(n)])
    for outcome in shots:
        ledger.extend(outcome.ledger)
    verdict_log.merge(store, n)
    publish.publish_scorecard(ref.reel_id, [(s.shot_index, s.attempts, s.shipped) for s in shots])

    music = collect(music_job, ledger)
    voices, narration = fit_narration(ref, ledger, [collect(job, ledger) for job in voice_jobs], the_preset, roles,
                                      seeds.shorten())
    final = run(mix_stage, ref, ledger, clips=[s.clip for s in shots], music=music, voices=voices, preset=the_preset,
                delivery=delivery)

    manifest = build_manifest(
        ref.reel_id, prompt or None, preset, seed, roles, ledger.entries,
        [{"shot": s.shot_index, "shipped_attempt": s.shipped, "clip": s.clip.artifact().path,
          "open_issues": [i.model_dump(mode="json") for i in s.attempts[s.shipped - 1].verdict.issues],
          "attempts": [a.model_dump(mode="json") for a in s.attempts]} for s in shots],
        final.artifact().path, delivery=MixOutput.of(final).delivery() | {"narration": narration})
    # Before and after: what `reel estimate` expected next to what this run spent.
    write_manifest(store, manifest | {"estimate": expected, "actual": actual(ledger.entries, started, time.time())})
    publish.publish_final(store, final.artifact().path)
    url = store.url(final.artifact().path)
    progress.say(f"reel ready: {url}")
    return url
