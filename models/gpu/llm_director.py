"""LLM directors: prompts/planner_system.md and the user's sentence in, a validated Plan out.

One conversation, two transports: any OpenAI-compatible server (`vllm serve`, llama.cpp, Ollama)
and vLLM offline in a child process (models/vllm_worker.py). Both constrain decoding to the Plan's
JSON schema, so a reply can only break the rules a schema cannot state (shot 0 is the hero, one
narration line per shot, indices in order). Then, in this order: fix what is purely mechanical,
ask once more with the list of errors, or raise DirectorError. Repairs never invent content.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import urllib.error
import urllib.request

from pydantic import ValidationError

from models import weights
from reel import prompts
from reel.errors import BackendUnavailable, UserError
from reel.schema import MAX_SHOTS, Plan

log = logging.getLogger(__name__)

PLANNER = "planner_system.md"
SHORTEN = "narration_shorten.txt"
TEMPERATURE = 0.7
MAX_TOKENS = 8192  # six ~100-word prompts, three portraits and the rest fit in ~3k tokens
HTTP_TIMEOUT_S = 600.0
# Qwen3.5 thinks by default; a plan or a verdict needs no reasoning trace, which can eat the whole
# token budget. vLLM and SGLang read this per request (servers that do not, ignore it).
NO_THINKING = {"enable_thinking": False}


class DirectorError(RuntimeError):
    """The model could not produce a valid plan, even after being shown its errors."""


class PlanRejected(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# ---------------------------------------------------------------- the conversation


def plan_schema(n_shots: int) -> dict:
    """Plan's JSON schema with both lists pinned to n_shots items, so the decoder itself keeps the
    shot count and the one-line-per-shot rule."""
    schema = copy.deepcopy(Plan.model_json_schema())
    for field in ("shots", "vo_script_per_shot"):
        schema["properties"][field].update(minItems=n_shots, maxItems=n_shots)
    return schema


def build_messages(prompt: str, n_shots: int) -> list[dict]:
    user = (f"Sentence: {prompt.strip()}\n\n"
            f"Write the plan for this reel with exactly {n_shots} shots and {n_shots} narration lines. "
            "Answer with the JSON object only.")
    return [{"role": "system", "content": prompts.text(PLANNER)}, {"role": "user", "content": user}]


def reask_message(errors: list[str]) -> dict:
    listed = "\n".join(f"- {e}" for e in errors)
    return {"role": "user", "content": f"Your JSON failed these checks:\n{listed}\n"
                                       "Return the corrected JSON object only, complete."}


def strip_reasoning(text: str) -> str:
    """Drop a reasoning model's <think>...</think> block (servers without a reasoning parser keep it)."""
    text = re.sub(r"<think>.*?</think>", "", text or "", flags=re.DOTALL)
    return text.split("</think>")[-1].strip()  # an opening tag swallowed by the chat template


def extract_json(text: str) -> dict:
    """The JSON object in a reply, tolerating code fences and prose around it."""
    text = strip_reasoning(text)
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, flags=re.DOTALL)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise PlanRejected([f"the reply is not a JSON object (it starts {text[:80]!r})"])
    try:
        data = json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise PlanRejected([f"the reply is not valid JSON ({exc})"]) from None
    if not isinstance(data, dict):
        raise PlanRejected(["the reply must be one JSON object"])
    return data


def repair(data: dict, n_shots: int) -> list[str]:
    """Fix mechanical slips in place and say what was fixed: shot indices renumbered in list order,
    shot 0 made the hero and a cut, the hero flag removed elsewhere, surplus narration lines past the
    last shot dropped. Missing lines, shots or characters are not invented: those go back to the model."""
    notes: list[str] = []
    shots = data.get("shots")
    if isinstance(shots, list):
        for pos, shot in enumerate(s for s in shots if isinstance(s, dict)):
            if shot.get("index") != pos:
                notes.append(f"shots.{pos}.index {shot.get('index')!r} -> {pos}")
                shot["index"] = pos
            hero = pos == 0
            if shot.get("is_hero") is not hero:
                notes.append(f"shots.{pos}.is_hero -> {str(hero).lower()}")
                shot["is_hero"] = hero
            if hero and shot.get("cut") is not True:
                notes.append("shots.0.cut -> true")
                shot["cut"] = True
        lines = data.get("vo_script_per_shot")
        if isinstance(lines, list) and len(lines) > len(shots) == n_shots:
            notes.append(f"vo_script_per_shot: dropped {len(lines) - len(shots)} line(s) past the last shot")
            data["vo_script_per_shot"] = lines[:len(shots)]
    return notes


