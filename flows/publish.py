"""What a reel run shows in the Prefect UI: artifacts keyed per reel, and events per shot.

One key per reel and kind (`<reel_id>-plan`, `<reel_id>-storyboard`, ...), so the UI's
Artifacts page keeps a version history per reel and every run of the same reel adds a version.

  plan          table: shot, type, subject, camera move, prompt, narration line
  plan-bible    markdown: logline, character bible, music brief, narration language
  storyboard    image: a contact sheet of the masters and keyframes (storyboard.png in the store)
  progress      progress: plan 10 %, keyframes 30 %, shots up to 90 %, the mix 100 %
  critic-scorecard  table: every attempt of every shot
  reel, manifest    links to the final mp4 and manifest.json

Images and links need addresses a browser can open: presigned URLs for s3:// roots, and for a
local root the address of a static HTTP server that serves it (REEL_ARTIFACT_URL, which
`make server` starts on http://127.0.0.1:4201 for `outputs/`), else a file:// URL.

Publishing is best effort: a UI artifact that cannot be written is logged, never fails the reel.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from urllib.parse import quote

from reel.attempts import Attempt

if TYPE_CHECKING:
    from reel.records import StageRecord
    from reel.schema import Plan
    from reel.store import ArtifactStore

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

STORYBOARD = "storyboard.png"
PRESIGN_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
# Progress milestones (percent): the shots fill the span between keyframes and the mix.
PLANNED, KEYFRAMED, SHOTS_DONE, FINISHED = 10.0, 30.0, 90.0, 100.0


def artifact_key(reel_id: str, what: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{reel_id}-{what}".lower()).strip("-")[:100]


def best_effort(fn: F) -> F:
    """Log and go on when the UI cannot be told something: the reel itself is what matters."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - publishing never fails a run
            log.warning("could not publish %s: %s: %s", fn.__name__, type(exc).__name__, exc)
            return None

    return wrapper  # type: ignore[return-value]


# -- browser addresses ---------------------------------------------------------------------------
def artifact_base_url() -> str:
    """Where a static HTTP server serves the local artifact root ('' when none is configured)."""
    from reel.settings import get_settings

    return get_settings().artifact_url.rstrip("/")


def presigned_url(store: "ArtifactStore", rel: str, expires: int = PRESIGN_SECONDS) -> str:
    """A SigV4 presigned GET for an object of an s3:// store (botocore presigns with SigV2 unless
    told otherwise, which rclone and most S3-compatible servers refuse)."""
    import fsspec

    opts = dict(store.fs.storage_options)
    opts["config_kwargs"] = {**opts.get("config_kwargs", {}), "signature_version": "s3v4"}
    return fsspec.filesystem("s3", **opts).url(f"{store.base}/{rel}", expires=expires)


def browser_url(store: "ArtifactStore", rel: str) -> str:
    """An address a browser on the operator's machine can load for one artifact of the reel."""
    if not store.is_local:
        return presigned_url(store, rel)
    base = artifact_base_url()
    if base:
        return f"{base}/{quote(store.reel_id)}/{quote(rel)}"
    return Path(store.url(rel)).resolve().as_uri()


# -- plan ----------------------------------------------------------------------------------------
def plan_rows(plan: "Plan") -> list[dict]:
    from reel.camera import camera_move

    return [{"shot": s.index, "type": s.shot_type, "subject": s.dominant_subject,
             "camera": camera_move(s.prompt), "prompt": s.prompt,
             "narration": plan.vo_script_per_shot[s.index] if s.index < len(plan.vo_script_per_shot) else ""}
            for s in plan.shots]


def plan_markdown(reel_id: str, plan: "Plan") -> str:
    from reel.camera import camera_move

    lines = [f"# {reel_id}", "", f"**Logline.** {plan.story_logline}", "", "## Character bible", ""]
    lines += [f"- **{key}**: {portrait}" for key, portrait in plan.characters.items()]
    lines += ["", f"**Music.** {plan.music_style}", "", f"**Narration language.** `{plan.vo_lang}`", "",
              "## Shots", "", "| shot | type | subject | camera | narration |", "|---|---|---|---|---|"]
    lines += [f"| {r['shot']} | {r['type']} | {r['subject']} | {camera_move(s.prompt)} | {r['narration']} |"
              for r, s in zip(plan_rows(plan), plan.shots)]
    return "\n".join(lines) + "\n"


