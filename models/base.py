"""Role protocols every backend implements, and the registry that picks one per role.

Backends import their heavy libraries (torch, diffusers, vllm, kokoro) inside their own
module, so the preview profile never needs them. Each backend exposes `name` (registry key)
and `model_id` (what made the artifact, recorded in the manifest), plus `load()`/`unload()`
for the model host. A backend that reads tables from prompts/ lists them in `data_files`: their
hashes join its identity in every cache key, so editing a table re-runs exactly its stages.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, runtime_checkable

from reel.errors import UserError
from reel.schema import Plan, RenderKnobs, Shot, Verdict


@runtime_checkable
class Backend(Protocol):
    name: str
    model_id: str

    def load(self) -> None: ...

    def unload(self) -> None: ...


class Director(Backend, Protocol):
    def plan(self, prompt: str, n_shots: int, seed: int) -> Plan: ...


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
                 portraits: dict[str, Path], knobs: RenderKnobs) -> Verdict: ...


class MusicModel(Backend, Protocol):
    def compose(self, brief: str, seconds: float, seed: int, out: Path) -> None:
        """Write a wav of `seconds` length scoring the music brief."""


class VoiceModel(Backend, Protocol):
    def speak(self, text: str, lang: str, out: Path) -> float:
        """Write a wav of `text` spoken in language code `lang`; return its duration in seconds."""


# role -> backend name -> "module:Class". GPU backends are added by their own modules.
REGISTRY: dict[str, dict[str, str]] = {
    "director": {"heuristic": "models.heuristic_director:HeuristicDirector"},
    "image": {"preview": "models.preview_image:AnimaticImage"},
    "video": {"preview": "models.preview_video:CameraMoveVideo"},
    "critic": {"preview": "models.preview_critic:MeasuredCritic"},
    "music": {"preview": "models.preview_music:MidiMusic"},
    "voice": {"preview": "models.preview_voice:EspeakVoice"},
}
# What each role uses when a preset names a family rather than a backend.
FAMILY_DEFAULTS: dict[str, dict[str, str]] = {
    "preview": {"director": "heuristic", "image": "preview", "video": "preview", "critic": "preview",
                "music": "preview", "voice": "preview"},
    "gpu": {"director": "vllm", "image": "flux2", "video": "wan22", "critic": "vllm",
            "music": "acestep", "voice": "kokoro"},
}


def resolve_name(role: str, choice: str) -> str:
    """Turn a family ("preview"/"gpu") or a backend name into a backend name for `role`."""
    return FAMILY_DEFAULTS.get(choice, {}).get(role, choice)


def create(role: str, name: str, **kwargs) -> Backend:
    """Instantiate the backend `name` for `role`; a clear error when it is unknown or not installed."""
    name = resolve_name(role, name)
    known = REGISTRY.get(role, {})
    if name not in known:
        raise UserError(
            f"no {role} backend named {name!r}; available: {', '.join(sorted(known)) or 'none'}"
            + ("" if known.get(name) else " (GPU backends need `pip install -e .[gpu]`)")
        )
    module_name, cls_name = known[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)(**kwargs)


def backend_class(role: str, name: str) -> type:
    name = resolve_name(role, name)
    if name not in REGISTRY.get(role, {}):
        create(role, name)  # raises the clear error
    module_name, cls_name = REGISTRY[role][name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def identity(role: str, name: str) -> str:
    """Backend name, model revision and the digest of the prompt tables it reads, for cache keys,
    without loading any weights."""
    from reel import prompts

    cls = backend_class(role, name)
    model_id = getattr(cls, "model_id", None)
    if not isinstance(model_id, str):
        model_id = create(role, name).model_id
    files = getattr(cls, "data_files", ())
    return f"{resolve_name(role, name)}:{model_id}:{prompts.digest(*files) if files else '-'}"
