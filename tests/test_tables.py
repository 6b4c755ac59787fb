"""Every JSON table in prompts/ and configs/ against its schema (reel/table_schemas/): a broken
table fails here with its file and key, not at render time."""

from __future__ import annotations

import json

import pytest

from reel import prompts


@pytest.mark.parametrize("name", prompts.tables())
def test_every_table_matches_its_schema(name):
    prompts.check(name, json.loads(prompts.text(name)))


def test_every_table_has_a_schema_and_every_schema_a_table():
    assert set(prompts.tables()) == set(prompts.SCHEMAS)


@pytest.mark.parametrize("name, edit, where", [
    ("strategies.json", lambda t: t["labels"]["CAMERA_IGNORED"]["first"].update(camra="static"),
     "labels.CAMERA_IGNORED.first.camra"),
    ("director_rules.json", lambda t: t["layouts"]["6"].append("climaks"), "slots named by layouts"),
    ("qc_thresholds.json", lambda t: t["freeze"].update(good="high"), "freeze.good"),
    ("animatic.json", lambda t: t["colours"].update(teal=[0, 128, 300]), "colours.teal.2"),
])
def test_a_broken_table_names_its_file_and_key(name, edit, where):
    data = json.loads(prompts.text(name))
    edit(data)
    with pytest.raises(prompts.TableError) as err:
        prompts.check(name, data)
    assert name in str(err.value) and where in str(err.value)


def test_configuration_lives_in_configs_and_prompts_in_prompts():
    assert prompts.path("costs.json").parent.name == "configs"
    assert prompts.path("strategies.json").parent.name == "configs"
    assert prompts.path("director_rules.json").parent.name == "prompts"
