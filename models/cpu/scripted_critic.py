"""A scripted vision critic for tests and drills: deterministic replies from a JSON file.

The script (its path is the critic's `model`, i.e. REEL_MODEL_CRITIC) maps "shot:attempt" ("1:2"),
"shot:*" or "*" to a reply string or a list of replies; a list is consumed in order when the same
attempt is asked again (the critique stage re-asks once after an unparseable reply), and its last
reply repeats after that. The shot and attempt come from the line "Shot <i>, attempt <n>." that
starts the critique stage's question. Every question is appended to <script>.log.jsonl beside the
script (system prompt, prompt, image count, which key answered, the reply), so a test in another
process can check what was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

from reel.errors import BackendUnavailable, UserError
from models.base import BackendBase

_ASKED = re.compile(r"Shot (\d+), attempt (\d+)\.")


def asked_about(prompt: str) -> tuple[int | None, int | None]:
    """(shot, attempt) from the question's opening line, or (None, None) when it names neither."""
    m = _ASKED.search(prompt.lstrip().splitlines()[0] if prompt.strip() else "")
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def log_path(script: Path) -> Path:
    return script.with_name(script.name + ".log.jsonl")


class ScriptedCritic(BackendBase):
    name = "scripted"
    heavy = False

    def __init__(self, model: str = ""):
        self.script_path = Path(model).expanduser() if model else None
        try:
            digest = hashlib.sha256(self.script_path.read_bytes()).hexdigest()[:12] if self.script_path else "none"
        except OSError:
            digest = "missing"
        # The script's content, so a changed script re-critiques.
        self.model_id = f"{self.script_path.name if self.script_path else 'no-script'}@{digest}"
        self.script: dict | None = None
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        if self.script_path is None or not self.script_path.is_file():
            raise BackendUnavailable(f"the scripted critic reads its replies from a JSON file: set REEL_MODEL_CRITIC "
                                     f"to its path (got {str(self.script_path or '') or 'nothing'!r})")
        try:
            script = json.loads(self.script_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"critic script {self.script_path} is not valid JSON ({exc})") from None
        if not isinstance(script, dict):
            raise UserError(f"critic script {self.script_path} must map \"shot:attempt\" or \"*\" to replies")
        self.script = script

    def unload(self) -> None:
        self.script = None

    def ask(self, system: str, prompt: str, images: list[Path]) -> str:
        if self.script is None:
            self.load()
        shot, attempt = asked_about(prompt)
        keys = ([f"{shot}:{attempt}", f"{shot}:*"] if shot is not None else []) + ["*"]
        key = next((k for k in keys if k in self.script), None)
        if key is None:
            raise UserError(f"critic script {self.script_path} has no reply for shot {shot}, attempt {attempt} "
                            f"(tried {', '.join(keys)}; it has {', '.join(sorted(self.script)) or 'nothing'})")
        with self._lock:
            # Count per asked attempt, not per key: "*" serves every attempt's first reply alike.
            turn_key = f"{shot}:{attempt}"
            turn = self._used.get(turn_key, 0)
            self._used[turn_key] = turn + 1
            replies = self.script[key]
            replies = replies if isinstance(replies, list) else [replies]
            reply = str(replies[min(turn, len(replies) - 1)])
            entry = {"shot": shot, "attempt": attempt, "turn": turn + 1, "key": key, "system": system,
                     "prompt": prompt, "images": len(images), "reply": reply}
            with open(log_path(self.script_path), "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return reply
