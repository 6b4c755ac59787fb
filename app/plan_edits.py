"""What an edited plan changes in its reel: which shots differ from the plan already there."""

from __future__ import annotations

from typing import Any


def _fields(plan: dict[str, Any], i: int) -> dict[str, Any]:
    shots, lines = plan.get("shots", []), plan.get("vo_script_per_shot", [])
    return {**(shots[i] if i < len(shots) else {}), "narration": lines[i] if i < len(lines) else None}


def describe(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """One line: which shots changed (and in what) and which were kept."""
    if old is None:
        return "no earlier plan in this reel: every shot is rendered"
    if old == new:
        return "the plan is unchanged: every shot is kept"
    shared = [k for k in ("characters", "vo_lang", "music_style", "story_logline", "scene") if old.get(k) != new.get(k)]
    changed, kept = [], []
    for i in range(len(new.get("shots", []))):
        a, b = _fields(old, i), _fields(new, i)
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        (changed if diff else kept).append(f"shot {i} ({', '.join(diff)})" if diff else str(i))
    parts = []
    if shared:
        parts.append(f"changed for the whole reel: {', '.join(shared)}")
    parts.append(f"changed: {', '.join(changed) or 'no shot'}")
    parts.append(f"kept: shots {', '.join(kept)}" if kept else "kept: no shot")
    return "plan edits: " + "; ".join(parts)
