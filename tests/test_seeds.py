"""Each stage's seed comes from one function (reel.seeds.derive), is passed into the stage and is
the value its cache key reads: change the derivation in that one place and every stage follows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reel import seeds
from reel.seeds import Seeds


def test_the_seeds_are_the_ones_reels_have_always_had():
    """Figures from the derivations this replaced (tasks/*.py, reel/strategies.py, flows/review.py):
    an existing reel's cache keys stay valid."""
    s = Seeds(5)
    assert (s.plan(), s.shorten()) == (5, 5)
    assert s.master("A") == 306652724
    assert s.keyframe(2) == 737817825 and s.keyframe(2, rerolls=2) == 1594645166
    assert s.render(3, 2) == 10894210
    assert s.music() == 1344777910


def test_a_stage_key_reads_the_seed_it_is_given():
    from tasks import music

    assert music._key(None, "brief", 30.0, 4242, "cpu")["seed"] == 4242


@pytest.mark.usefixtures("prefect_server")
def test_every_stage_follows_a_changed_derivation(tmp_path, monkeypatch):
    real = seeds.derive
    shifted = lambda base, stage, *coords: real(base, stage, *coords) + 1000  # noqa: E731
    monkeypatch.setattr(seeds, "derive", shifted)
    from flows.reel_flow import reel_flow

    url = reel_flow(prompt="a fisherman mends his nets on a pier in Lisbon at dawn", preset="preview",
                    root=str(tmp_path), seed=5, n_shots=1)
    manifest = json.loads((Path(url).parent / "manifest.json").read_text())
    got = {(a["stage"], a["subject"]): a["seed"] for a in manifest["artifacts"]}
    want = {("plan", ""): shifted(5, "plan"), ("music", ""): shifted(5, "music"),
            ("keyframe", "shot 0"): shifted(5, "keyframe", 0)}
    want |= {("master", k): shifted(5, "master", k) for _, k in got if _ == "master"}
    want |= {("render", f"shot 0 attempt {a['attempt']}"): shifted(5, "render", 0, a["attempt"])
             for a in manifest["shots"][0]["attempts"]}
    assert {k: got.get(k) for k in want} == want
    assert len([k for k in want if k[0] == "master"]) >= 2
