"""The typed run request (flows/request.py): built and validated once, the same for the CLI, the
flow's deployment parameters and `reel resume`; a new field reaches all three with no other edit."""

from __future__ import annotations

import argparse
import json

import pytest
from prefect import flow
from pydantic import Field

from app.cli import _request_from, add_request_options, parser
from flows.reel_flow import reel_flow
from flows.request import ReelRequest, takes_request
from reel.errors import UserError

PROMPT = "a violinist plays in a Brooklyn subway station at midnight"


class WithTurbo(ReelRequest):
    """The request with one option more, declared as a new option is: one field."""

    turbo: bool = Field(False, description="the step-distilled video model")


def test_a_new_field_reaches_the_cli_the_deployment_and_resume(tmp_path):
    # The CLI: `--turbo` exists and lands in the request.
    p = argparse.ArgumentParser()
    add_request_options(p, WithTurbo, preset="preview")
    request = _request_from(p.parse_args([PROMPT, "--turbo", "--shots", "4"]), WithTurbo)
    assert request.turbo is True and request.n_shots == 4 and request.preset == "preview"
    # A flow made the way the reel flow is: its deployment parameters have the field.
    seen = flow(name="turbo-check")(takes_request(WithTurbo)(lambda **fields: WithTurbo(**fields).turbo))
    assert seen.parameters.properties["turbo"]["default"] is False
    assert seen.validate_parameters({"prompt": PROMPT, "turbo": True})["turbo"] is True
    # resume: request.json is the request's dump, validated back.
    back = WithTurbo.from_stored(json.loads(request.stored()), request.id, str(tmp_path))
    assert back.turbo is True and back == request.model_copy(update={"reel_id": request.id, "root": str(tmp_path)})


def test_every_field_is_a_make_option_and_a_deployment_parameter():
    make = parser()._subparsers._group_actions[0].choices["make"]
    options = {a.dest for a in make._actions}
    assert set(ReelRequest.model_fields) <= options
    assert list(reel_flow.parameters.properties) == list(ReelRequest.model_fields)


def test_the_request_names_the_reels_it_always_named():
    """The id recipe is the one reels were made with: an existing reel is found again."""
    assert ReelRequest(prompt=PROMPT, preset="preview").id == "a-violinist-plays-in-a-brooklyn-8aacf0f2"
    assert ReelRequest(prompt=f"  {PROMPT}\n", preset="default", aspect="9:16", seed=3, n_shots=4).id == \
        "a-violinist-plays-in-a-brooklyn-cfb375bf"


def test_an_old_request_json_resumes():
    """request.json as the flow wrote it before the request had a type (and the CPU family its name)."""
    old = {"prompt": PROMPT, "plan": None, "preset": "preview", "aspect": "16:9", "seed": 0, "backends": "preview",
           "n_shots": 6, "loudness": None, "subtitles": None, "seconds": None, "shot_seconds": None, "review": False}
    request = ReelRequest.from_stored(old, "a-violinist-plays-in-a-brooklyn-8aacf0f2", "/tmp/reels")
    assert request.backends == "cpu" and request.resolve().backends["video"] == "camera-move"
    assert request.resolve().ref.reel_id == "a-violinist-plays-in-a-brooklyn-8aacf0f2"


@pytest.mark.parametrize("fields, says", [
    ({"prompt": ""}, "the prompt is empty"),
    ({"prompt": PROMPT, "n_shots": 13}, "a reel has 1-12 shots"),
    ({"prompt": PROMPT, "aspect": "3:2"}, "unknown aspect"),
    ({"prompt": PROMPT, "preset": "ultra"}, "unknown preset"),
    ({"prompt": PROMPT, "reel_id": "../x"}, "is not allowed"),
    ({"prompt": PROMPT, "seconds": 10, "shot_seconds": 2}, "not both"),
    ({"plan": {"shots": []}}, "does not match the plan schema"),
])
def test_a_bad_request_is_one_clear_error(fields, says):
    with pytest.raises(UserError, match=says):
        ReelRequest(**fields)
