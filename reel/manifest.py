"""manifest.json: every artifact with its sha256 and maker, seeds, per-shot attempts and
verdicts, stage timings and whether each stage came from the cache in this run."""

from __future__ import annotations

import time
from typing import Any

from reel import __version__
from reel.store import ArtifactStore

MANIFEST = "manifest.json"


def build_manifest(ref_id: str, prompt: str | None, preset: str, seed: int, backends: dict[str, str],
                   ledger: list[dict[str, Any]], shots: list[dict[str, Any]], final_path: str) -> dict[str, Any]:
    artifacts = []
    for entry in ledger:
        record = entry["record"]
        for name, art in record["artifacts"].items():
            artifacts.append({"path": art["path"], "sha256": art["sha256"], "size": art["size"],
                              "stage": record["stage"], "subject": record["subject"], "backend": record["backend"],
                              "model_id": record["model_id"], "seed": record["meta"].get("seed")
                              or record["meta"].get("knobs", {}).get("seed")}
                             | ({"accel": record["meta"]["accel"]} if "accel" in record["meta"] else {}))
    return {
        "reel_id": ref_id, "reel_version": __version__, "written_at": time.time(), "prompt": prompt,
        "preset": preset, "seed": seed, "backends": backends, "final": final_path,
        "artifacts": sorted(artifacts, key=lambda a: a["path"]),
        "shots": shots,
        "stages": [{k: e[k] for k in ("stage", "subject", "cached", "started", "ended", "seconds")} | {
            "gpu_window": e["record"]["meta"].get("gpu_window")} for e in ledger],
        "all_cached": all(e["cached"] for e in ledger),
    }


def write_manifest(store: ArtifactStore, manifest: dict[str, Any]) -> None:
    store.write_json(MANIFEST, manifest)
