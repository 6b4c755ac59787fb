"""What one reel run is asked to do, typed and validated once: the `ReelRequest`.

Every way in builds one: the CLI (its `make` options are generated from the fields), the `reel`
flow and its deployments (the flow's parameters are the fields), the batch, the benchmarks and
`reel resume` (request.json is the request's dump, validated back). Adding an option is one field
here plus its use; `.resolve()` turns a request into the preset, delivery, backends and reel it means.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reel.delivery import Delivery, delivery_for
from reel.ids import check_reel_id, reel_id_for
from reel.presets import Preset, for_aspect, get_preset, with_length
from reel.records import ReelRef

# Where a field appears on `reel make`: "prompt" is positional, others take a flag; a field marked
# cli=False is not a `make` option (the reel's root is --out, a plan is a file).
FLAG = "flag"


class ReelRequest(BaseModel):
    """One reel run's request. Field descriptions are the CLI's and the deployment form's help."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str | None = Field(None, description="one sentence describing the reel",
                               json_schema_extra={FLAG: "prompt"})
    plan: dict[str, Any] | None = Field(None, description="render this plan.json instead of planning from a prompt",
                                        json_schema_extra={FLAG: "--plan"})
    preset: str = Field("default", description="quality preset")
    reel_id: str | None = Field(None, description="id of the reel (default: derived from the request)")
    aspect: str = Field("16:9", description="16:9, 9:16, 1:1 or 4:5: every frame composed at that shape")
    seed: int = Field(0, description="the reel's base seed")
    root: str | None = Field(None, description="artifact root, a folder or s3://bucket/prefix",
                             json_schema_extra={FLAG: "--out"})
    backends: str | None = Field(None, description="backend family for every role: cpu or gpu")
    n_shots: int = Field(6, description="number of shots, 1-12", json_schema_extra={FLAG: "--shots"})
    loudness: str | None = Field(None, description="web (-14 LUFS), podcast (-16), broadcast (-23) or a level such "
                                                   "as -18 (default: web for vertical and square, -18 for 16:9)")
    subtitles: Literal["burn", "srt", "off"] | None = Field(
        None, description="burn captions into the picture, or only write .srt/.vtt "
                          "(default: burn for 9:16, 1:1, 4:5; srt for 16:9)")
    seconds: float | None = Field(None, description="the reel's length; each shot gets the nearest valid clip "
                                                    "length (default: the preset's)")
    shot_seconds: float | None = Field(None, description="each shot's length instead of --seconds")
    review: bool = Field(False, description="pause after the storyboard: approve, edit, re-roll or cancel "
                                            "in the Prefect UI")

    @field_validator("backends")
    @classmethod
    def _family_renamed(cls, value: str | None) -> str | None:
        # request.json written before the CPU family was called `cpu` (it was `preview`).
        return "cpu" if value == "preview" else value

    @model_validator(mode="after")
    def _check(self) -> "ReelRequest":
        """Everything that can be judged from the request alone, with one line for each mistake."""
        from tasks.plan_input import check_prompt, check_shots, parse_plan

        if self.reel_id is not None:
            check_reel_id(self.reel_id)
        if self.plan is None:
            object.__setattr__(self, "prompt", check_prompt(self.prompt or ""))
            check_shots(self.n_shots)
        else:
            parse_plan(self.plan)
        self.delivery()
        self.preset_for(self.shots_asked)
        return self

    @property
    def shots_asked(self) -> int:
        return len(self.plan["shots"]) if self.plan else self.n_shots

    def preset_for(self, n_shots: int) -> Preset:
        """The preset at this aspect, its clip length set for a reel of n_shots."""
        return with_length(for_aspect(get_preset(self.preset), self.aspect), n_shots, self.seconds, self.shot_seconds)

    def delivery(self) -> Delivery:
        return delivery_for(self.aspect, self.loudness, self.subtitles)

    @property
    def id(self) -> str:
        """The reel's id: the one given, or one derived from what was asked (the same request names
        the same reel, so a second run of it resumes from the cache)."""
        if self.reel_id is not None:
            return self.reel_id
        return reel_id_for(self.prompt or "", preset=self.preset, aspect=self.aspect, seed=self.seed,
                           n_shots=self.n_shots, plan=self.plan)

    def ref(self) -> ReelRef:
        from reel.settings import get_settings

        return ReelRef(root=self.root or get_settings().root, reel_id=self.id)

    def resolve(self) -> "Resolved":
        """What the request means here: its preset, delivery, a backend per role (an unknown or
        uninstallable backend is one clear error, now) and its reel."""
        from models.base import check_distilled, choose_backends

        preset = self.preset_for(self.shots_asked)
        backends = choose_backends(preset.backends, self.backends)
        if preset.turbo:
            check_distilled("video", backends["video"])  # one line now, not after the keyframes
        return Resolved(preset=preset, delivery=self.delivery(), backends=backends, ref=self.ref())

    def stored(self) -> bytes:
        """request.json: the request as asked, so `reel resume` can run it again (its root is where
        it was found, so it is not stored)."""
        return self.model_dump_json(indent=2, exclude={"root"}).encode()

    @classmethod
    def from_stored(cls, data: dict[str, Any], reel_id: str, root: str) -> "ReelRequest":
        return cls.model_validate({**data, "reel_id": reel_id, "root": root})


@dataclass(frozen=True)
class Resolved:
    preset: Preset
    delivery: Delivery
    backends: dict[str, str]
    ref: ReelRef


def takes_request(model: type[ReelRequest]):
    """Decorator: give `fn(**fields)` the request's fields as its signature, so a flow made from it
    has one parameter per field (its deployment form and `-p name=value` included), defaults and all."""

    def wrap(fn):
        params = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.default,
                                    annotation=f.annotation) for name, f in model.model_fields.items()]
        fn.__signature__ = inspect.Signature(params, return_annotation=inspect.signature(fn).return_annotation)
        return fn

    return wrap
