"""`reel doctor` on a configured model server (REEL_BACKEND_DIRECTOR or _CRITIC = openai): reachable,
the model listed, structured output (one tiny request), images for the critic, the context a plan
needs. Each problem one line naming the setting; the wording comes from models/gpu/openai_chat.py."""

from __future__ import annotations

import base64
import json
from typing import Callable

from reel.errors import BackendUnavailable

OK, WARN, FAIL = "ok", "warn", "FAIL"
DOCTOR_TIMEOUT_S = 120.0
# an 8x8 grey PNG: the smallest question with an image in it
TINY_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGNsaGhgwAaYsIoOWgkAMBcBkGHHl6YAAAAASUVORK5CYII=")
PING_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
               "additionalProperties": False}
_STRUCTURED = {"json_schema": (OK, "honours response_format json_schema"),
               "json_object": (WARN, "refuses json_schema: JSON mode (json_object) with the schema in the prompt is used"),
               "prompt": (WARN, "has no JSON mode: the schema goes in the prompt, and a weak model's plans may fail "
                                "(--director-fallback heuristic continues on the offline plan)")}


def server_roles() -> list[str]:
    from models.base import resolve_name
    from reel.settings import get_settings

    s = get_settings()
    return [role for role in ("director", "critic") if resolve_name(role, getattr(s, f"backend_{role}")) == "openai"]


def check_model_server() -> list[tuple[str, str]]:
    """One line per finding; nothing to say when no role uses a server."""
    from models.gpu.openai_chat import OpenAIChat
    from reel.settings import get_settings

    roles = server_roles()
    if not roles:
        return []
    s = get_settings()
    if not s.openai_model:
        return [(FAIL, f"REEL_BACKEND_{roles[0].upper()}=openai needs a model name: set REEL_OPENAI_MODEL")]
    chat = OpenAIChat(s.openai_base_url, s.openai_model, s.openai_api_key, DOCTOR_TIMEOUT_S)
    try:
        listed = [m.get("id") for m in chat.models()]
    except BackendUnavailable as exc:
        return [(FAIL, str(exc))]
    lines = [(OK, f"{chat.base_url} answers for the {' and '.join(roles)} ({len(listed)} model(s) listed)")]
    if s.openai_model not in listed:
        lines.append((FAIL, f"REEL_OPENAI_MODEL={s.openai_model!r} is not among the models {chat.base_url} lists "
                            f"({', '.join(map(str, listed[:5])) or 'none'}); set it to one of them"))
    probes: list[Callable[[OpenAIChat], tuple[str, str]]] = [structured, context]
    if "critic" in roles:
        probes.append(images)
    for probe in probes:
        try:
            lines.append(probe(chat))
        except BackendUnavailable as exc:
            lines.append((FAIL, str(exc)))
        except RuntimeError as exc:
            lines.append((FAIL, f"{exc}; check the server's own log"))
    return lines


def structured(chat) -> tuple[str, str]:
    """One tiny request with a schema: what the server honours, remembered as the director will use it."""
    reply = chat.complete([{"role": "user", "content": 'Answer with the JSON object {"ok": true}.'}], PING_SCHEMA,
                          temperature=0.0, max_tokens=32, seed=0, need=16, what="a test reply")
    status, said = _STRUCTURED[chat.traits.structured]
    thinking = "" if chat.traits.thinking_switch else "; refuses chat_template_kwargs (thinking is stripped instead)"
    try:
        json.loads(reply.text[reply.text.find("{"):reply.text.rfind("}") + 1])
    except json.JSONDecodeError:
        return WARN, f"{chat.base_url} {said}, but its test reply was not JSON ({reply.text[:60]!r}){thinking}"
    return status, f"{chat.base_url} {said}{thinking}"


def context(chat) -> tuple[str, str]:
    """The plan's own prompt with a one-token reply: its size, against the window where the server says it."""
    from models.gpu.llm_director import build_messages, plan_reply_tokens, plan_schema
    from models.gpu.openai_chat import context_too_small

    n_shots = 6
    reply = chat.complete(build_messages("a test", n_shots), plan_schema(n_shots), temperature=0.0, max_tokens=1,
                          seed=0, need=1, what=f"a {n_shots}-shot plan")
    prompt = reply.prompt_tokens or 0
    need, window = prompt + plan_reply_tokens(n_shots), context_window(chat)
    if window and window < need:
        return FAIL, str(context_too_small(chat.base_url, window, prompt, need, f"a {n_shots}-shot plan"))
    if window:
        return OK, f"context window {window} tokens; a {n_shots}-shot plan needs about {need}"
    return WARN, (f"{chat.base_url} does not say its context window: a {n_shots}-shot plan needs about {need} tokens "
                  f"({prompt} of prompt); start the server with at least that (llama.cpp -c, llama-cpp-python "
                  "--n_ctx, Ollama OLLAMA_CONTEXT_LENGTH, vLLM --max-model-len)")


def context_window(chat) -> int | None:
    """The window where the server states it: vLLM's /v1/models max_model_len, llama-server's /props n_ctx."""
    from models.gpu.openai_chat import request_json

    for model in chat.models():
        if model.get("id") == chat.model and isinstance(model.get("max_model_len"), int):
            return model["max_model_len"]
    try:
        props = request_json(chat.base_url.removesuffix("/v1"), chat.api_key, "/props", timeout=10)
        return int(props["default_generation_settings"]["n_ctx"])
    except (BackendUnavailable, RuntimeError, KeyError, TypeError, ValueError):
        return None


def images(chat) -> tuple[str, str]:
    """One question carrying a tiny image, as the critic sends them (a refusal raises its one line)."""
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(TINY_PNG).decode()}}
    chat.complete([{"role": "user", "content": [{"type": "text", "text": "What colour is this image?"}, part]}],
                  temperature=0.0, max_tokens=8, seed=0, need=1, what="a verdict")
    return OK, (f"{chat.base_url} accepts images for the critic (whether the model sees them depends on the model: "
                "a text-only model may ignore them)")
