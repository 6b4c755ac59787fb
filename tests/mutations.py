"""Mutation check: apply one-line breaks to a copy of the tree and see which the named tests miss.

    python -m tests.mutations [--only TEXT] [--list] [--file tests/mutations.toml]

Each break in tests/mutations.toml names a file, the exact text to replace (it must occur once),
what to put instead, and the tests that must fail once it is in. The tree (tracked and untracked
files git does not ignore) is copied once to a temporary folder; each break is applied there, the
named tests run in a fresh pytest process (that copy first on PYTHONPATH), and the file is restored.
A break whose tests still pass SURVIVED: the tests do not see what the line does. What failed is
printed under each KILLED line: the named tests should pass on the unbroken tree (run them first). Too slow for
`make test` (a pytest run per break): `make mutations`. Exit status 1 when a break survived or no
longer applies (its text is gone from the file: update the list).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "tests" / "mutations.toml"


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(tree: Path, brk: dict, timeout: float) -> tuple[str, float, str]:
    """(KILLED | SURVIVED | STALE | TIMEOUT, seconds, the last lines pytest printed)."""
    path = tree / brk["file"]
    original = path.read_text()
    if original.count(brk["old"]) != 1:
        return "STALE", 0.0, f"{brk['old']!r} occurs {original.count(brk['old'])} times in {brk['file']}"
    path.write_text(original.replace(brk["old"], brk["new"]))
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:xdist", "-p", "no:cacheprovider",
                               *brk["tests"]], cwd=tree, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(tree)})
        out = (proc.stdout + proc.stderr).strip().splitlines()
        failed = [line[:200] for line in out if line.startswith(("FAILED", "ERROR"))]
        if proc.returncode == 0:
            verdict = "SURVIVED"
        elif proc.returncode in (1,):
            verdict = "KILLED"
        else:  # 2-5: interrupted, internal error, usage error, no tests collected: the list is wrong
            verdict = "STALE"
        # What failed, so a break killed by an unrelated failure shows as such.
        return verdict, time.monotonic() - started, "\n".join(failed or out[-3:])
    except subprocess.TimeoutExpired:
        return "TIMEOUT", time.monotonic() - started, ""
    finally:
        path.write_text(original)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", type=Path, default=LIST, help="the list of breaks (TOML, [[break]] tables)")
    ap.add_argument("--only", action="append", default=[], help="run the breaks whose name or file contains this")
    ap.add_argument("--list", action="store_true", help="print the breaks and stop")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per break")
    args = ap.parse_args(argv)
    breaks = tomllib.loads(args.file.read_text())["break"]
    if args.only:
        breaks = [b for b in breaks if any(o in b["name"] or o in b["file"] for o in args.only)]
    if args.list:
        for b in breaks:
            print(f"{b['name']:<40} {b['file']}")
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="reel-mutations-") as tmp:
        tree = Path(tmp)
        _copy_tree(tree)
        for b in breaks:
            verdict, seconds, tail = _run(tree, b, args.timeout)
            results.append((b, verdict))
            print(f"{verdict:<8} {seconds:6.1f} s  {b['name']:<40} {b['file']}", flush=True)
            if tail:
                print("         " + tail.replace("\n", "\n         "), flush=True)
    bad = [b["name"] for b, v in results if v != "KILLED"]
    print(f"\n{len(results) - len(bad)} of {len(results)} breaks killed"
          + (f"; not killed: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
