"""How the openai director and critic adapt to a server, for the faults a real small server cannot be
made to show on cue (tests/chat_server.py says which); the real llama.cpp server and model are in
tests/test_model_server.py. Every request here is real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from models import base
from models.gpu import openai_chat
from models.gpu.llm_director import plan_schema
from models.cpu.director import HeuristicDirector
from reel import prompts
from reel.errors import BackendUnavailable, DirectorError
from tests.chat_server import ChatServer, completion
from tests.helpers import ROOT

SENTENCE = "a violinist and her brother play on a Paris bridge at dusk"


@pytest.fixture(scope="module")
def good_plan() -> str:
    return HeuristicDirector().plan(SENTENCE, 2, 0).model_dump_json()


@pytest.fixture
def serve():
    servers: list[ChatServer] = []

    def start(answer) -> ChatServer:
        servers.append(ChatServer(answer=answer))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def director(url: str, model: str = "m"):
    return base.create("director", "openai", model="unused", openai_base_url=url, openai_model=model)


def pydantic_literal_error(field: str, allowed: str) -> tuple[int, dict]:
    """What llama-cpp-python's server answers to a value its request model does not allow (HTTP 500)."""
    return 500, {"error": {"message": f"[{{'type': 'literal_error', 'loc': ('body', '{field}', 'type'), "
                                      f"'msg': \"Input should be {allowed}\", 'input': 'json_schema'}}]",
                           "type": "internal_server_error", "param": None, "code": None}}


def test_structured_output_falls_back_to_json_mode_then_the_prompt_and_remembers_it(serve, good_plan):
    """An LM Studio-like refusal of json_object after llama-cpp-python's refusal of json_schema."""
    def answer(body):
        fmt = body.get("response_format")
        if fmt and fmt["type"] == "json_schema":
            return pydantic_literal_error("response_format", "'text' or 'json_object'")
        if fmt:
            return 400, {"error": {"message": "'response_format.type' must be 'json_schema' or 'text'"}}
        return good_plan

    server = serve(answer)
    d = director(server.url)
    assert len(d.plan(SENTENCE, 2, 0).shots) == 2
    kinds = [(r["body"].get("response_format") or {}).get("type") for r in server.requests]
    assert kinds == ["json_schema", "json_object", None]
    last = server.requests[-1]["body"]["messages"][-1]["content"]
    schema_text = prompts.text("schema_in_prompt.txt").split("{schema}")[0]
    assert schema_text in last and json.dumps(plan_schema(2), separators=(",", ":")) in last
    assert openai_chat.traits(server.url, "m").structured == "prompt"

    director(server.url).plan(SENTENCE, 2, 1)  # a second director on the same server, same process
    assert len(server.requests) == 4 and "response_format" not in server.requests[-1]["body"]


def test_a_refused_thinking_switch_is_dropped_and_inline_thinking_stripped(serve, good_plan):
    def answer(body):
        if "chat_template_kwargs" in body:  # OpenAI's own wording for an unknown field
            return 400, {"error": {"message": "Unrecognized request argument supplied: chat_template_kwargs",
                                   "type": "invalid_request_error", "param": None}}
        return "<think>six shots, a bridge, dusk</think>\n" + good_plan

    server = serve(answer)
    assert len(director(server.url).plan(SENTENCE, 2, 0).shots) == 2
    assert ["chat_template_kwargs" in r["body"] for r in server.requests] == [True, False]


def test_a_refused_field_is_one_line_naming_it_with_advice_a_rerun_cannot_give(serve, tmp_path):
    server = serve(lambda body: (400, {"error": {"message": "seed is not supported by this backend",
                                                 "param": "seed", "type": "invalid_request_error"}}))
    with pytest.raises(BackendUnavailable) as caught:
        director(server.url).plan(SENTENCE, 2, 0)
    said = str(caught.value)
    assert "refused the request's 'seed'" in said and "a re-run sends the same request" in said
    assert len(server.requests) == 1  # not sent again: the same request would be refused again

    # through the CLI: one line, no traceback, and no "run the same command again"
    env = {"REEL_BACKEND_DIRECTOR": "openai", "REEL_OPENAI_BASE_URL": server.url, "REEL_OPENAI_MODEL": "m",
           "REEL_ROOT": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "app.cli", "plan", SENTENCE, "--shots", "2"], cwd=ROOT,
                          capture_output=True, text=True, env={**__import__("os").environ, **env}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "refused the request's 'seed'" in proc.stderr
    assert "Traceback" not in proc.stderr and "run the same command" not in proc.stderr


def test_a_window_smaller_than_the_asked_budget_is_used_when_the_plan_fits(serve, good_plan):
    """vLLM refuses prompt + max_tokens over --max-model-len before decoding; the director asks for what fits."""
    def answer(body):
        if body["max_tokens"] > 4096 - 2096:
            return 400, {"object": "error", "type": "BadRequestError", "code": 400, "message": (
                f"This model's maximum context length is 4096 tokens. However, you requested "
                f"{2096 + body['max_tokens']} tokens (2096 in the messages, {body['max_tokens']} in the completion). "
                "Please reduce the length of the messages or completion.")}
        return good_plan

    server = serve(answer)
    assert len(director(server.url).plan(SENTENCE, 2, 0).shots) == 2
    assert [r["body"]["max_tokens"] for r in server.requests] == [8192, 4096 - 2096 - 16]

    with pytest.raises(BackendUnavailable) as caught:  # 12 shots need more than the window can hold
        director(server.url, "other").plan(SENTENCE, 12, 0)
    said = str(caught.value)
    assert "has a 4096-token context" in said and "a 12-shot plan needs about 6096 tokens" in said
    assert "-c 6144" in said and "--max-model-len 6144" in said


