"""A full disk, for real: the output root on a small tmpfs (mount needs root; skipped otherwise),
filled with a ballast file so a real `reel make` runs out of space part-way. The failure is one line
naming the folder and the space needed; no partial file (`*.tmp-*`), scratch folder (`.work`) or
cut-off result record survives the failed run or the resume; the manifest stays whole."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import reel_cli

pytestmark = pytest.mark.usefixtures("prefect_server")
PROMPT = "a fisherman mends his nets in Lisbon at noon"


@contextlib.contextmanager
def small_disk(path: Path, mb: int):
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", str(path)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}); needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave_mb: float) -> Path:
    """A ballast file that leaves about `leave_mb` free on the disk."""
    ballast = disk / "ballast"
    free = shutil.disk_usage(disk).free - int(leave_mb * 1e6)
    with open(ballast, "ab") as f:
        os.posix_fallocate(f.fileno(), f.tell(), max(free, 0))
    return ballast


def debris(reel_dir: Path) -> list[str]:
    found = [str(p) for p in reel_dir.rglob("*.tmp-*")]
    found += [str(reel_dir / ".work")] if (reel_dir / ".work").exists() else []
    results = reel_dir / ".results"
    found += [str(p) for p in results.iterdir() if p.stat().st_size == 0] if results.is_dir() else []
    return found


def one_line(proc) -> str:
    line = proc.stderr.strip()
    assert proc.returncode == 2 and "\n" not in line and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return line


def test_a_full_disk_is_one_line_leaves_no_debris_and_a_resume_finishes(tmp_path):
    from reel.store import Artifact, ArtifactStore

    with small_disk(tmp_path / "disk", 48) as disk:
        out = disk / "out"
        ballast = fill(disk, 3.0)  # a 2-shot animatic needs about 7 MB
        failed = reel_cli("make", PROMPT, "--shots", "2", "--out", str(out))
        line = one_line(failed)
        print(f"disk full: {line}")
        (reel_dir,) = [p for p in out.iterdir() if p.is_dir()]
        assert line.startswith(f"reel: error: no space left in {reel_dir}"), line
        assert " needed " in line and " MB" in line and "is free there" in line, line
        assert not debris(reel_dir), debris(reel_dir)

        ballast.unlink()
        resumed = reel_cli("resume", reel_dir.name, "--out", str(out))
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert not debris(reel_dir), debris(reel_dir)
        manifest = json.loads((reel_dir / "manifest.json").read_text())
        store = ArtifactStore(str(out), reel_dir.name)
        assert all(store.verify(Artifact(**{k: a[k] for k in ("path", "sha256", "size")})) for a in manifest["artifacts"])
        assert next(s for s in manifest["stages"] if s["stage"] == "plan")["cached"]

        # A later re-mix (another loudness) on a full disk: it fails the same way, and the reel's
        # manifest and mp4 are the finished ones, untouched.
        before = {name: (reel_dir / name).read_bytes() for name in ("manifest.json", "reel.mp4")}
        ballast = fill(disk, 1.0)
        again = reel_cli("make", PROMPT, "--shots", "2", "--out", str(out), "--loudness", "podcast")
        line = one_line(again)
        assert line.startswith(f"reel: error: no space left in {reel_dir}"), line
        assert {name: (reel_dir / name).read_bytes() for name in before} == before
        assert not debris(reel_dir), debris(reel_dir)
