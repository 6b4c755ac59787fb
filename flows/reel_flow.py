"""The `reel` flow: the whole story of one reel, stage by stage."""

from __future__ import annotations

import contextvars
import json
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Cancelled

from flows import review as review_gate
from flows.narration import fit_narration, max_line_seconds
from flows.shot import ShotOutcome, replay_shot, shot_flow, shot_line
from flows.start_gate import one_at_a_time, opened
from models.base import backend_class, check_distilled, choose_backends
from models import host
from reel import drills, progress, run_state, verdict_log
from flows import publish
from models.gpu_slot import ensure_gpu_limit
from reel.delivery import delivery_for
from reel.env import heartbeat_setting
from reel.estimate import actual, estimate, markdown as estimate_markdown
from reel.manifest import build_manifest, delivery_record, write_manifest
from reel.presets import for_aspect, get_preset, with_length
from reel.reel_lock import reel_lock
from reel.records import ReelRef
from reel.schema import Plan
from reel.settings import get_settings
from reel.stage import Ledger, collect, run, submit
from reel.writable import deployment_root
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
    with host.line(shot_line(call["ref"], call["shot_index"])) as need, one_at_a_time():
        need.next("video")
        run_state.hold_if_stopping()  # no new subflow once a stop has begun (app/stopping.py)
        return shot_flow(**call)


def _announced(job, role: str):
    """A background model stage (`submit`) asks for its model without needing another first: its
    request is announced to the model host until the job ends (one read from the cache asks nothing)."""
    if hasattr(job, "add_done_callback"):
        need = host.Need()
        need.next(role)
        job.add_done_callback(lambda _: need.close())
    return job


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
def reel_flow(prompt: str = "", plan: dict[str, Any] | None = None, preset: str = "default", reel_id: str | None = None,
         aspect: str = "16:9", seed: int = 0, root: str | None = None, backends: str | None = None,
         n_shots: int = 6, loudness: str | None = None, subtitles: str | None = None,
         seconds: float | None = None, shot_seconds: float | None = None, review: bool = False) -> str:
    """Make a reel from a prompt (or a ready plan); returns the final mp4's location.
    loudness: web, podcast, broadcast or a LUFS figure; subtitles: burn, srt or off
    (unset: the aspect's defaults in prompts/delivery.json); seconds (the whole reel) or
    shot_seconds: the clip length, snapped to the nearest valid frame count (unset: the preset's);
    review: pause after the storyboard for a person to approve, edit, re-roll or cancel in the UI."""
    started = time.time()
    opened()  # in a batch, the next reel's subflow may be created now (flows/start_gate.py)
    the_preset = for_aspect(get_preset(preset), aspect)
    delivery_for(aspect, loudness, subtitles)  # fail fast on a bad delivery
    if plan is None:
        prompt = check_prompt(prompt)
        check_shots(n_shots)
    else:
        parse_plan(plan)
    with_length(the_preset, len(plan["shots"]) if plan else n_shots, seconds, shot_seconds)  # fail fast
    root = deployment_root(root)  # a deployment's caller writes only where this worker allows
    ref = ReelRef.for_request(prompt, plan, preset, reel_id, aspect, seed, root, n_shots)
    run_state.started(ref.reel_id, ref.root, flow_run.id)
    # What was asked, so `reel resume <id>` can run the same request again after a crash.
    request = {"prompt": prompt or None, "plan": plan, "preset": preset, "aspect": aspect, "seed": seed,
               "backends": backends, "n_shots": n_shots, "loudness": loudness, "subtitles": subtitles,
               "seconds": seconds, "shot_seconds": shot_seconds, "review": review}
    # One writer per reel: a second run of it waits here.
    store = ref.store()
    with reel_lock(store), host.line(reel_line(ref)) as need:
        store.sweep(keep=drills.MARKERS)  # what an earlier run left when it was cut off
        try:
            return _make(ref, request, started, need)
        finally:  # scratch and partial files go, whether the reel was made or not
            store.sweep(keep=drills.MARKERS)


def reel_line(ref: ReelRef) -> str:
    """The reel's own line of work at the model host (models/host.py `line`)."""
    return f"reel {ref.reel_id}"


