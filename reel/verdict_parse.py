"""Reading a vision-language critic's reply into a Verdict.

Tolerant of what models do (code fences, prose around the JSON, StudioMI300's nested "score"
object, issues as "LABEL: detail" strings), strict about what matters: the four axes must be
numbers from 1 to 10, and a label outside the closed set is kept as detail, never invented
into it. Anything else is a VerdictParseError, and the caller asks again."""

from __future__ import annotations

import json
import re
from typing import Any

from reel.schema import FailureLabel, Issue, Verdict

AXES = ("character_match", "scene_match", "composition", "artifact_free")
_LABELS = {label.value for label in FailureLabel}


class VerdictParseError(ValueError):
    """The reply holds no usable verdict."""


def _json_object(text: str) -> dict[str, Any]:
    text = re.sub(r"```(?:json)?", "", text or "")
    start = text.find("{")
    while start >= 0:
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                try:
                    obj = json.loads(text[start:i + 1])
                except json.JSONDecodeError:
                    break
                if isinstance(obj, dict):
                    return obj
                break
        start = text.find("{", start + 1)
    raise VerdictParseError("no JSON object in the reply")


def _issue(raw: Any) -> Issue:
    if isinstance(raw, dict):
        label, detail = str(raw.get("label", "")).strip().upper(), str(raw.get("detail", "")).strip()
        return Issue(label=FailureLabel(label), detail=detail) if label in _LABELS else \
            Issue(detail=f"{label}: {detail}".strip(": "))
    text = str(raw).strip()
    m = re.match(r"([A-Z_]{4,})\s*[:\-–]\s*(.*)", text, re.S)
    if m and m.group(1) in _LABELS:
        return Issue(label=FailureLabel(m.group(1)), detail=m.group(2).strip())
    return Issue(detail=text)


def _score(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise VerdictParseError(f"{key} is {value!r}, not a number") from None
    if not 1 <= value <= 10:
        raise VerdictParseError(f"{key} is {value}, outside 1-10")
    return value


def parse_verdict(reply: str, critic: str) -> Verdict:
    obj = _json_object(reply)
    scores = obj.get("score") if isinstance(obj.get("score"), dict) else obj
    axes = {k: _score(scores, k) for k in AXES}
    overall_src = scores if "overall" in scores else obj
    # A reply without an overall gets the mean of its axes: stated, not invented.
    overall = _score(overall_src, "overall") if "overall" in overall_src else round(sum(axes.values()) / 4, 1)
    raw_issues = scores.get("issues", obj.get("issues", []))
    if not isinstance(raw_issues, list):
        raise VerdictParseError("issues is not a list")
    return Verdict(**axes, overall=overall, issues=[_issue(i) for i in raw_issues], critic=critic)
