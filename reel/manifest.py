"""manifest.json: every artifact with its sha256 and maker, seeds, per-shot attempts and
verdicts, stage timings and whether each stage came from the cache in this run."""

from __future__ import annotations

import time
from typing import Any

from reel import __version__
from reel.store import ArtifactStore

MANIFEST = "manifest.json"


def build_manifest(ref_id: str, prompt: str | None, preset: str, seed: int, backends: dict[str, str],
                   ledger: list[dict[str, Any]], shots: list[dict[str, Any]], final_path: str,
                   delivery: dict[str, Any] | None = None) -> dict[str, Any]:
    # One line per file, as it is on disk: a later stage of the same run that rewrote a path (a
    # keyframe re-rolled at the storyboard review) supersedes the earlier record of it.
    artifacts: dict[str, dict[str, Any]] = {}
    for entry in ledger:
        record = entry["record"]
        for name, art in record["artifacts"].items():
            artifacts[art["path"]] = {
                "path": art["path"], "sha256": art["sha256"], "size": art["size"], "stage": record["stage"],
                "subject": record["subject"], "backend": record["backend"], "model_id": record["model_id"],
                "seed": record["meta"].get("seed") or record["meta"].get("knobs", {}).get("seed"),
            } | ({"accel": record["meta"]["accel"]} if "accel" in record["meta"] else {})
    return {
        "reel_id": ref_id, "reel_version": __version__, "written_at": time.time(), "prompt": prompt,
        "preset": preset, "seed": seed, "backends": backends, "final": final_path,
        "artifacts": [artifacts[path] for path in sorted(artifacts)],
        "shots": shots,
        "delivery": delivery or {},
        "stages": [{k: e[k] for k in ("stage", "subject", "cached", "started", "ended", "seconds")} | {
            "gpu_window": e["record"]["meta"].get("gpu_window")} for e in ledger],
        "all_cached": all(e["cached"] for e in ledger),
        # what a person should know about how the reel was made (a fallback plan, ...)
        "warnings": [e["record"]["meta"]["warning"] for e in ledger if e["record"]["meta"].get("warning")],
    }


def write_manifest(store: ArtifactStore, manifest: dict[str, Any]) -> None:
    """Write the manifest only if every digest in it is the digest of the file in the store."""
    from reel.store import Artifact

    stale = [a["path"] for a in manifest["artifacts"]
             if not store.verify(Artifact(path=a["path"], sha256=a["sha256"], size=a["size"]))]
    if stale:
        raise RuntimeError(f"{len(stale)} artifacts changed on disk while reel {store.reel_id} was being made "
                           f"({', '.join(stale[:4])}); was another program writing to it? run the same command again")
    store.write_json(MANIFEST, manifest)
