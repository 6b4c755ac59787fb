"""One chat completion on an OpenAI-compatible server (llama.cpp, Ollama, LM Studio, `vllm serve`),
adapting to what that server accepts, and every message about such a server in one place.

Servers differ: `response_format` `json_schema` (vLLM, LM Studio, Ollama, llama.cpp's llama-server)
or only `json_object` with a `schema` (llama-cpp-python), or neither; `chat_template_kwargs` (Qwen's
thinking switch) read, ignored or refused; image parts read or refused; a context window of 2-8k
tokens. A request the server refuses for one of the optional fields is sent again without it (the
schema falls back to JSON mode, then to the schema written in the prompt), and what worked is
remembered per server and model for the rest of the process. A refusal that no fallback can answer,
an image refused, a context too small: one line naming the field or the setting to change.
The messages are functions here so the vLLM worker and `reel doctor` word them the same way.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import NamedTuple

from reel import prompts
from reel.errors import BackendUnavailable

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 600.0
# Qwen3.5 thinks by default; a plan or a verdict needs no reasoning trace, which can eat the whole
# token budget. vLLM, SGLang and llama-server read this per request; a server that refuses it is
# asked again without it, and inline <think> blocks are stripped from every reply.
NO_THINKING = {"enable_thinking": False}
STRUCTURED = ("json_schema", "json_object", "prompt")  # tried in this order, per server
SCHEMA_IN_PROMPT = "schema_in_prompt.txt"
_CONTEXT = re.compile(r"context (length|window|size)|maximum context|n_ctx|max_model_len", re.I)
_FORMAT = re.compile(r"json_schema|json_object|response.?format", re.I)
_IMAGES = re.compile(r"image|multimodal|multi-modal|vision|mmproj", re.I)


# ---------------------------------------------------------------- the messages (one place)


def refused(url: str, fieldname: str, code: int, detail: str) -> BackendUnavailable:
    """A request the server will refuse again however often it is sent: name the field."""
    advice = {"model": "set REEL_OPENAI_MODEL to a model the server lists (`reel doctor` shows them)",
              "messages": "the server could not read the conversation; check that it serves a chat model with a chat "
                          "template (llama.cpp: --chat-template / --chat_format)"}.get(
        fieldname, "a re-run sends the same request: use a server that accepts it (`reel doctor` checks one)")
    return BackendUnavailable(f"{url} refused the request's {fieldname!r} (HTTP {code}: {detail[:160]}); {advice}")


def images_refused(where: str, model: str, detail: str) -> BackendUnavailable:
    """The critic's first question, refused because it carries images (`where`: the server's URL, or
    "vLLM" for the offline worker)."""
    return BackendUnavailable(
        f"the critic server {where} refused images for model {model!r} ({detail[:120]}): the openai critic needs a "
        "vision-language model (llama.cpp: --mmproj; Ollama: a vision model; vLLM: a VL checkpoint); "
        "or set REEL_BACKEND_CRITIC=measured for the tier-1 critic alone")


def context_too_small(url: str, window: int | None, prompt_tokens: int | None, need: int, what: str) -> BackendUnavailable:
    """The server's context window cannot hold the prompt and the reply `what` needs."""
    have = f"a {window}-token context" if window else "too small a context"
    size = f"{prompt_tokens} tokens of prompt and " if prompt_tokens else ""
    target = _round_up(max(need, window or 0))
    return BackendUnavailable(
        f"{url} has {have}: {what} needs about {need} tokens ({size}the reply); restart the server with a larger "
        f"context (llama.cpp: -c {target}; llama-cpp-python: --n_ctx {target}; Ollama: OLLAMA_CONTEXT_LENGTH={target};"
        f" vLLM: --max-model-len {target}) or ask for fewer shots")


def unreachable(url: str, reason: object) -> BackendUnavailable:
    return BackendUnavailable(f"no OpenAI-compatible server answers at {url} ({reason}); start one "
                              "(README, 'Your own model server') or set REEL_OPENAI_BASE_URL")