def test_a_reply_cut_by_the_context_is_told_apart_from_a_model_that_never_stops(serve, good_plan):
    cut = completion('{"characters": {"A": "a tall', finish_reason="length",
                     usage={"prompt_tokens": 1900, "completion_tokens": 148})
    server = serve(lambda body: cut)
    with pytest.raises(BackendUnavailable) as caught:
        director(server.url).plan(SENTENCE, 6, 0)
    said = str(caught.value)
    assert "has a 2048-token context" in said and "a 6-shot plan needs about 4100 tokens" in said
    assert len(server.requests) == 1  # a setting fixes it, not a re-ask

    looped = completion('{"characters": {"A": "' + "and " * 1000, finish_reason="length",
                        usage={"prompt_tokens": 1900, "completion_tokens": 8192})
    replies = iter([looped, good_plan])
    server = serve(lambda body: next(replies))
    assert len(director(server.url).plan(SENTENCE, 2, 0).shots) == 2
    reask = server.requests[1]["body"]["messages"]
    assert [m["role"] for m in reask] == ["system", "user", "assistant", "user"]
    assert len(reask[2]["content"]) < len(looped["choices"][0]["message"]["content"])  # the runaway text cut short
    assert "ran past 8192 tokens" in reask[-1]["content"]

    # a runaway stopped by a window that held the plan's room (4096 > 1900 + a 2-shot plan's 1000),
    # as a small model on llama-server loops: asked again, not told to enlarge a context it has
    filled = completion('{"characters": {"A": "' + "and " * 500, finish_reason="length",
                        usage={"prompt_tokens": 1900, "completion_tokens": 2196})
    replies = iter([filled, good_plan])
    server = serve(lambda body: next(replies))
    assert len(director(server.url).plan(SENTENCE, 2, 0).shots) == 2 and len(server.requests) == 2


def test_a_weak_model_fails_with_the_rule_and_its_saved_replies(serve, good_plan, tmp_path):
    from reel.store import ArtifactStore
    from tasks.plan import direct

    wrong = json.loads(good_plan)
    wrong["vo_script_per_shot"] = wrong["vo_script_per_shot"][:1]
    server = serve(lambda body: json.dumps(wrong))
    store = ArtifactStore(str(tmp_path), "weak")
    with pytest.raises(DirectorError) as caught:
        direct(director(server.url), SENTENCE, 2, 0, store)
    said = str(caught.value)
    assert "vo_script_per_shot has 1 lines for 2 shots" in said and "--director-fallback heuristic" in said
    saved = tmp_path / "weak" / "director" / "reply-2.txt"
    assert str(saved) in said and json.loads(saved.read_text()) == wrong

    plan, used, warning = direct(director(server.url), SENTENCE, 2, 0, store, fallback="heuristic")
    assert used.name == "heuristic" and plan == HeuristicDirector().plan(SENTENCE, 2, 0)
    assert "wrote no valid plan (vo_script_per_shot has 1 lines" in warning and str(saved) in warning


def test_a_critic_server_refusing_images_fails_the_first_question_in_one_line(serve, tmp_path):
    from PIL import Image

    frame = tmp_path / "f.png"
    Image.new("RGB", (8, 8)).save(frame)
    # llama.cpp's llama-server without --mmproj
    server = serve(lambda body: (500, {"error": {"code": 500, "type": "server_error", "message": (
        "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj")}}))
    critic = base.create("critic", "openai", model="unused", openai_base_url=server.url, openai_model="m")
    with pytest.raises(BackendUnavailable) as caught:
        critic.ask("system", "Shot 0, attempt 1.", [frame])
    said = str(caught.value)
    assert said.count("\n") == 0 and "refused images" in said and "REEL_BACKEND_CRITIC=measured" in said
    assert len(server.requests) == 1


def test_doctor_names_each_server_problem(serve, monkeypatch, good_plan):
    from app import doctor_server

    def answer(body):
        if any(isinstance(m["content"], list) for m in body["messages"]):
            return 400, {"object": "error", "message": "Qwen3-8B is not a multimodal model", "code": 400}
        if body.get("response_format", {}).get("type") == "json_schema":
            return pydantic_literal_error("response_format", "'text' or 'json_object'")
        return completion('{"ok": true}', usage={"prompt_tokens": 2000, "completion_tokens": 1})

    server = serve(answer)
    for key, value in {"REEL_BACKEND_DIRECTOR": "openai", "REEL_BACKEND_CRITIC": "openai",
                       "REEL_OPENAI_BASE_URL": server.url, "REEL_OPENAI_MODEL": "not-listed"}.items():
        monkeypatch.setenv(key, value)
    lines = doctor_server.check_model_server()
    said = "\n".join(f"[{status}] {detail}" for status, detail in lines)
    assert "[FAIL] REEL_OPENAI_MODEL='not-listed' is not among the models" in said  # scripted: lists none
    assert "[warn]" in said and "refuses json_schema: JSON mode (json_object)" in said
    assert "a 6-shot plan needs about 4200 tokens (2000 of prompt)" in said
    assert "[FAIL] the critic server" in said and "refused images" in said
