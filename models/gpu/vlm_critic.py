"""Tier-2 vision critics: one chat turn with frames, answered by a vision-language model.

The critique stage writes the question and parses the reply into a Verdict (asking again once when
it cannot); these backends only carry the images there and the text back. Images travel as base64
data URLs in an OpenAI-style user message, which both `vllm serve` and vLLM's offline LLM.chat read.
By default the critic is the director's checkpoint (Settings.model_for("critic")).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from pathlib import Path

from models import weights
from models.gpu.llm_director import (HTTP_TIMEOUT_S, NO_THINKING, chat_completion, plan_engine_options, strip_reasoning,
                                     vllm_unavailable)
from reel.errors import BackendUnavailable, UserError

TEMPERATURE = 0.2  # a judge should be steady: the same clip asked twice should score alike
MAX_TOKENS = 1024
# What one question sends: four frames of the clip and the portraits of the characters in the shot
# (the planner writes at most three). vLLM's profiler reserves memory for this many images.
FRAMES, MAX_PORTRAITS = 4, 3
MAX_IMAGES = FRAMES + MAX_PORTRAITS

log = logging.getLogger(__name__)


def image_part(path: Path) -> dict:
    """One image as an OpenAI `image_url` content part carrying a data URL."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"critic image {path} does not exist")
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def critic_messages(system: str, prompt: str, images: list[Path]) -> list[dict]:
    """System prompt, then one user turn: the question text followed by the images in order."""
    content = [{"type": "text", "text": prompt}] + [image_part(p) for p in images]
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


class OpenAICritic:
    """The critic on an OpenAI-compatible server (often the same `vllm serve` as the director)."""

    name = "openai"
    heavy = False

    def __init__(self, model: str = "", openai_base_url: str = "http://127.0.0.1:8000/v1",
                 openai_model: str = "", openai_api_key: str = "EMPTY", timeout: float = HTTP_TIMEOUT_S):
        self.base_url, self.api_key, self.timeout = openai_base_url, openai_api_key, timeout
        self.served = openai_model or model
        if not self.served:
            raise BackendUnavailable("the openai critic needs a model name: set REEL_OPENAI_MODEL")
        self.model_id = self.served

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        payload = {"model": self.served, "messages": critic_messages(system, prompt, images),
                   "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS, "seed": 0,
                   "chat_template_kwargs": NO_THINKING}
        return strip_reasoning(chat_completion(self.base_url, self.api_key, payload, self.timeout))


class VllmCritic:
    """The critic through vLLM offline, in a worker process started by load() and stopped by unload().

    The critic is asked once per render attempt (up to shots x attempts questions per reel), so the
    model stays resident between questions instead of paying a model load each time; while the host
    keeps the critic loaded the worker holds its GPU memory, and unload() ends the process to free it.
    If this process dies without unload(), the worker sees its stdin close and exits too."""

    name = "vllm"
    heavy = True
    engine_options: dict = {}  # the memory plan's vLLM knobs (apply_plan)

    def __init__(self, device: str = "cuda:0", model: str = "Qwen/Qwen3.5-35B-A3B", max_images: int = MAX_IMAGES,
                 max_model_len: int = 32768):
        self.device, self.model, self.max_images, self.max_model_len = device, model, max_images, max_model_len
        self.model_id = model
        self._worker = None

    def apply_plan(self, stage) -> None:
        """This card's memory plan for the model: vLLM's engine knobs and the images per question."""
        self.max_images = stage.vllm["limit_mm_per_prompt"]["image"]
        self.engine_options = {**plan_engine_options(stage), "max_images": self.max_images}

    def load(self) -> None:
        from models.gpu import vllm_worker

        if self._worker is not None and self._worker.running:
            return
        if weights.missing_folder(self.model):
            raise BackendUnavailable(f"no critic model at {self.model}; set REEL_MODEL_CRITIC "
                                     "(empty: the director's REEL_MODEL_DIRECTOR) to the model folder")
        worker = vllm_worker.WorkerProcess({"model": self.model, "max_model_len": self.max_model_len,
                                            "max_images": self.max_images, **self.engine_options}, self.device)
        try:
            worker.start()
        except vllm_worker.WorkerError as exc:
            if exc.kind == "unavailable":
                raise vllm_unavailable("critic", self.model, "REEL_MODEL_CRITIC", str(exc)) from None
            raise
        self._worker = worker

    def unload(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        if len(images) > self.max_images:  # frames come first: what is dropped is the extra portraits
            log.warning("the vLLM critic was started for %d images per question; sending the first %d of %d",
                        self.max_images, self.max_images, len(images))
            images = images[:self.max_images]
        if self._worker is None or not self._worker.running:
            self.load()  # also restarts a worker that died since the last question
        request = {"messages": critic_messages(system, prompt, images),
                   "chat_template_kwargs": NO_THINKING,
                   "sampling": {"temperature": TEMPERATURE, "max_tokens": MAX_TOKENS, "seed": 0}}
        return strip_reasoning(self._worker.chat(request))