def _round_up(tokens: int) -> int:
    return -(-tokens // 1024) * 1024


# ---------------------------------------------------------------- HTTP


class ServerSaid(RuntimeError):
    """An HTTP error the caller decides about: code and the server's own words."""

    def __init__(self, url: str, code: int, detail: str):
        super().__init__(f"{url} answered HTTP {code}: {detail}")
        self.url, self.code, self.detail = url, code, detail


def request_json(base_url: str, api_key: str, path: str, payload: dict | None = None,
                 timeout: float = HTTP_TIMEOUT_S) -> dict:
    """GET (payload None) or POST JSON to {base_url}{path}. Nothing listening, a wrong path or key:
    BackendUnavailable naming the REEL_OPENAI_* setting; any other HTTP error: ServerSaid."""
    url = base_url.rstrip("/") + path
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {api_key or 'EMPTY'}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = " ".join(exc.read(2000).decode(errors="replace").split())
        if exc.code == 404 and not re.search(r"model", detail, re.I):
            raise BackendUnavailable(f"{url} answered 404 ({detail[:200]}); check REEL_OPENAI_BASE_URL (it ends in /v1)"
                                     ) from None
        if exc.code == 404:
            raise BackendUnavailable(f"{url} answered 404 ({detail[:200]}); set REEL_OPENAI_MODEL to a model the "
                                     "server lists (`reel doctor` shows them)") from None
        if exc.code in (401, 403):
            raise BackendUnavailable(f"{url} refused the key (HTTP {exc.code}); set REEL_OPENAI_API_KEY") from None
        raise ServerSaid(url, exc.code, detail) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
        raise unreachable(url, exc.reason) from None
    except TimeoutError:
        raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
    except json.JSONDecodeError:
        raise BackendUnavailable(f"{url} did not answer JSON; check REEL_OPENAI_BASE_URL (an OpenAI-compatible "
                                 "server's /v1)") from None


def refused_field(detail: str, payload: dict) -> str | None:
    """Which of the request's fields the server's error names: the images, the thinking switch and
    the structured output first (what the caller can adapt), then any other field sent."""
    if _IMAGES.search(detail) and _has_images(payload):
        return "image_url"
    for name in ("chat_template_kwargs", "response_format", "json_schema"):
        if re.search(rf"\b{name}\b", detail):
            return "response_format" if name == "json_schema" else name
    for name in payload:  # quoted, as in a validation error's location or an OpenAI error's "param"
        if re.search(rf"['\"]{re.escape(name)}['\"]", detail):
            return name
    return None


def _has_images(payload: dict) -> bool:
    return any(isinstance(m.get("content"), list) and any(p.get("type") == "image_url" for p in m["content"])
               for m in payload.get("messages", []))


def _numbers(detail: str) -> tuple[int | None, int | None]:
    """(context window, prompt tokens) where the server's context error states them."""
    window = re.search(r"(?:context (?:length|window|size)(?: is| of)?|n_ctx\W+)\s*(\d+)", detail, re.I)
    prompt = re.search(r"(\d+) (?:tokens )?in the messages|n_prompt_tokens\W+(\d+)", detail, re.I)
    return (int(window.group(1)) if window else None,
            int(next(g for g in prompt.groups() if g)) if prompt else None)


# ---------------------------------------------------------------- the adaptive chat


@dataclass
class Traits:
    """What one server (and model) was found to accept, for the rest of this process."""

    structured: str = STRUCTURED[0]
    thinking_switch: bool = True
    max_tokens: int | None = None  # lowered when the window cannot take the asked budget
    learned: list[str] = field(default_factory=list)


_TRAITS: dict[tuple[str, str], Traits] = {}


def traits(base_url: str, model: str) -> Traits:
    return _TRAITS.setdefault((base_url.rstrip("/"), model), Traits())


class Reply(NamedTuple):
    text: str  # reasoning stripped
    finish_reason: str
    prompt_tokens: int | None
    completion_tokens: int | None
    raw: str  # as the server sent it


class OpenAIChat:
    """Chat completions with one model on one server."""

    def __init__(self, base_url: str, model: str, api_key: str = "EMPTY", timeout: float = HTTP_TIMEOUT_S):
        self.base_url, self.model, self.api_key, self.timeout = base_url.rstrip("/"), model, api_key, timeout
        self.url = self.base_url + "/chat/completions"

    @property
    def traits(self) -> Traits:
        return traits(self.base_url, self.model)

    def payload(self, messages: list[dict], schema: dict | None, temperature: float, max_tokens: int,
                seed: int) -> dict:
        t = self.traits
        body = {"model": self.model, "messages": messages, "temperature": temperature,
                "max_tokens": min(max_tokens, t.max_tokens or max_tokens), "seed": seed}
        if t.thinking_switch:
            body["chat_template_kwargs"] = NO_THINKING
        if schema is None:
            return body
        if t.structured == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "reply", "schema": schema, "strict": True}}
            return body
        if t.structured == "json_object":  # llama-cpp-python constrains to `schema`; others ignore it
            body["response_format"] = {"type": "json_object", "schema": schema}
        # JSON mode alone does not say which object: the schema goes into the conversation too
        said = prompts.text(SCHEMA_IN_PROMPT).format(schema=json.dumps(schema, separators=(",", ":")))
        body["messages"] = [*messages[:-1], {**messages[-1], "content": f"{messages[-1]['content']}\n\n{said}"}]
        return body

    def complete(self, messages: list[dict], schema: dict | None = None, *, temperature: float = 0.7,
                 max_tokens: int = 1024, seed: int = 0, need: int | None = None, what: str = "the reply") -> Reply:
        """One reply. `need`: the tokens of reply the caller needs at least (for the context check)."""
        t = self.traits
        for _ in range(len(STRUCTURED) + 3):  # each pass drops one refused feature
            body = self.payload(messages, schema, temperature, max_tokens, seed)
            try:
                answer = request_json(self.base_url, self.api_key, "/chat/completions", body, self.timeout)
            except ServerSaid as exc:
                if not self._adapt(exc, body, need or 0, what):
                    raise
                continue
            return self._reply(answer)
        raise BackendUnavailable(f"{self.url} refused every form of the request ({'; '.join(t.learned)})")

    def _adapt(self, exc: ServerSaid, body: dict, need: int, what: str) -> bool:
        """Learn from a refusal and return True to send again; raise when no change of ours can help."""
        t, detail = self.traits, exc.detail
        name = refused_field(detail, body)
        if name == "image_url":
            raise images_refused(self.base_url, self.model, detail) from None
        if _CONTEXT.search(detail):
            if _has_images(body):  # a server without vision support reads the data URLs as text
                raise images_refused(self.base_url, self.model, f"the images overflowed its context: {detail}") from None
            window, prompt = _numbers(detail)
            room = (window - prompt - 16) if window and prompt else 0
            if max(need, 64) <= room < body["max_tokens"]:  # the window holds the reply, not the asked budget
                t.max_tokens = room
                t.learned.append(f"max_tokens {room} (a {window}-token window)")
                log.info("%s: %s-token context; asking for at most %d tokens", self.url, window, room)
                return True
            raise context_too_small(self.base_url, window, prompt, (prompt or 0) + need, what) from None
        if name == "chat_template_kwargs" and t.thinking_switch:
            t.thinking_switch = False
            t.learned.append("chat_template_kwargs refused")
            log.info("%s refused chat_template_kwargs; thinking is stripped from replies instead", self.url)
            return True
        if "response_format" in body and (name == "response_format" or name is None and _FORMAT.search(detail)):
            t.learned.append(f"response_format {t.structured} refused")
            t.structured = STRUCTURED[STRUCTURED.index(t.structured) + 1]
            log.info("%s refused response_format; using %s from now on", self.url, t.structured)
            return True
        if name is not None:
            raise refused(self.base_url, name, exc.code, detail) from None
        return False  # a server fault that names nothing of ours: worth running again as is

    def _reply(self, answer: dict) -> Reply:
        try:
            choice = answer["choices"][0]
            raw = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise RuntimeError(f"{self.url} sent no chat completion: {json.dumps(answer)[:300]}") from None
        usage = answer.get("usage") or {}
        return Reply(strip_reasoning(raw), choice.get("finish_reason") or "", usage.get("prompt_tokens"),
                     usage.get("completion_tokens"), raw)

    def models(self) -> list[dict]:
        """The server's /v1/models list."""
        try:
            return list(request_json(self.base_url, self.api_key, "/models", timeout=30).get("data") or [])
        except ServerSaid as exc:
            raise BackendUnavailable(f"{exc}; check REEL_OPENAI_BASE_URL") from None


def strip_reasoning(text: str) -> str:
    """Drop a reasoning model's <think>...</think> block (servers without a reasoning parser keep it)."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.DOTALL)
    return text.split("</think>")[-1].strip()  # an opening tag swallowed by the chat template