def error_list(exc: ValidationError) -> list[str]:
    """Pydantic's errors as 'path: message' lines; the plan-level validator's '; '-joined list split up."""
    out: list[str] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        out.extend(f"{where}: {m}" if where else m for m in msg.split("; "))
    return out


def parse_reply(text: str, n_shots: int) -> tuple[Plan, list[str]]:
    """(plan, repairs made) or PlanRejected with every error found."""
    data = extract_json(text)
    notes = repair(data, n_shots)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanRejected(error_list(exc)) from None
    if len(plan.shots) != n_shots:
        raise PlanRejected([f"the plan has {len(plan.shots)} shots; write exactly {n_shots}"])
    return plan, notes


class ChatDirector:
    """The shared plan() loop; a subclass supplies one chat completion constrained to a JSON schema."""

    name = "llm"
    data_files = (PLANNER, SHORTEN)
    heavy = False
    temperature = TEMPERATURE
    max_tokens = MAX_TOKENS

    def __init__(self) -> None:
        self.model_id = ""
        self.repairs: list[str] = []  # what the last plan() fixed by itself, for the log

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def complete(self, messages: list[dict], schema: dict, seed: int) -> str:
        raise NotImplementedError

    def plan(self, prompt: str, n_shots: int = 6, seed: int = 0) -> Plan:
        if not 1 <= n_shots <= MAX_SHOTS:
            raise UserError(f"n_shots must be 1-{MAX_SHOTS}, got {n_shots}")
        if not prompt.strip():
            raise UserError("the prompt is empty: describe the reel in one sentence")
        messages, schema = build_messages(prompt, n_shots), plan_schema(n_shots)
        self.repairs = []
        reply = self.complete(messages, schema, seed)
        try:
            plan, self.repairs = parse_reply(reply, n_shots)
        except PlanRejected as first:
            log.info("director %s: plan rejected (%s); asking again", self.model_id, first)
            messages += [{"role": "assistant", "content": reply}, reask_message(first.errors)]
            reply = self.complete(messages, schema, seed + 1)  # a new seed, or a greedy decoder repeats itself
            try:
                plan, self.repairs = parse_reply(reply, n_shots)
            except PlanRejected as second:
                raise DirectorError(f"the director model {self.model_id!r} returned an invalid plan twice; "
                                    f"still wrong after the re-ask: {second}") from None
        if self.repairs:
            log.info("director %s: repaired %s", self.model_id, "; ".join(self.repairs))
        return plan

    def shorten(self, line: str, lang: str, fraction: float, seed: int = 0) -> str:
        """The line rewritten shorter by the model; the line itself when the reply is no shorter
        or not the JSON asked for (the caller then reports the line as too long)."""
        ask = prompts.text(SHORTEN).format(words=max(3, int(len(line.split()) * fraction)),
                                           chars=max(4, int(len(line) * fraction)), lang=lang, line=line)
        schema = {"type": "object", "properties": {"line": {"type": "string"}}, "required": ["line"],
                  "additionalProperties": False}
        reply = self.complete([{"role": "user", "content": ask}], schema, seed)
        match = re.search(r"\{.*\}", reply, re.S)
        try:
            shorter = " ".join(str(json.loads(match.group(0))["line"]).split()) if match else ""
        except (json.JSONDecodeError, KeyError, TypeError):
            shorter = ""
        if not 0 < len(shorter) < len(line):
            log.info("director %s: no shorter line for %r (reply %r)", self.model_id, line, reply[:200])
            return line
        return shorter


# ---------------------------------------------------------------- an OpenAI-compatible server