@best_effort
def publish_plan(reel_id: str, plan: "Plan") -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact(table=plan_rows(plan), key=artifact_key(reel_id, "plan"),
                          description=f"Plan of reel {reel_id}: one row per shot")
    create_markdown_artifact(markdown=plan_markdown(reel_id, plan), key=artifact_key(reel_id, "plan-bible"),
                             description=f"Character bible and shot list of reel {reel_id}")


@best_effort
def publish_estimate(reel_id: str, markdown: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown=markdown, key=artifact_key(reel_id, "estimate"),
                             description=f"Estimated GPU time, loads, disk and money of reel {reel_id} (before any model ran)")


# -- storyboard ----------------------------------------------------------------------------------
def contact_sheet(rows: list[list[tuple[str, Path]]], columns: int = 6, width: int = 320) -> bytes:
    """Captioned thumbnails, each given row starting a new line of the grid, as PNG bytes
    (deterministic for the same inputs, so an unchanged storyboard is never rewritten)."""
    from PIL import Image, ImageDraw, ImageFont

    lines: list[list[tuple[str, Any]]] = []
    for row in rows:
        thumbs = []
        for caption, path in row:
            with Image.open(path) as im:
                im = im.convert("RGB")
                thumbs.append((caption, im.resize((width, max(1, round(im.height * width / im.width))))))
        lines += [thumbs[i:i + columns] for i in range(0, len(thumbs), columns)]
    lines = [line for line in lines if line]
    pad, caption_h = 8, 28
    heights = [max(t.height for _, t in line) + caption_h for line in lines]
    cols = max(len(line) for line in lines)
    sheet = Image.new("RGB", (cols * (width + pad) + pad, sum(heights) + pad * (len(lines) + 1)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=16)
    y = pad
    for line, height in zip(lines, heights):
        for i, (caption, thumb) in enumerate(line):
            x = pad + i * (width + pad)
            sheet.paste(thumb, (x, y))
            draw.text((x + 4, y + thumb.height + 5), caption[:38], fill=(235, 235, 235), font=font)
        y += height + pad
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def storyboard_rows(store: "ArtifactStore", plan: "Plan", masters: dict[str, "StageRecord"],
                    keyframes: list["StageRecord"]) -> list[list[tuple[str, Path]]]:
    """Masters on the first line, then every shot's keyframe with its camera move."""
    from reel.camera import camera_move

    return [[(f"master {subject}", store.local_path(rec.artifact())) for subject, rec in masters.items()],
            [(f"shot {i} · {camera_move(plan.shots[i].prompt)}", store.local_path(rec.artifact()))
             for i, rec in enumerate(keyframes)]]


@best_effort
def publish_storyboard(store: "ArtifactStore", plan: "Plan", masters: dict[str, "StageRecord"],
                       keyframes: list["StageRecord"]) -> str:
    """Write storyboard.png into the store (only when its bytes change) and show it in the UI.
    The sheet is drawn again only when its pictures or captions changed (noted beside it by
    digest), so a cached re-run does not repaint it."""
    from prefect.artifacts import create_image_artifact

    from reel.camera import camera_move
    from reel.ids import digest

    drawn_from = digest([[s, r.artifact().sha256] for s, r in masters.items()]
                        + [[camera_move(plan.shots[i].prompt), r.artifact().sha256] for i, r in enumerate(keyframes)],
                        24).encode()
    note = STORYBOARD + ".from"
    if not (store.exists(STORYBOARD) and store.exists(note) and store.read_bytes(note) == drawn_from):
        png = contact_sheet(storyboard_rows(store, plan, masters, keyframes))
        store.write_if_changed(STORYBOARD, png)
        store.write_if_changed(note, drawn_from)
    url = browser_url(store, STORYBOARD)
    create_image_artifact(image_url=url, key=artifact_key(store.reel_id, "storyboard"),
                          description=f"Storyboard of reel {store.reel_id}: masters, then each shot's keyframe")
    return url


# -- progress ------------------------------------------------------------------------------------
_progress_ids: dict[tuple[str, str], Any] = {}


def _run_id() -> str:
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return str(ctx.flow_run.id) if ctx and ctx.flow_run else ""


def shots_progress(done: int, total: int) -> float:
    return KEYFRAMED + (SHOTS_DONE - KEYFRAMED) * done / max(total, 1)


@best_effort
def publish_progress(reel_id: str, percent: float, note: str) -> None:
    """Create this run's progress artifact on first call, update it after."""
    from prefect.artifacts import create_progress_artifact, update_progress_artifact

    slot = (reel_id, _run_id())
    description = f"Reel {reel_id}: {note}"
    if slot not in _progress_ids:
        _progress_ids[slot] = create_progress_artifact(progress=percent, key=artifact_key(reel_id, "progress"),
                                                       description=description)
    else:
        update_progress_artifact(_progress_ids[slot], progress=percent, description=description)


# -- shots ---------------------------------------------------------------------------------------
def scores(a: Attempt) -> dict[str, Any]:
    v = a.verdict
    return {"overall": v.overall if v.scored else None, "character_match": v.character_match,
            "scene_match": v.scene_match, "composition": v.composition, "artifact_free": v.artifact_free}


@best_effort
def emit_shot_events(reel_id: str, shot_index: int, attempts: list[Attempt], shipped: int) -> None:
    """reel.shot.rendered and reel.shot.verdict for every attempt of a finished shot."""
    from prefect.events import emit_event

    resource = {"prefect.resource.id": f"reel.shot.{reel_id}.{shot_index}",
                "prefect.resource.name": f"{reel_id} shot {shot_index}", "reel.id": reel_id}
    for a in attempts:
        base = {"reel_id": reel_id, "shot": shot_index, "attempt": a.attempt, "seed": a.knobs.seed,
                "scores": scores(a)}
        emit_event("reel.shot.rendered", resource=resource, payload=base)
        emit_event("reel.shot.verdict", resource=resource,
                   payload=base | {"passed": a.passed, "shipped": a.attempt == shipped, "critic": a.verdict.critic,
                                   "labels": [i.label.value for i in a.verdict.issues if i.label],
                                   "next": a.next_change})


def shot_finished(reel_id: str, shot_index: int, attempts: list[Attempt], shipped: int, done: int,
                  total: int) -> None:
    """A shot is final: its events, and the progress bar moves."""
    emit_shot_events(reel_id, shot_index, attempts, shipped)
    publish_progress(reel_id, shots_progress(done, total), f"{done}/{total} shots done (shot {shot_index} last)")


# -- scorecard -----------------------------------------------------------------------------------
def scorecard_rows(shots: list[tuple[int, list[Attempt], int]]) -> list[dict]:
    rows = []
    for shot_index, attempts, shipped in shots:
        for a in attempts:
            v = a.verdict
            rows.append({
                "shot": shot_index, "attempt": a.attempt,
                "overall": v.overall if v.scored else "unscored",
                "character": v.character_match, "scene": v.scene_match, "composition": v.composition,
                "artifacts": v.artifact_free,
                "labels": ", ".join(i.label.value for i in v.issues if i.label) or "-",
                "result": "shipped" if a.attempt == shipped else ("pass" if a.passed else "fail"),
                "critic": v.critic, "next": a.next_change or "-",
            })
    return rows


def publish_scorecard(reel_id: str, shots: list[tuple[int, list[Attempt], int]]) -> None:
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=scorecard_rows(shots), key=artifact_key(reel_id, "critic-scorecard"),
                          description=f"Critic scorecard for reel {reel_id}: every attempt of every shot")


# -- the end -------------------------------------------------------------------------------------
@best_effort
def publish_final(store: "ArtifactStore", final_path: str, manifest_path: str = "manifest.json") -> None:
    """Links to the finished reel and its manifest, and the progress bar at 100 %."""
    from prefect.artifacts import create_link_artifact

    create_link_artifact(link=browser_url(store, final_path), link_text=f"{store.reel_id}/{final_path}",
                         key=artifact_key(store.reel_id, "reel"), description=f"The finished reel {store.reel_id}")
    create_link_artifact(link=browser_url(store, manifest_path), link_text=f"{store.reel_id}/{manifest_path}",
                         key=artifact_key(store.reel_id, "manifest"),
                         description=f"Manifest of reel {store.reel_id}: artifacts, sha256s, seeds, timings")
    publish_progress(store.reel_id, FINISHED, f"done: {store.url(final_path)}")
