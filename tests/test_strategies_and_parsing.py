"""Retry strategies and verdict parsing, as plain functions (no Prefect)."""

from __future__ import annotations

import pytest

from models.cpu.director import HeuristicDirector
from reel.camera import camera_move
from reel.presets import get_preset
from reel.schema import FailureLabel, Issue, Verdict
from reel.seeds import Seeds
from reel.strategies import labels_of, next_attempt
from reel.verdict_parse import VerdictParseError, parse_verdict
from tasks.render import first_knobs

SEEDS = Seeds(7)
NEXT = SEEDS.render(1, 2)  # the seed the flow hands the second attempt
PLAN = HeuristicDirector().plan("a violinist and her brother busk in a Kyoto alley at dusk", n_shots=6, seed=1)


def failing(*labels: FailureLabel, overall: float = 4) -> Verdict:
    return Verdict(character_match=5, scene_match=5, composition=4, artifact_free=5, overall=overall,
                   issues=[Issue(label=l, detail="seen") for l in labels], critic="test")


def knobs_for(shot: int = 1):
    return first_knobs(PLAN, shot, get_preset("default"), seed=SEEDS.render(shot, 1))


@pytest.mark.parametrize("label", list(FailureLabel))
def test_every_label_changes_the_next_attempt_and_the_seed(label):
    k1 = knobs_for()
    k2, note = next_attempt(PLAN, 1, [(k1, failing(label))], seed=NEXT)
    assert k2.seed != k1.seed and k2.attempt == 2
    changed = {f for f in type(k1).model_fields if f not in ("seed", "attempt") and getattr(k1, f) != getattr(k2, f)}
    assert changed, f"{label} changed nothing but the seed"
    assert note.startswith("attempt 2: ") and label.value in note


def test_mapped_changes_are_the_documented_ones():
    k1 = knobs_for()
    k2, note = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.CAMERA_IGNORED))], NEXT)
    first_sentence = k2.prompt.split(". ")[0] + "."
    assert first_sentence in {"Slow dolly in.", "Slow pull back.", "Slow pan left.", "Slow pan right.", "Truck left.",
                              "Truck right.", "Slow tilt up.", "Tilt down.", "Crane up.", "Crane down.",
                              "Slow orbit.", "Static camera."}
    assert camera_move(k2.prompt) == camera_move(k1.prompt)  # same move, plainer words
    assert "camera sentence reduced to" in note

    k2, _ = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.OBJECT_MORPHING))], NEXT)
    assert k2.flow_shift == k1.flow_shift - 1 and k2.steps > k1.steps

    k2, _ = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.CHARACTER_DRIFT))], NEXT)
    assert (k2.keyframe_source, k2.end_on_keyframe, k2.flow_shift) == ("master", True, k1.flow_shift - 1)

    k2, _ = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.RANDOM_INTIMACY))], NEXT)
    assert "do not touch, embrace or kiss" in k2.prompt
    assert k2.prompt.rstrip().endswith("photorealistic")  # the lens anchor stays last

    k2, _ = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.EXTRAS_INVADE_FRAME))], NEXT)
    assert "路人" in k2.negative_prompt and "alone in the frame" in k2.prompt


def test_flow_shift_has_a_floor():
    k = knobs_for(0)  # hero: flow_shift 5
    history = []
    for _ in range(4):
        history.append((k, failing(FailureLabel.OBJECT_MORPHING)))
        k, _ = next_attempt(PLAN, 0, history, NEXT)
    assert k.flow_shift == 3.0


def test_a_strategy_that_already_failed_escalates():
    k1 = knobs_for()
    k2, _ = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.CAMERA_IGNORED))], NEXT)
    k3, note = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.CAMERA_IGNORED)),
                                      (k2, failing(FailureLabel.CAMERA_IGNORED))], NEXT)
    assert k3.prompt.startswith("Static camera.") and "escalated" in note


def test_several_labels_combine():
    k1 = knobs_for()
    k2, note = next_attempt(PLAN, 1, [(k1, failing(FailureLabel.OBJECT_MORPHING,
                                                   FailureLabel.HAND_FINGER_ARTIFACT))], NEXT)
    assert "OBJECT_MORPHING" in note and "HAND_FINGER_ARTIFACT" in note
    assert k2.steps == k1.steps + 8 and "多余的手指" in k2.negative_prompt


def test_unlabelled_failure_still_gets_a_new_seed():
    k1 = knobs_for()
    v = Verdict.unscored("test", "no reply")
    assert labels_of(v) == ["UNLABELLED"]
    k2, _ = next_attempt(PLAN, 1, [(k1, v)], NEXT)
    assert k2.seed != k1.seed


def test_parse_tolerates_fences_nesting_and_label_strings():
    reply = """Here is my verdict:
```json
{"shot": 0, "attempt": 1, "score": {"character_match": 9, "scene_match": 8, "composition": 9, "artifact_free": 7,
 "issues": ["STYLIZED_AI_LOOK: plastic skin in frames 1-2", "SCENE_MISMATCH: bridge vanishes", "just odd"],
 "overall": 8}}
```"""
    v = parse_verdict(reply, critic="vlm")
    assert (v.character_match, v.overall, v.scored) == (9, 8, True)
    assert v.issues[0].label is FailureLabel.STYLIZED_AI_LOOK and v.issues[0].detail == "plastic skin in frames 1-2"
    assert v.issues[1].label is None and "SCENE_MISMATCH" in v.issues[1].detail  # kept, never invented
    assert v.issues[2].label is None


def test_parse_accepts_label_objects_and_fills_a_missing_overall():
    v = parse_verdict('{"character_match": 6, "scene_match": 8, "composition": 7, "artifact_free": 9, '
                      '"issues": [{"label": "camera_ignored", "detail": "no dolly"}]}', critic="vlm")
    assert v.overall == 7.5 and v.labels == [FailureLabel.CAMERA_IGNORED]


@pytest.mark.parametrize("reply", ["I think it looks great!", '{"character_match": "high"}',
                                   '{"character_match": 11, "scene_match": 8, "composition": 7, "artifact_free": 9}',
                                   '{"character_match": 6, "scene_match": 8, "composition": 7, "artifact_free": 9, '
                                   '"issues": "none"}', ""])
def test_unusable_replies_raise(reply):
    with pytest.raises(VerdictParseError):
        parse_verdict(reply, critic="vlm")


def test_unscored_never_passes():
    v = Verdict.unscored("vlm", "garbage twice")
    assert not v.passes(0) and not v.passes(7)
