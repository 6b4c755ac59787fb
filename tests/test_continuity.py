"""Continuity across uncut shots and a critic that knows a clip is the shot, on one real preview reel
(real Prefect server, real keyframes, real x264 clips), checked with PySceneDetect.

The plan is fixed here (not planned from a prompt) so its cut flags are known: shot 1 continues
shot 0, shot 2 is a hard cut to an insert, shot 3 continues shot 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from scenedetect import AdaptiveDetector, ContentDetector, detect

from models.cpu.camera_move import CameraMoveVideo
from models.measured.measured_critic import MeasuredCritic
from reel import prompts
from reel.schema import Plan, RenderKnobs
from tests.helpers import reel_cli
from tests.test_measured_critic import encode

pytestmark = pytest.mark.usefixtures("prefect_server")

GABRIEL = ("Gabriel the fisherman (74-year-old athletic man, rust oilskin jacket, silver hair, trimmed beard, "
           "brass pendant) has olive skin, a strong jaw and a thin scar through one eyebrow. Under the oilskin "
           "jacket he wears a grey turtleneck, dark jeans and black leather boots.")
WHO = GABRIEL.split(" has olive")[0]
LIGHT = "Pale dawn light spreads slowly across the Lisbon pier, cool blue shadows warming toward pink."
SHOTS = [  # (shot_type, subject, cut, prompt)
    ("Wide crane", "A", True, f"Crane shot rising slowly to a wide establishing view. {WHO} walks down the "
                              f"middle of the Lisbon pier. {LIGHT}"),
    ("Medium tracking", "A", False, f"Truck right alongside at walking pace. {WHO} slows his steps and lifts his "
                                    f"chin. {LIGHT}"),
    ("Insert close-up", "scene", True, f"Tilt down slowly onto a close detail. A coiled fishing net lies on a low "
                                       f"stone ledge. {LIGHT}"),
    ("Medium close-up", "A", False, f"Static camera, medium close-up at eye level. {WHO} blinks slowly, a small "
                                    f"smile gathering. {LIGHT}"),
]
PLAN = {
    "characters": {"A": GABRIEL},
    "story_logline": "At dawn, Gabriel the fisherman mends his net on the Lisbon pier.",
    "shots": [dict(index=i, is_hero=i == 0, shot_type=t, dominant_subject=d, cut=c, prompt=p)
              for i, (t, d, c, p) in enumerate(SHOTS)],
    "music_style": "solo guitar, 70 BPM, calm",
    "vo_script_per_shot": ["Every dawn he comes back to the pier.", "The wind smells of salt and rope.",
                           "His net waits where he left it.", "He smiles, and starts to mend."],
    "vo_lang": "a",  # the lines are English
}


@pytest.fixture(scope="module")
def reel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("continuity")
    (tmp / "plan.json").write_text(json.dumps(PLAN))
    proc = reel_cli("make", "--plan", str(tmp / "plan.json"), "--out", str(tmp / "out"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (reel_dir,) = [p for p in (tmp / "out").iterdir() if p.is_dir()]
    return reel_dir


def _knobs(reel_dir: Path, shot: int) -> RenderKnobs:
    manifest = json.loads((reel_dir / "manifest.json").read_text())
    return RenderKnobs.model_validate(manifest["shots"][shot]["attempts"][0]["knobs"])


def _judge(reel_dir: Path, shot: int, clip: Path, keyframe_of: int | None = None, end_of: int | None = None):
    """The tier-1 verdict on `clip` as shot `shot`, rendered from keyframe `keyframe_of` (default its own)."""
    plan = Plan.model_validate(PLAN)
    key = reel_dir / "keyframes" / f"keyframe_{shot if keyframe_of is None else keyframe_of}.png"
    end = None if end_of is None else reel_dir / "keyframes" / f"keyframe_{end_of}.png"
    portraits = {"A": reel_dir / "masters" / "master_A.png"}
    return MeasuredCritic().critique(plan, plan.shots[shot], clip, key, portraits, _knobs(reel_dir, shot), end)


def _clip(reel_dir: Path, shot: int) -> Path:
    return reel_dir / "clips" / f"shot_{shot:02d}_attempt_1.mp4"


def _frames(clip: Path) -> list:
    cap, out = cv2.VideoCapture(str(clip)), []
    while (got := cap.read())[0]:
        out.append(got[1])
    cap.release()
    return out


def test_hard_cuts_only_before_cut_shots(reel):
    """PySceneDetect on the final reel: a cut at the boundary before shot 2 (cut true), none at the
    boundaries before shots 1 and 3 (cut false) and none inside any shot."""
    plan = Plan.model_validate(PLAN)
    knobs = _knobs(reel, 0)
    shot_seconds = knobs.frames / knobs.fps
    expected = [i * shot_seconds for i, s in enumerate(plan.shots) if s.cut and i > 0]
    for detector in (ContentDetector(), AdaptiveDetector()):
        cuts = [start.seconds for start, _ in detect(str(reel / "reel.mp4"), detector)][1:]  # [0] is the start
        assert len(cuts) == len(expected), (type(detector).__name__, cuts, expected)
        for got, want in zip(cuts, expected):
            assert got == pytest.approx(want, abs=1.5 / knobs.fps), (type(detector).__name__, cuts, expected)


def test_real_clips_of_the_reel_pass_and_meet_the_next_keyframe(reel):
    verdicts = {v["shot"]: v for v in map(json.loads, (reel / "verdicts.jsonl").read_text().splitlines())
                if v["attempt"] == 1}
    good = prompts.table("qc_thresholds.json")["structure"]["good"]
    for shot, v in verdicts.items():
        assert v["passed"] and v["issues"] == [], (shot, v["issues"])
        assert v["measurements"]["first_frame_structure"] >= good, (shot, v["measurements"])
    for shot in (0, 2):  # continued by shots 1 and 3: they end on the next keyframe
        assert verdicts[shot]["measurements"]["last_frame_to_next_keyframe"] >= good, verdicts[shot]["measurements"]
    for shot in (1, 3):  # followed by a cut (or nothing): no hand-over asked
        assert "last_frame_to_next_keyframe" not in verdicts[shot]["measurements"]


def test_another_shots_clip_fails(reel):
    """The insert's clip judged as the wide shot, and the other way round: the first frame is not the keyframe."""
    fail = prompts.table("qc_thresholds.json")["structure"]["fail"]
    for shot, other in ((0, 2), (2, 0)):
        v = _judge(reel, shot, _clip(reel, other))
        assert not v.passes(6), (shot, other, v)
        issue = next((i.detail for i in v.issues if i.detail.startswith("not this shot")), "")
        assert v.measurements["first_frame_structure"] < fail and f"threshold {fail}" in issue, (shot, other, v)


