"""Role protocols every backend implements, and the registry that picks one per role.

Backends import their heavy libraries (torch, diffusers, vllm, kokoro) inside their own
module, so the CPU family (the preview preset's) never needs them. Each backend exposes `name` (registry key)
and `model_id` (what made the artifact, recorded in the manifest), plus `load()`/`unload()`
for the model host. A backend that reads tables from prompts/ lists them in `data_files`: their
hashes join its identity in every cache key, so editing a table re-runs exactly its stages.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Protocol, runtime_checkable

from reel.errors import BackendUnavailable, UserError
from reel.schema import Plan, RenderKnobs, Shot, Verdict


# The two sets of weights a video backend that `distills` (Wan2.2) can run: its base experts, or
# step-distilled ones (a turbo preset's first attempts). The model host switches between them.
FULL, DISTILLED = "full", "distilled"


class BackendBase:
    """What every backend inherits: the capabilities the model host and the stages read, with
    their defaults. A backend says what differs by setting the class attribute (or, for `device`
    and `model_id`, the instance's)."""

    name: str = ""
    model_id: str  # what made the artifact: set by the class, or per instance (e.g. from the model path)
    cpu: bool = False  # runs on the CPU alone: takes no GPU turn and no `gpu` slot (runtime/host.py)
    reentrant: bool = False  # a cpu backend whose calls may run at once (else one call at a time)
    heavy: bool = False  # holds GPU memory while loaded: the host swaps it by the memory plan
    device: str = ""  # where it runs; empty: the GPU this process uses (REEL_GPU)
    footprint_gib: float | None = None  # a stand-in's own memory figure; None: the memory plan's
    data_files: tuple[str, ...] = ()  # tables in prompts/ or configs/ it reads: their digest joins its identity
    last_accel: dict | None = None  # what the last call ran with (cache threshold, compile), for the record
    # Two sets of weights (Wan2.2's base and step-distilled experts, for a turbo preset's first attempts):
    distills: bool = False  # it takes step-distilled weights: the host switches them with `use_weights`
    distilled_id: str = ""  # which distilled weights are set, for cache keys ('' when none)
    weights: str | None = None  # the set it runs now (FULL or DISTILLED); None: one set, which runs any request
    holds_compiled: bool = False  # torch.compile graphs live while it is loaded (the host keeps dynamo's caches)

    @classmethod
    def class_model_id(cls) -> str | None:
        """The model id when the class sets it; None when each instance sets its own (from the model path)."""
        model_id = getattr(cls, "model_id", None)  # annotated above, unset: a class that sets none has none
        return model_id if isinstance(model_id, str) else None

    def use_weights(self, which: str) -> None:
        """Run the next calls on `which` weights (FULL or DISTILLED); before the first load it only
        picks what load() brings in. Only a backend that `distills` has a second set to switch to."""

    def load(self) -> None:
        """Get ready to serve (weights into memory); a no-op for backends with nothing to load."""

    def unload(self) -> None:
        """Free what load() took."""


@runtime_checkable
class Backend(Protocol):
    name: str
    model_id: str

    def load(self) -> None: ...

    def unload(self) -> None: ...


class Director(Backend, Protocol):
    def plan(self, prompt: str, n_shots: int, seed: int) -> Plan: ...

    def shorten(self, line: str, lang: str, fraction: float, seed: int) -> str:
        """The narration line rewritten to about `fraction` of its length, same language and sense."""


class ImageModel(Backend, Protocol):
    def master(self, plan: Plan, subject: str, seed: int, size: tuple[int, int], out: Path) -> None:
        """Paint the master for `subject`: a character key, "group" or "scene"."""

    def keyframe(self, plan: Plan, shot: Shot, refs: list[Path], seed: int, size: tuple[int, int],
                 out: Path) -> None:
        """Paint a shot's keyframe by reference editing from `refs` (masters or a previous frame)."""


class VideoModel(Backend, Protocol):
    def render(self, plan: Plan, shot: Shot, keyframe: Path, end_frame: Path | None,
               knobs: RenderKnobs, out: Path) -> None:
        """Animate the keyframe into an mp4 of knobs.frames frames at knobs.fps."""


class Critic(Backend, Protocol):
    def critique(self, plan: Plan, shot: Shot, clip: Path, keyframe: Path,
                 portraits: dict[str, Path], knobs: RenderKnobs, end_frame: Path | None = None) -> Verdict:
        """end_frame: the next shot's keyframe when that shot continues this one (the clip ends on it)."""


class VisionCritic(Backend, Protocol):
    """A tier-2 critic: a vision-language model asked one question with images.

    The critique stage samples the frames, writes the question from prompts/critic_system.md,
    parses the reply into a Verdict and asks again once if it cannot; the backend only chats."""

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        """One chat turn with images; returns the model's raw reply text."""


class MusicModel(Backend, Protocol):
    def compose(self, brief: str, seconds: float, seed: int, out: Path) -> None:
        """Write a wav of `seconds` length scoring the music brief."""


class VoiceModel(Backend, Protocol):
    def speak(self, text: str, lang: str, out: Path) -> float:
        """Write a wav of `text` spoken in language code `lang`; return its duration in seconds."""


NO_DISTILLED_WEIGHTS = ("a turbo preset renders first attempts with step-distilled Wan2.2 weights; set REEL_TURBO_LORA "
                        "to the high- and low-noise LoRA files (comma-separated) or REEL_MODEL_VIDEO_TURBO to a "
                        "distilled diffusers folder, or choose a preset without turbo")


def check_distilled(role: str, name: str) -> None:
    """Before a turbo reel starts: one clear line when its video backend takes distilled weights
    and none are set (a backend that takes none, such as the CPU family's, ignores the steps anyway)."""
    from reel.settings import get_settings

    if not backend_class(role, name).distills:
        return
    if not create(role, name, **get_settings().backend_options(role)).distilled_id:
        raise UserError(NO_DISTILLED_WEIGHTS)


# role -> backend name -> "module:Class". GPU backends are added by their own modules.
REGISTRY: dict[str, dict[str, str]] = {
    "director": {"heuristic": "models.cpu.director:HeuristicDirector",
                 "vllm": "models.gpu.llm_director:VllmDirector",
                 "openai": "models.gpu.llm_director:OpenAIDirector"},
    "image": {"animatic": "models.cpu.painter:AnimaticImage",
              "flux2": "models.gpu.flux2_image:Flux2KleinImage"},
    "video": {"camera-move": "models.cpu.camera_move:CameraMoveVideo",
              "faulty": "models.cpu.faulty_video:FaultyVideo",
              "wan22": "models.gpu.wan_video:Wan22Video"},
    # "measured" is the tier-1 critic alone; the others add a tier-2 vision-language model.
    "critic": {"measured": "models.measured.measured_critic:MeasuredCritic",
               "vllm": "models.gpu.vlm_critic:VllmCritic",
               "openai": "models.gpu.vlm_critic:OpenAICritic",
               "scripted": "models.cpu.scripted_critic:ScriptedCritic"},
    "music": {"midi": "models.cpu.midi_music:MidiMusic",
              "acestep": "models.gpu.acestep_music:AceStepMusic"},
    "voice": {"espeak": "models.cpu.espeak_voice:EspeakVoice",
              "kokoro": "models.gpu.kokoro_voice:KokoroVoice"},
}
# The timed stand-ins of the GPU models (models/standin.py), for the benchmarks: one family like the others.
for _role in ("director", "image", "video", "critic", "music", "voice"):
    REGISTRY[_role]["bench"] = f"models.standin:Bench{_role.capitalize()}"
# What each role uses when a preset names a family rather than a backend.
FAMILY_DEFAULTS: dict[str, dict[str, str]] = {
    "cpu": {"director": "heuristic", "image": "animatic", "video": "camera-move", "critic": "measured",
                "music": "midi", "voice": "espeak"},
    "gpu": {"director": "vllm", "image": "flux2", "video": "wan22", "critic": "vllm",
            "music": "acestep", "voice": "kokoro"},
    "bench": {role: "bench" for role in REGISTRY},
}


# `preview` is one thing: the preset whose backends are the CPU family. The CPU backends were all
# registered as "preview" (the family's first name) before they got names of their own; their cache
# identity keeps that old name so reels made before the renames stay cached.
CACHE_NAMES = {"animatic": "preview", "camera-move": "preview", "measured": "preview", "midi": "preview",
               "espeak": "preview"}


def resolve_name(role: str, choice: str) -> str:
    """Turn a family ("cpu"/"gpu") or a backend name into a backend name for `role`."""
    return FAMILY_DEFAULTS.get(choice, {}).get(role, choice)


def create(role: str, name: str, **kwargs) -> Backend:
    """Instantiate the backend `name` for `role`; a clear error when it is unknown or not installed."""
    cls = backend_class(role, name)
    accepted = inspect.signature(cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    return cls(**kwargs)


def backend_class(role: str, name: str) -> type[BackendBase]:
    name = resolve_name(role, name)
    known = REGISTRY.get(role, {})
    if name not in known:
        raise UserError(f"no {role} backend named {name!r}; available: {', '.join(sorted(known)) or 'none'} "
                        f"(or a family: {', '.join(FAMILY_DEFAULTS)})")
    module_name, cls_name = known[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"the {role} backend {name!r} cannot be imported ({exc}); "
                                 "install the GPU stack with `pip install -e .[gpu]`") from exc
    return getattr(module, cls_name)


def identity(role: str, name: str, weights: str = FULL) -> str:
    """Backend name, model revision and the digest of the prompt tables it reads, for cache keys,
    without loading any weights. weights DISTILLED: which step-distilled weights the backend
    switches to (its `distilled_id`; '-' for a backend that takes none)."""
    from reel import prompts
    from reel.settings import get_settings

    cls = backend_class(role, name)
    if weights == DISTILLED:
        return create(role, name, **get_settings().backend_options(role)).distilled_id or "-"
    model_id = cls.class_model_id()
    if model_id is None:  # set per instance (e.g. from the model path): constructors are cheap
        model_id = create(role, name, **get_settings().backend_options(role)).model_id
    files = cls.data_files
    name = resolve_name(role, name)
    return f"{CACHE_NAMES.get(name, name)}:{model_id}:{prompts.digest(*files) if files else '-'}"


def choose_backends(family: str, override: str | None) -> dict[str, str]:
    """Backend per role: REEL_BACKEND_<ROLE> settings win, then the override family, then the preset's."""
    from reel.settings import ROLES, get_settings

    s = get_settings()
    roles = {role: resolve_name(role, s.backend_for(role, override or family)) for role in ROLES}
    for role, name in roles.items():
        backend_class(role, name)  # an unknown or uninstallable backend: one clear error, now
    return roles