def _make(ref: ReelRef, request: dict[str, Any], started: float, need: host.Need) -> str:
    """The reel's stages, in order, under its writer lock; `need` announces its next model request."""
    need.next("director")  # the plan
    prompt, plan, preset, seed, backends, n_shots = (
        request[k] for k in ("prompt", "plan", "preset", "seed", "backends", "n_shots"))
    seconds, shot_seconds, review = request["seconds"], request["shot_seconds"], request["review"]
    the_preset = for_aspect(get_preset(preset), request["aspect"])
    delivery = delivery_for(request["aspect"], request["loudness"], request["subtitles"])
    asked = len(plan["shots"]) if plan else n_shots
    roles = choose_backends(the_preset.backends, backends)
    if the_preset.turbo:
        check_distilled("video", roles["video"])  # one line now, not after the keyframes
    ensure_gpu_limit()
    host.for_preset(the_preset)  # memory plan at its sizes, its declared pairs
    store = ref.store()
    store.write_if_changed("request.json", json.dumps(request, indent=2, ensure_ascii=False).encode())
    progress.say(f"reel {ref.reel_id} -> {store.url('')}")
    s = get_settings()
    expected = estimate(with_length(the_preset, asked, seconds, shot_seconds), asked, s.card, s.gpu_price,
                        subjects=len(plan["characters"]) + 1 if plan else None, planned=plan is not None,
                        gpu=getattr(backend_class("video", roles["video"]), "heavy", False))
    publish.publish_estimate(ref.reel_id, estimate_markdown(expected))
    if expected["gpu"]:
        progress.say(f"estimate: {expected['gpu_minutes'][0]:g}-{expected['gpu_minutes'][1]:g} GPU-minutes on one "
                     f"{s.card}, ${expected['money_usd'][0]:.2f}-{expected['money_usd'][1]:.2f}")
    ledger = Ledger()

    planned = run(plan_stage, ref, ledger, prompt=prompt or None, plan_data=plan, n_shots=n_shots, seed=seed,
                  director=roles["director"])
    need.next("image")  # then the masters and keyframes
    directed = Plan.model_validate(planned.meta["plan"])
    decisions = review_gate.saved(store)  # earlier review edits and re-rolls of this reel
    the_plan = review_gate.apply(directed, decisions)
    n = len(the_plan.shots)
    the_preset = with_length(the_preset, n, seconds, shot_seconds)
    progress.say(f"{n} shots of {the_preset.shot_seconds:.2f} s ({the_preset.frames} frames at {the_preset.fps} fps)"
                 f" = {n * the_preset.shot_seconds:.2f} s")
    publish.publish_plan(ref.reel_id, the_plan)
    publish.publish_progress(ref.reel_id, publish.PLANNED, "planned")

    music_job = _announced(submit(music_stage, ref, brief=the_plan.music_style, seconds=n * the_preset.shot_seconds,
                                  seed=seed, backend=roles["music"]), "music")

    def speak(i: int, line: str, lang: str):
        """Shot i's narration line, spoken in the background."""
        return _announced(submit(voice_stage, ref, line=line, lang=lang, shot_index=i, backend=roles["voice"],
                                 max_seconds=max_line_seconds(the_preset)), "voice")

    voice_jobs = [speak(i, line, the_plan.vo_lang) for i, line in enumerate(the_plan.vo_script_per_shot)]

    def paint(plan: Plan, decided: dict[str, Any]) -> str | None:
        """Masters and keyframes (cached unless their plan slice or seed changed), then the storyboard."""
        nonlocal masters, keyframes
        need.next("image")
        try:
            masters = {s: run(master_stage, ref, ledger, plan=plan, subject=s, preset=the_preset, seed=seed,
                              backend=roles["image"]) for s in subjects(plan)}
            keyframes = [run(keyframe_stage, ref, ledger, plan=plan, shot_index=i, masters=masters,
                             preset=the_preset, seed=review_gate.keyframe_seed(seed, decided, i),
                             backend=roles["image"]) for i in range(n)]
        finally:
            need.close()  # the shots announce their own requests
        for i, line in enumerate(plan.vo_script_per_shot):  # an edited narration line is spoken anew
            if line != spoken[i]:
                spoken[i] = line
                voice_jobs[i] = speak(i, line, plan.vo_lang)
        return publish.publish_storyboard(store, plan, masters, keyframes)

    masters, keyframes, spoken = {}, [], list(the_plan.vo_script_per_shot)
    storyboard = paint(the_plan, decisions)
    publish.publish_progress(ref.reel_id, publish.KEYFRAMED, "masters and keyframes painted")
    if review:
        approved = review_gate.review_storyboard(store, directed, decisions, paint, storyboard, s.review_timeout_s,
                                                 s.review_poll_s)
        if approved is None:
            progress.say("reel cancelled at the storyboard review")
            return Cancelled(message="cancelled at the storyboard review")
        the_plan = approved
    # A shot the next one continues (its cut is false) ends on the next keyframe: no cut between them.
    ends = [keyframes[i + 1] if i + 1 < n and not the_plan.shots[i + 1].cut else None for i in range(n)]
    shots = run_shots([dict(ref=ref, plan=the_plan, shot_index=i, keyframe=keyframes[i], masters=masters,
                            preset=the_preset, seed=seed, backends=roles, next_keyframe=ends[i]) for i in range(n)])
    for outcome in shots:
        ledger.extend(outcome.ledger)
    verdict_log.merge(store, n)
    publish.publish_scorecard(ref.reel_id, [(s.shot_index, s.attempts, s.shipped) for s in shots])

    music = collect(music_job, ledger)
    voices, narration = fit_narration(ref, ledger, [collect(job, ledger) for job in voice_jobs], the_preset, roles,
                                      seed)
    final = run(mix_stage, ref, ledger, clips=[s.clip for s in shots], music=music, voices=voices, preset=the_preset,
                delivery=delivery)

    manifest = build_manifest(
        ref.reel_id, prompt or None, preset, seed, roles, ledger.entries,
        [{"shot": s.shot_index, "shipped_attempt": s.shipped, "clip": s.clip.artifact().path,
          "open_issues": [i.model_dump(mode="json") for i in s.attempts[s.shipped - 1].verdict.issues],
          "attempts": [a.model_dump(mode="json") for a in s.attempts]} for s in shots],
        final.artifact().path, delivery=delivery_record(final.meta) | {"narration": narration})
    # Before and after: what `reel estimate` expected next to what this run spent.
    write_manifest(store, manifest | {"estimate": expected, "actual": actual(ledger.entries, started, time.time())})
    publish.publish_final(store, final.artifact().path)
    url = store.url(final.artifact().path)
    progress.say(f"reel ready: {url}")
    return url
