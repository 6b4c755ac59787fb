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

from pydantic import ValidationError

from models import weights
from models.gpu.openai_chat import HTTP_TIMEOUT_S, NO_THINKING, SCHEMA_IN_PROMPT, OpenAIChat, context_too_small
from models.gpu.openai_chat import strip_reasoning
from reel import prompts
from reel.errors import BackendUnavailable, DirectorError, UserError
from reel.schema import MAX_SHOTS, SCENE, Plan
from models.base import BackendBase

log = logging.getLogger(__name__)

PLANNER = "planner_system.md"
SHORTEN = "narration_shorten.txt"
TEMPERATURE = 0.7
MAX_TOKENS = 8192  # six ~100-word prompts, three portraits and the rest fit in ~3k tokens


def plan_reply_tokens(n_shots: int) -> int:
    """About how many tokens a plan of n_shots takes (a shot is ~700 characters of JSON, ~250
    tokens; the bible, music and narration ~1000 characters), with a margin: the context check's figure."""
    return 400 + 300 * n_shots


class PlanRejected(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


# ---------------------------------------------------------------- the conversation


CHARACTER_KEYS = ("A", "B", "C")  # prompts/planner_system.md: at most three characters, "A" the lead


def plan_schema(n_shots: int) -> dict:
    """Plan's JSON schema, with what its validators check and a schema can say too, so a constrained
    decoder keeps to it (a small model most of all): both lists pinned to n_shots items (the shot
    count, one narration line per shot), the character keys, a shot's subject one of them or
    "scene", each narration line short enough to speak over its shot."""
    from reel.plan_checks import longest_line_chars

    schema = copy.deepcopy(Plan.model_json_schema())
    props, shot = schema["properties"], schema["$defs"]["Shot"]["properties"]
    for field in ("shots", "vo_script_per_shot"):
        props[field].update(minItems=n_shots, maxItems=n_shots)
    props["characters"] = {"type": "object", "properties": {k: {"type": "string", "minLength": 1} for k in CHARACTER_KEYS},
                           "required": [CHARACTER_KEYS[0]], "additionalProperties": False}
    shot["dominant_subject"]["enum"] = [*CHARACTER_KEYS, SCENE]
    props["vo_script_per_shot"]["items"].update(minLength=1, maxLength=longest_line_chars())
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


class ChatDirector(BackendBase):
    """The shared plan() loop; a subclass supplies one chat completion constrained to a JSON schema."""

    name = "llm"
    data_files = (PLANNER, SHORTEN)
    heavy = False
    temperature = TEMPERATURE
    max_tokens = MAX_TOKENS

    def __init__(self) -> None:
        self.model_id = ""
        self.repairs: list[str] = []  # what the last plan() fixed by itself, for the log
        self.cut_off = False

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def complete(self, messages: list[dict], schema: dict, seed: int, need: int = 0, what: str = "the reply") -> str:
        """One reply constrained to `schema`; `need`: the tokens of reply `what` takes at least.
        A reply that ran out of tokens before it finished sets self.cut_off."""
        raise NotImplementedError

    def plan(self, prompt: str, n_shots: int = 6, seed: int = 0) -> Plan:
        if not 1 <= n_shots <= MAX_SHOTS:
            raise UserError(f"n_shots must be 1-{MAX_SHOTS}, got {n_shots}")
        if not prompt.strip():
            raise UserError("the prompt is empty: describe the reel in one sentence")
        messages, schema, need = build_messages(prompt, n_shots), plan_schema(n_shots), plan_reply_tokens(n_shots)
        self.repairs, replies = [], []
        for attempt in (1, 2):
            self.cut_off = False
            # the re-ask gets a new seed, or a greedy decoder repeats itself
            replies.append(self.complete(messages, schema, seed + attempt - 1, need, f"a {n_shots}-shot plan"))
            try:
                plan, self.repairs = parse_reply(replies[-1], n_shots)
                break
            except PlanRejected as rejected:
                errors = rejected.errors
                if self.cut_off:  # a reply that never ended (a loop)
                    errors = [f"the reply ran past {self.max_tokens} tokens without closing the JSON; write the "
                              "plan once, concisely"]
                log.info("director %s: plan rejected (%s)", self.model_id, "; ".join(errors))
                if attempt == 2:
                    raise DirectorError(f"the director model {self.model_id!r} returned an invalid plan twice; "
                                        f"still failing after the re-ask: {errors[0]}"
                                        + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
                                        rule=errors[0], replies=tuple(replies)) from None
                # a runaway reply goes back cut short: strict chat templates want user and assistant turns alternating
                said = replies[-1][:2000] + " ..." if self.cut_off else replies[-1]
                messages = [*messages, {"role": "assistant", "content": said}, reask_message(errors)]
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


class OpenAIDirector(ChatDirector):
    """The director on a server someone else runs (models/gpu/openai_chat.py adapts to what it
    accepts); it holds no GPU memory in this process."""

    name = "openai"
    data_files = (*ChatDirector.data_files, SCHEMA_IN_PROMPT)

    def __init__(self, model: str = "", openai_base_url: str = "http://127.0.0.1:8000/v1",
                 openai_model: str = "", openai_api_key: str = "EMPTY", timeout: float = HTTP_TIMEOUT_S):
        super().__init__()
        self.served = openai_model or model  # `vllm serve X` serves the name X unless told otherwise
        if not self.served:
            raise BackendUnavailable("the openai director needs a model name: set REEL_OPENAI_MODEL")
        self.chat = OpenAIChat(openai_base_url, self.served, openai_api_key, timeout)
        self.base_url, self.model_id = self.chat.base_url, self.served

    def complete(self, messages: list[dict], schema: dict, seed: int, need: int = 0, what: str = "the reply") -> str:
        reply = self.chat.complete(messages, schema, temperature=self.temperature, max_tokens=self.max_tokens,
                                   seed=seed, need=need, what=what)
        if reply.finish_reason == "length":
            asked = self.chat.payload(messages, None, 0, self.max_tokens, 0)["max_tokens"]
            used = (reply.prompt_tokens or 0) + (reply.completion_tokens or 0)
            needed = (reply.prompt_tokens or 0) + max(need, 256)
            if reply.completion_tokens is not None and reply.completion_tokens < asked and used < needed:
                # stopped before the asked budget and before the plan's room: the window is too small
                raise context_too_small(self.base_url, used or None, reply.prompt_tokens, needed, what)
            # ran past the asked budget, or filled a window that held the plan's room: a runaway reply
            self.cut_off = True
        return reply.text


# ---------------------------------------------------------------- vLLM offline, in a child process


def vllm_unavailable(what: str, model: str, setting: str, error: str) -> BackendUnavailable:
    return BackendUnavailable(f"vLLM cannot run the {what} model {model!r}: {error}; set {setting} to a local "
                              "model folder (or a model id this machine can load)")


def plan_engine_options(stage) -> dict:
    """vLLM engine arguments from a vLLM stage of the memory plan (runtime/memory_plan.py)."""
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

    def complete(self, messages: list[dict], schema: dict, seed: int, need: int = 0, what: str = "the reply") -> str:
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
