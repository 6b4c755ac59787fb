"""The plan and verdict schemas: the contracts every stage and backend speaks.

One place for these facts. Validators give field-level errors so a hand-edited plan.json
fails with the path of what is wrong, not deep inside a stage.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

VoLang = Literal["a", "b", "e", "f", "h", "i", "j", "p", "z"]
# Languages written without spaces: word counts do not apply to their narration.
UNSPACED_LANGS = {"j", "z"}
SCENE = "scene"
# The most shots one plan may hold (the plan validator and every director use this one number).
MAX_SHOTS = 12

MAX_SHOTS = 12  # the longest plan a reel takes (6 is the designed arc)


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    is_hero: bool
    shot_type: str = Field(min_length=1)
    dominant_subject: str = Field(min_length=1, description='a character key or "scene"')
    cut: bool
    prompt: str = Field(min_length=1)

    @field_validator("prompt")
    @classmethod
    def _prompt_length(cls, v: str) -> str:
        n = len(v.split())
        if n < 5 or n > 220:
            raise ValueError(f"shot prompt has {n} words; write 5-220 (70-110 is the target)")
        return v

    @property
    def camera_sentence(self) -> str:
        """The first sentence of the prompt, where the camera verb lives."""
        return re.split(r"(?<=[.!?])\s", self.prompt.strip(), maxsplit=1)[0]


class Person(BaseModel):
    """One character as the prompt names them: the words a picture dresses and sizes them by."""
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, description='their trade or relation as said: "beekeeper", "brother"')
    age: int | None = Field(default=None, ge=0, le=120)


class Scene(BaseModel):
    """What the reel shows, as data (written by the director; a plan without it gets one derived
    from its text by models.cpu.director.facts, in that one place)."""
    model_config = ConfigDict(extra="forbid")

    place: str = Field(min_length=1, description='the place as said, with its modifiers: "Provence lavender field"')
    place_kind: str = Field(min_length=1, description='the place\'s head noun: "field", "gutter", "alley"')
    time: str = Field(min_length=1, description="a time of day: dawn, morning, noon, afternoon, golden hour, sunset, dusk, night ...")
    weather: str | None = Field(default=None, description="rain, snow, fog, wind, storm ... or none")
    things: list[str] = Field(default_factory=list, description='every object or creature named: "honeycomb frame"')
    people: dict[str, Person] = Field(default_factory=dict, description="by character key")


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    characters: dict[str, str]
    story_logline: str = Field(min_length=1)
    shots: list[Shot] = Field(min_length=1, max_length=MAX_SHOTS)
    music_style: str = Field(min_length=1)
    vo_script_per_shot: list[str]
    vo_lang: VoLang
    scene: Scene | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_control_chars(cls, data):
        """A NUL or a terminal escape anywhere in the plan's text is refused, naming its field."""
        from reel.ids import control_char_problem

        def walk(value, where: str):
            if isinstance(value, str):
                yield control_char_problem(value, where or "the plan")
            elif isinstance(value, dict):
                for k, v in value.items():
                    yield from walk(v, f"{where}.{k}" if where else str(k))
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    yield from walk(v, f"{where}.{i}")

        problems = [p for p in walk(data, "") if p]
        if problems:
            raise ValueError("; ".join(problems))
        return data

    @field_validator("characters")
    @classmethod
    def _character_keys(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("at least one character is needed (keys A, B, C, ...)")
        for key, portrait in v.items():
            if not re.fullmatch(r"[A-Z]", key):
                raise ValueError(f"character key {key!r} must be one capital letter (A, B, C, ...)")
            if not portrait.strip():
                raise ValueError(f"character {key} has an empty portrait")
        return v

    @field_validator("vo_script_per_shot")
    @classmethod
    def _vo_lines(cls, v: list[str]) -> list[str]:
        for i, line in enumerate(v):
            if not line.strip():
                raise ValueError(f"narration line {i} is empty")
            if len(line.split()) > 20:
                raise ValueError(f"narration line {i} has {len(line.split())} words; keep it to 6-10")
        return v

    @model_validator(mode="after")
    def _shot_rules(self) -> "Plan":
        errors: list[str] = []
        for pos, shot in enumerate(self.shots):
            where = f"shots.{pos}"
            if shot.index != pos:
                errors.append(f"{where}.index is {shot.index}; shots must be numbered 0..{len(self.shots) - 1} in order")
            if pos == 0 and not (shot.is_hero and shot.cut):
                errors.append(f"{where}: shot 0 must have is_hero=true and cut=true")
            if pos > 0 and shot.is_hero:
                errors.append(f"{where}.is_hero: only shot 0 is the hero shot")
            if shot.dominant_subject != SCENE and shot.dominant_subject not in self.characters:
                keys = ", ".join(sorted(self.characters))
                errors.append(f'{where}.dominant_subject {shot.dominant_subject!r} is not a character key ({keys}) or "scene"')
        from reel.plan_checks import narration_problems, verbatim_problems

        errors += verbatim_problems(self) + narration_problems(self.vo_script_per_shot, self.vo_lang)
        if self.scene is not None:
            errors += [f"scene.people.{k} is not a character key ({', '.join(sorted(self.characters))})"
                       for k in self.scene.people if k not in self.characters]
        if len(self.vo_script_per_shot) != len(self.shots):
            errors.append(
                f"vo_script_per_shot has {len(self.vo_script_per_shot)} lines for {len(self.shots)} shots; write one per shot"
            )
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def characters_in(self, shot: Shot) -> list[str]:
        """Character keys whose short reference appears in the shot prompt (or the dominant one)."""
        found = [k for k, portrait in self.characters.items() if short_reference(portrait) in shot.prompt]
        if shot.dominant_subject in self.characters and shot.dominant_subject not in found:
            found.insert(0, shot.dominant_subject)
        return found


def short_reference(portrait: str, words: int = 12) -> str:
    """The opening words of a bible portrait: repeated verbatim in every shot the character is in."""
    return " ".join(portrait.split()[:words]).rstrip(".,;:!?")


class FailureLabel(str, Enum):
    CHARACTER_DRIFT = "CHARACTER_DRIFT"
    EXTRAS_INVADE_FRAME = "EXTRAS_INVADE_FRAME"
    CAMERA_IGNORED = "CAMERA_IGNORED"
    WALKING_BACKWARDS = "WALKING_BACKWARDS"
    OBJECT_MORPHING = "OBJECT_MORPHING"
    HAND_FINGER_ARTIFACT = "HAND_FINGER_ARTIFACT"
    WARDROBE_DRIFT = "WARDROBE_DRIFT"
    NEON_GLOW_LEAK = "NEON_GLOW_LEAK"
    STYLIZED_AI_LOOK = "STYLIZED_AI_LOOK"
    RANDOM_INTIMACY = "RANDOM_INTIMACY"


class Issue(BaseModel):
    """One problem the critic saw. label is None when the critic named something outside the set."""

    label: FailureLabel | None = None
    detail: str = ""


Score = Field(default=None, ge=1, le=10)


class Verdict(BaseModel):
    character_match: float | None = Score
    scene_match: float | None = Score
    composition: float | None = Score
    artifact_free: float | None = Score
    overall: float | None = Score
    issues: list[Issue] = Field(default_factory=list)
    critic: str = Field(description="which critic produced it (backend name and tier)")
    scored: bool = True
    measurements: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list, description="checks not judged, and why")

    @model_validator(mode="after")
    def _unscored_has_no_overall(self) -> "Verdict":
        if self.scored and self.overall is None:
            raise ValueError("a scored verdict needs an overall score")
        return self

    def passes(self, threshold: float) -> bool:
        """Unscored verdicts never pass: a critic that could not judge must not approve."""
        return self.scored and self.overall is not None and self.overall >= threshold

    @property
    def labels(self) -> list[FailureLabel]:
        return [i.label for i in self.issues if i.label is not None]

    @classmethod
    def unscored(cls, critic: str, why: str) -> "Verdict":
        return cls(critic=critic, scored=False, issues=[Issue(detail=why)])


KeyframeSource = Literal["chained", "master"]


class RenderKnobs(BaseModel):
    """Everything one render attempt of one shot depends on; retry strategies change these."""

    # Stored knobs (cache keys, verdicts.jsonl) keep the switch's first name, "end_frame", so the
    # render and critique keys of every existing reel stay valid.
    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    seed: int
    attempt: int = 1
    prompt: str
    negative_prompt: str
    frames: int
    fps: int
    width: int
    height: int
    steps: int
    flow_shift: float
    guidance: float
    guidance_2: float
    fbcache: float | None = None
    keyframe_source: KeyframeSource = "chained"
    # First-last-frame conditioning (FLF2V) on the shot's own keyframe: the clip's end frame is its
    # keyframe (the identity anchor of a retry). The end frame itself is `end_frame` everywhere.
    end_on_keyframe: bool = Field(False, alias="end_frame")
    # Rendered with the step-distilled experts (a turbo preset's first attempt), not the base ones.
    distilled: bool = False

    def key(self) -> dict:
        """The knobs as cache keys hold them: `distilled` only when set, so keys made before the
        field existed (every undistilled render) stay the same."""
        return self.model_dump(exclude={"distilled"} if not self.distilled else set())