def test_clip_whose_second_half_is_another_shot_fails(reel, tmp_path):
    own, other = _frames(_clip(reel, 1)), _frames(_clip(reel, 2))
    half = len(own) // 2
    spliced = encode(own[:half] + other[half:], tmp_path / "spliced.mp4", fps=_knobs(reel, 1).fps, crf=20)
    v = _judge(reel, 1, spliced)
    assert not v.passes(6), v
    issue = next((i.detail for i in v.issues if i.detail.startswith("scene cut inside the clip")), "")
    assert f"between frames {half - 1} and {half}" in issue and "threshold" in issue
    assert v.measurements["first_frame_structure"] >= prompts.table("qc_thresholds.json")["structure"]["good"]


def test_ending_that_does_not_meet_the_next_keyframe_fails(reel, tmp_path):
    """Shot 0 rendered as if shot 1 were a cut (no end frame): fine as a shot, wrong before a continuation."""
    plan = Plan.model_validate(PLAN)
    clip = tmp_path / "hard_cut.mp4"
    CameraMoveVideo().render(plan, plan.shots[0], reel / "keyframes" / "keyframe_0.png", None, _knobs(reel, 0), clip)
    alone = _judge(reel, 0, clip)
    assert alone.passes(6) and alone.issues == [], alone.issues
    continued = _judge(reel, 0, clip, end_of=1)
    assert not continued.passes(6), continued
    issue = next((i.detail for i in continued.issues if i.detail.startswith("no continuity")), "")
    assert "cut false" in issue and "threshold" in issue, continued


def test_a_render_that_ends_on_the_next_keyframe_is_keyed_on_it():
    """The cache: a continued shot's clip depends on the next keyframe and the next shot's camera."""
    from reel.records import ReelRef, StageRecord
    from reel.store import Artifact
    from tasks import render
    from reel.presets import get_preset

    plan = Plan.model_validate(PLAN)
    ref = ReelRef(root="/tmp/nowhere", reel_id="r")
    rec = lambda sha: StageRecord(stage="keyframe", subject="s", started=1.0, ended=2.0, backend="preview",  # noqa: E731
                                  model_id="x", artifacts={"main": Artifact(path="k.png", sha256=sha, size=1)})
    knobs = render.first_knobs(plan, 0, get_preset("preview"), 0)
    key = lambda nxt, p=plan: render._key(ref, p, 0, 1, rec("a" * 64), knobs, "cpu", nxt)  # noqa: E731
    assert key(None) != key(rec("b" * 64)) != key(rec("c" * 64))
    assert key(rec("b" * 64)) == key(rec("b" * 64))
    moved = Plan.model_validate({**PLAN, "shots": [PLAN["shots"][0],
                                                   {**PLAN["shots"][1], "prompt": "Pan left. " + SHOTS[1][3]}]
                                 + PLAN["shots"][2:]})
    assert key(rec("b" * 64), moved) != key(rec("b" * 64))


def test_a_critique_is_keyed_on_what_it_judges():
    """The critique's one typed input (tasks/critique.py CritiqueInput) is what its cache key reads:
    the clip, the end frame it must meet, the threshold, the attempt and the portraits of the shot's
    characters each move the key; a master of nobody in the shot does not."""
    from reel.presets import get_preset
    from reel.records import ReelRef, StageRecord
    from reel.store import Artifact
    from tasks import render
    from tasks.critique import CritiqueInput, _key

    plan = Plan.model_validate(PLAN)
    rec = lambda sha: StageRecord(stage="x", artifacts={"main": Artifact(path="x", sha256=sha * 64, size=1)})  # noqa: E731
    job = CritiqueInput(plan=plan, shot_index=0, attempt=1, clip=rec("1"), keyframe=rec("2"), masters={"A": rec("3")},
                        knobs=render.first_knobs(plan, 0, get_preset("preview"), 0), threshold=6.0, backend="cpu")
    key = lambda **change: _key(ReelRef(root="/tmp/nowhere", reel_id="r"), job.model_copy(update=change))  # noqa: E731
    assert key() == key()
    for change in (dict(clip=rec("4")), dict(end_frame=rec("5")), dict(threshold=7.0), dict(attempt=2),
                   dict(masters={"A": rec("6")})):
        assert key(**change) != key(), change
    assert key(masters={"A": rec("3"), "B": rec("7")}) == key()  # the plan has no character B
