"""Input that must be refused up front: reel ids that leave the root, artifact paths that escape
the reel folder, plans that do not fit their language, folders that cannot be written."""

from __future__ import annotations

import json
import os

import pytest

from reel.errors import UserError
from reel.ids import check_reel_id
from reel.store import ArtifactStore
from tests.helpers import reel_cli


@pytest.mark.parametrize("bad", ["../escape", "a/b", "..", ".hidden", "", "x" * 101, "a b", "ü-reel", "a\\b"])
def test_reel_ids_that_are_not_one_safe_folder_name_are_refused(bad):
    with pytest.raises(UserError, match="one folder name"):
        check_reel_id(bad)


def test_cli_refuses_an_escaping_reel_id_before_anything_is_written(tmp_path):
    root = tmp_path / "x" / "root"
    for args in (["make", "a quiet harbour at dawn", "--out", str(root), "--reel-id", "../escape"],
                 ["make", "a quiet harbour at dawn", "--out", str(root), "--reel-id", "a/b"],
                 ["resume", "../escape", "--out", str(root)]):
        proc = reel_cli(*args)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "one folder name" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").rglob("*.json"))


def test_artifact_paths_stay_inside_the_reel_folder_on_disk(tmp_path):
    store = ArtifactStore(str(tmp_path / "root"), "r1")
    store.write_bytes("clips/a.txt", b"ok")
    for rel in ("../r2/x.txt", "/etc/x", "clips/../../x", "a\\..\\x"):
        with pytest.raises(ValueError, match="reel folder"):
            store.write_bytes(rel, b"no")
    os.symlink(tmp_path, tmp_path / "root" / "r1" / "out")
    with pytest.raises(ValueError, match="outside the reel folder"):
        store.write_bytes("out/x.txt", b"no")
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "root" / "r2").exists()


def test_artifact_keys_stay_inside_the_reel_prefix_on_s3():
    pytest.importorskip("s3fs")
    store = ArtifactStore("s3://bucket/reels", "r1")
    assert store._full("clips/a.mp4") == "bucket/reels/r1/clips/a.mp4"
    for rel in ("../r2/a.mp4", "/a.mp4", "clips/../../a.mp4"):
        with pytest.raises(ValueError, match="reel folder"):
            store._full(rel)


def test_unwritable_root_or_home_is_refused_before_prefect_starts_and_doctor_says_so(tmp_path):
    # A folder under a plain file cannot be made, even by root (chmod would not stop root).
    locked = tmp_path / "a-file"
    locked.write_text("")
    home = {"HOME": str(locked), "PREFECT_HOME": str(locked / ".prefect"), "REEL_GPU_LOCK": str(locked / "c" / "gpu.lock")}
    cases = [
        (["make", "a quiet harbour at dawn", "--out", str(locked / "out")], {}, "the output root", "--out or REEL_ROOT"),
        (["make", "a quiet harbour at dawn", "--out", str(tmp_path / "out")], home, "Prefect's home", "PREFECT_HOME"),
    ]
    for args, env, what, setting in cases:
        proc = reel_cli(*args, env=env)
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert what in line and setting in line and "\n" not in line and "Traceback" not in line, line
        assert "run the same command again" not in line
    doctor = reel_cli("doctor", env=home)
    assert doctor.returncode == 1 and "Prefect's home" in doctor.stdout and "REEL_GPU_LOCK" in doctor.stdout, doctor.stdout


@pytest.fixture(scope="module")
def plan_data() -> dict:
    from models import base

    return base.create("director", "heuristic").plan("two friends share a coffee on a Paris rooftop at dawn",
                                                     n_shots=3).model_dump(mode="json")


def _problems(data: dict) -> str:
    from tasks.plan import parse_plan

    with pytest.raises(UserError) as err:
        parse_plan(data)
    return str(err.value)


def test_narration_in_another_script_than_vo_lang_is_refused(plan_data):
    assert plan_data["vo_lang"] == "f"
    said = _problems(plan_data | {"vo_lang": "j"})
    assert "vo_script_per_shot.0 is written in Latin script, but vo_lang is 'j' (Japanese)" in said, said


def test_narration_in_another_language_of_the_same_script_is_refused(plan_data, tmp_path):
    """English lines under vo_lang 'f' pass the script check (both Latin) but not the language
    identifier; a real `reel make --plan` says so in one line before anything renders."""
    english = ["Two friends climb the stairs to the roof.", "The city wakes below them, grey and gold.",
               "They share one cup of coffee and laugh."]
    bad = plan_data | {"vo_script_per_shot": english}
    said = _problems(bad)
    assert "vo_script_per_shot reads as English" in said and "vo_lang is 'f' (French)" in said, said
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(bad), encoding="utf-8")
    proc = reel_cli("make", "--plan", str(plan_file), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "reads as English" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.mp4"))
    # Chinese under Japanese: both CJK, told apart the same way; the same lines under 'z' pass.
    chinese = ["两个朋友爬上屋顶的楼梯。", "城市在他们脚下慢慢醒来。", "他们分享一杯咖啡，笑了起来。"]
    assert "reads as Chinese" in _problems(plan_data | {"vo_lang": "j", "vo_script_per_shot": chinese})
    from tasks.plan import parse_plan

    assert parse_plan(plan_data | {"vo_lang": "z", "vo_script_per_shot": chinese}).vo_lang == "z"


def test_narration_too_long_to_speak_is_refused_in_every_script(plan_data):
    japanese = plan_data | {"vo_lang": "j", "vo_script_per_shot": ["夜の駅で彼女は静かに歌う。" * 230] + ["静かな朝。"] * 2}
    said = _problems(japanese)
    assert "vo_script_per_shot.0 would take about" in said and "Japanese" in said, said
    assert "vo_script_per_shot.1" not in said
    # Twelve words (the word limit is 20), but about 14 s of speech.
    long_words = ("Extraordinarily incomprehensible characteristically uncharacteristic circumstances "
                  "overwhelmingly unforgettable. ") * 2
    english = plan_data | {"vo_script_per_shot": [long_words.strip()] * 3}
    assert "would take about" in _problems(english)


def test_a_shot_without_its_characters_verbatim_reference_is_refused(plan_data):
    from reel.schema import short_reference

    shots = [dict(s) for s in plan_data["shots"]]
    key = shots[0]["dominant_subject"]
    ref = short_reference(plan_data["characters"][key])
    shots[0]["prompt"] = shots[0]["prompt"].replace(ref, "a person")
    said = _problems(plan_data | {"shots": shots})
    assert f"shots.0.prompt does not contain character {key}'s reference" in said, said


def test_a_plan_file_that_is_not_utf8_json_is_one_line(tmp_path):
    binary = tmp_path / "plan.json"
    binary.write_bytes(bytes(range(256)) * 4)
    proc = reel_cli("make", "--plan", str(binary), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "run the same command again" not in proc.stderr
