"""The openai director and critic on a real OpenAI-compatible server with a real model, set up as a
new user would: llama.cpp's server (the xllamacpp wheel) on 127.0.0.1 serving Gemma 3 270M (tests/llama_server.py).
One test per command that plans (`reel plan`, `reel make`, a batch; a deployment in
tests/test_operate.py), what this server really refuses (a `json_schema` response format, a context
too small), `reel doctor`, and a weak model's plan. The entry points run with the heuristic fallback:
whether this 270M base model's plan passes every rule depends on its sample, and either way the plan
was asked of the server (its access log) and the manifest says which director's plan the reel used.
Timings print with -s."""

from __future__ import annotations

import json
import time

import pytest

from models import base
from models.gpu import openai_chat
from reel.errors import BackendUnavailable
from reel.schema import Plan
from tests.helpers import reel_cli
from tests.llama_server import FALLBACK, MODEL, LlamaServer, planned_on_the_server

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.model_server]

PROMPT = "a fisherman mends his nets on a windy pier at dawn"
# Seeds whose 270M plans close their JSON on this machine: with seed 1 `reel plan` looped to the
# 4096-token window twice (two 2,279-token replies, 10 min on two busy cores) before the fallback.
# Another CPU may sample otherwise; the window bounds it, and each test accepts either director.
SEED = 0


def director(server):
    return base.create("director", "openai", model="unused", openai_base_url=server.url, openai_model=MODEL)


def test_reel_plan_asks_the_configured_server_with_the_json_schema_it_honours(llama_server, tmp_path):
    """`reel plan` plans on the configured server. llama-server honours response_format json_schema
    (it turns the schema into a grammar): the first form is kept and answered. The plan printed is
    validated by the same rules as any plan; when the 270M model's plan still breaks a rule after the
    re-ask, the rule is named, both raw replies are saved (and parse as JSON: decoding held to the
    schema), and the offline director's plan is used."""
    before = len(llama_server.answered())
    started = time.time()
    proc = reel_cli("plan", PROMPT, "--shots", "1", "--seed", str(SEED), "--director-fallback", "heuristic",
                    env=llama_server.env(REEL_ROOT=str(tmp_path)))
    print(f"reel plan, 1 shot, on the real server: {time.time() - started:.1f}s")
    assert proc.returncode == 0, proc.stderr
    assert len(Plan.model_validate(json.loads(proc.stdout)).shots) == 1
    assert llama_server.answered_since(before)[:1] == ["200"]
    assert openai_chat.traits(llama_server.url, MODEL).structured == "json_schema"
    replies = sorted(tmp_path.glob("*/director/reply-*.txt"))
    if "wrote no valid plan" in proc.stderr:
        assert [r.name for r in replies] == ["reply-1.txt", "reply-2.txt"], proc.stderr
        assert "wrote no valid plan (" in proc.stderr and str(replies[0]) in proc.stderr
        assert all(isinstance(json.loads(r.read_text()), dict) for r in replies)
    else:
        assert not replies


def test_reel_make_plans_on_the_server_and_renders_on_the_preview_backends(llama_server, tmp_path):
    before = len(llama_server.answered())
    started = time.time()
    proc = reel_cli("make", PROMPT, "--shots", "1", "--seed", "2", "--out", str(tmp_path),
                    "--director-fallback", "heuristic", env=llama_server.env())
    print(f"reel make, 1 shot, planned on the server: {time.time() - started:.1f}s")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (reel,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((reel / "manifest.json").read_text())
    print("plan by", planned_on_the_server(manifest))
    assert (reel / "reel.mp4").stat().st_size > 0
    assert "200" in llama_server.answered_since(before)


def test_a_batch_plans_each_reel_on_the_server(llama_server, tmp_path, monkeypatch):
    from flows.batch import batch

    for key, value in llama_server.env(**FALLBACK).items():
        monkeypatch.setenv(key, value)
    before = len(llama_server.answered())
    state = batch(prompts=[PROMPT], preset="preview", n_shots=1, seed=3, root=str(tmp_path), in_process=True,
                  return_state=True)
    assert state.is_completed() and state.message.startswith("1/1 reels made"), state.message
    (reel,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    planned_on_the_server(json.loads((reel / "manifest.json").read_text()))
    assert "200" in llama_server.answered_since(before)


def test_a_context_too_small_is_one_line_saying_how_much_the_plan_needs(tmp_path):
    """The prompt alone overflows a 1024-token window: the server says so (HTTP 400) and the error
    names the context to give it. With room for the prompt and a few tokens, the reply is cut off
    (finish_reason length): told apart from a bad reply, with the same advice."""
    def plan_on(context: int) -> tuple[LlamaServer, str]:
        server = LlamaServer.start(tmp_path, context=context)
        try:
            with pytest.raises(BackendUnavailable) as caught:
                director(server).plan(PROMPT, 1, SEED)
        finally:
            server.stop()
        return server, str(caught.value)

    small, said = plan_on(1024)
    assert said.count("\n") == 0 and "has a 1024-token context" in said and "a 1-shot plan needs about" in said
    prompt_tokens = int(said.split(" tokens of prompt")[0].rsplit("(", 1)[1])
    assert "(llama.cpp: -c " in said and "exceeds the available context size" in small.answered()[-1]

    tight, said = plan_on(prompt_tokens + 48)  # llama.cpp rounds the window up to a multiple of 256
    window = int(said.split("-token context")[0].rsplit("has a ", 1)[1])
    assert prompt_tokens + 48 <= window < prompt_tokens + 48 + 256 and f"({prompt_tokens} tokens of prompt" in said
    assert tight.answered()[-1] == "200"  # the server answered: it was the reply that did not fit


def test_doctor_checks_the_configured_server(llama_server):
    proc = reel_cli("doctor", env=llama_server.env(REEL_OPENAI_MODEL="no-such-model", REEL_BACKEND_CRITIC="openai"))
    lines = [line for line in proc.stdout.splitlines() if " server " in line[:20]]
    said = "\n".join(lines)
    assert proc.returncode == 1 and len(lines) >= 5, proc.stdout
    assert f"[  ok] server     {llama_server.url} answers for the director and critic" in said
    assert "[FAIL] server     REEL_OPENAI_MODEL='no-such-model' is not among the models" in said and MODEL in said
    assert f"[  ok] server     {llama_server.url} honours response_format json_schema" in said
    assert "[  ok] server     context window 4096 tokens; a 6-shot plan needs about" in said  # from /props
    assert "[FAIL] server     the critic server" in said and "refused images" in said


def test_a_critic_on_a_server_without_vision_stops_at_its_first_question_in_one_line(llama_server, tmp_path):
    """llama-server without --mmproj refuses image parts (HTTP 500 "image input is not supported"):
    `reel make` with the openai critic stops at the critic's first question, once, with one line
    naming the setting to change; the offline director plans, so no plan is asked of the server."""
    before = len(llama_server.answered())
    proc = reel_cli("make", PROMPT, "--shots", "1", "--seed", "4", "--out", str(tmp_path),
                    env={**llama_server.env(REEL_BACKEND_CRITIC="openai"), "REEL_BACKEND_DIRECTOR": "heuristic"})
    said = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert said[-1].startswith("reel: error: the critic server") and "refused images" in said[-1], said[-3:]
    assert "REEL_BACKEND_CRITIC=measured" in said[-1] and "--mmproj" in said[-1]
    asked = llama_server.answered_since(before)
    assert len(asked) == 1 and asked[0].startswith("500 image input is not supported"), asked  # no retry