def chat_completion(base_url: str, api_key: str, payload: dict, timeout: float = HTTP_TIMEOUT_S) -> str:
    """POST {base_url}/chat/completions; the first choice's text. Setup problems (nothing listening,
    wrong path or key) raise BackendUnavailable naming the REEL_OPENAI_* setting to change."""
    url = base_url.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {api_key or 'EMPTY'}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = " ".join(exc.read(400).decode(errors="replace").split())
        if exc.code == 404:
            raise BackendUnavailable(f"{url} answered 404 ({detail}); check REEL_OPENAI_BASE_URL (it ends in /v1) "
                                     f"and REEL_OPENAI_MODEL ({payload.get('model')!r})") from None
        if exc.code in (401, 403):
            raise BackendUnavailable(f"{url} refused the key (HTTP {exc.code}); set REEL_OPENAI_API_KEY") from None
        raise RuntimeError(f"{url} answered HTTP {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
        raise BackendUnavailable(f"no OpenAI-compatible server answers at {url} ({exc.reason}); start one "
                                 "(e.g. `vllm serve MODEL`) or set REEL_OPENAI_BASE_URL") from None
    except TimeoutError:
        raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
    try:
        return body["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise RuntimeError(f"{url} sent no chat completion: {json.dumps(body)[:300]}") from None


class OpenAIDirector(ChatDirector):
    """The director on a server someone else runs; it holds no GPU memory in this process."""

    name = "openai"

    def __init__(self, model: str = "", openai_base_url: str = "http://127.0.0.1:8000/v1",
                 openai_model: str = "", openai_api_key: str = "EMPTY", timeout: float = HTTP_TIMEOUT_S):
        super().__init__()
        self.base_url, self.api_key, self.timeout = openai_base_url, openai_api_key, timeout
        self.served = openai_model or model  # `vllm serve X` serves the name X unless told otherwise
        if not self.served:
            raise BackendUnavailable("the openai director needs a model name: set REEL_OPENAI_MODEL")
        self.model_id = self.served

    def complete(self, messages: list[dict], schema: dict, seed: int) -> str:
        payload = {"model": self.served, "messages": messages, "temperature": self.temperature,
                   "max_tokens": self.max_tokens, "seed": seed, "chat_template_kwargs": NO_THINKING,
                   "response_format": {"type": "json_schema",
                                       "json_schema": {"name": "plan", "schema": schema, "strict": True}}}
        return chat_completion(self.base_url, self.api_key, payload, self.timeout)


# ---------------------------------------------------------------- vLLM offline, in a child process


def vllm_unavailable(what: str, model: str, setting: str, error: str) -> BackendUnavailable:
    return BackendUnavailable(f"vLLM cannot run the {what} model {model!r}: {error}; set {setting} to a local "
                              "model folder (or a model id this machine can load)")


def plan_engine_options(stage) -> dict:
    """vLLM engine arguments from a vLLM stage of the memory plan (models/memory_plan.py)."""
    knobs = stage.vllm
    return {"gpu_memory_utilization": knobs["gpu_memory_utilization"], "max_model_len": knobs["max_model_len"],
            "max_num_seqs": knobs["max_num_seqs"], "quantization": "fp8" if stage.fp8 else None}


class VllmDirector(ChatDirector):
    """The director through vLLM offline. Each plan() request runs in a fresh worker process that exits
    when it answers, so the GPU is entirely free for the image model right after the plan. A re-ask
    (rare: decoding is schema-constrained) pays a second model load; the trade is no 35B process left
    resident while later stages run."""

    name = "vllm"
    heavy = True
    engine_options: dict = {}  # the memory plan's vLLM knobs (apply_plan)

    def __init__(self, device: str = "cuda:0", model: str = "Qwen/Qwen3.5-35B-A3B", max_model_len: int = 32768):
        super().__init__()
        self.device, self.model, self.max_model_len = device, model, max_model_len
        self.model_id = model

    def apply_plan(self, stage) -> None:
        """This card's memory plan for the model: vLLM's engine knobs."""
        self.engine_options = plan_engine_options(stage)

    def load(self) -> None:
        if weights.missing_folder(self.model):
            raise BackendUnavailable(f"no director model at {self.model}; set REEL_MODEL_DIRECTOR to the model folder")

    def complete(self, messages: list[dict], schema: dict, seed: int) -> str:
        from models.gpu import vllm_worker

        self.load()
        request = {"messages": messages, "chat_template_kwargs": NO_THINKING,
                   "sampling": {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": seed,
                                "json_schema": schema}}
        # Language-model-only: the plan is text in, text out, so the vision tower is never loaded.
        # The memory plan's engine options (quantization, utilization, ...) win over the worker's defaults.
        engine = {"model": self.model, "max_model_len": self.max_model_len, "text_only": True, **self.engine_options}
        try:
            return vllm_worker.run_once(engine, request, self.device)
        except vllm_worker.WorkerError as exc:
            if exc.kind == "unavailable":
                raise vllm_unavailable("director", self.model, "REEL_MODEL_DIRECTOR", str(exc)) from None
            raise
