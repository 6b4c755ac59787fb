"""The mutation list (tests/mutations.toml, `make mutations`) stays applicable as the code moves.

`make mutations` is too slow for every run, so a refactor can leave a break whose text is gone
(it would report STALE only when someone runs it). This checks, on every run, what can be checked
without running the breaks: each break's text occurs exactly once in its file, and each test it
names exists (the file, and the test function in it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _breaks() -> list[dict]:
    return tomllib.loads((ROOT / "tests" / "mutations.toml").read_text())["break"]


def test_every_break_still_applies_once():
    stale = []
    for brk in _breaks():
        text = (ROOT / brk["file"]).read_text() if (ROOT / brk["file"]).is_file() else ""
        if text.count(brk["old"]) != 1:
            stale.append(f"{brk['name']}: {brk['old']!r} occurs {text.count(brk['old'])} times in {brk['file']}")
    assert not stale, "update tests/mutations.toml:\n" + "\n".join(stale)


def test_every_named_test_exists():
    missing = []
    for brk in _breaks():
        for node in brk["tests"]:
            path, _, name = node.partition("::")
            source = (ROOT / path).read_text() if (ROOT / path).is_file() else None
            if source is None or (name and not re.search(rf"^def {re.escape(name.split('[')[0])}\(", source, re.M)):
                missing.append(f"{brk['name']}: {node}")
    assert not missing, "update tests/mutations.toml:\n" + "\n".join(missing)
