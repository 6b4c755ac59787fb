"""`reel doctor` and the one-line errors a user gets when the GPU stack or weights are missing."""

from __future__ import annotations

import re

import pytest

from tests.helpers import reel_cli


# What a fix looks like in a doctor line: a command to run or a setting to change.
FIX = re.compile(r"pip install|apt-get install|make \w+|set (REEL|PREFECT)_\w+|unset \w+|--subtitles srt")


@pytest.mark.usefixtures("prefect_server")  # the session's PREFECT_API_URL points at it
def test_doctor_reports_each_check_with_a_fix():
    proc = reel_cli("doctor")
    lines = proc.stdout.strip().splitlines()
    names = [line.split("]", 1)[1].split()[0] for line in lines]
    assert {"ffmpeg", "espeak-ng", "soundfont", "prefect", "gpu", "kokoro"} <= set(names), proc.stdout
    assert proc.returncode == 0, proc.stdout
    assert "libx264" not in proc.stdout or "missing" not in proc.stdout
    problems = [line for line in lines if not line.startswith("[  ok]")]
    assert all(FIX.search(line) for line in problems), problems


def test_each_problem_the_doctor_finds_comes_with_its_fix(tmp_path):
    """Problems made on purpose (a model folder that does not exist, a Prefect server nobody runs):
    each line that is not ok names what to run or what to set."""
    proc = reel_cli("doctor", env={"REEL_MODEL_VIDEO": str(tmp_path / "no-such-wan"),
                                   "PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert proc.returncode == 1, proc.stdout
    problems = {line.split("]", 1)[1].split()[0]: line for line in proc.stdout.splitlines()
                if not line.startswith("[  ok]")}
    assert {"prefect", "gpu"} <= set(problems), proc.stdout
    missing_fix = [line for line in problems.values() if not FIX.search(line)]
    assert not missing_fix, missing_fix


def test_doctor_prints_the_platform_and_where_vllm_runs(tmp_path):
    """The platform line: torch's build (CUDA/HIP version or CPU-only), the card or its absence, and
    the vLLM the worker finds in its own Python (REEL_VLLM_PYTHON or .venv-vllm)."""
    import torch

    proc = reel_cli("doctor")
    line = next(line for line in proc.stdout.splitlines() if "] platform" in line)
    assert f"torch {torch.__version__}" in line and "CPU-only build" in line and "no GPU visible" in line, line
    from importlib.metadata import version  # vLLM is installed --no-deps for the tests (install/vllm-test.txt)

    assert f"vLLM {version('vllm')} in " in line, line
    proc = reel_cli("doctor", env={"REEL_VLLM_PYTHON": str(tmp_path / "no-python")})
    line = next(line for line in proc.stdout.splitlines() if "] platform" in line)
    assert f"the vLLM worker's Python {tmp_path / 'no-python'} does not start" in line, line


def test_doctor_names_a_missing_model_folder_and_its_setting(tmp_path):
    proc = reel_cli("doctor", env={"REEL_MODEL_VIDEO": str(tmp_path / "no-such-wan")})
    assert proc.returncode == 1
    assert "REEL_MODEL_VIDEO" in proc.stdout and "does not exist" in proc.stdout


@pytest.mark.usefixtures("prefect_server")
def test_missing_weights_stop_the_run_with_one_line(tmp_path):
    pytest.importorskip("diffusers", reason="needs the GPU libraries to get as far as loading weights")
    proc = reel_cli("make", "a quiet harbour at dawn", "--shots", "1", "--out", str(tmp_path / "out"),
                    env={"REEL_BACKEND_IMAGE": "flux2", "REEL_MODEL_IMAGE": str(tmp_path / "no-such-flux"),
                         "REEL_DEVICE_IMAGE": "cpu"})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "REEL_MODEL_IMAGE" in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_unknown_backend_is_one_line(tmp_path):
    proc = reel_cli("make", "a quiet harbour at dawn", "--out", str(tmp_path), env={"REEL_BACKEND_VIDEO": "sora"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "reel: error: no video backend named 'sora'; available: bench, camera-move, faulty, wan22 "
        "(or a family: cpu, gpu, bench)"]


def test_a_setting_that_does_not_parse_is_one_line_naming_the_variable(tmp_path):
    """REEL_* values are read before the command line is: a bad one must not be pydantic's traceback."""
    env = {"REEL_GPU": "abc", "REEL_SWAP_GRACE_S": "soon"}
    for args in (("plan", "a cat on a roof"), ("make", "a cat on a roof", "--out", str(tmp_path / "out")), ("doctor",)):
        proc = reel_cli(*args, env=env)
        line = proc.stderr.strip()
        assert proc.returncode == 2 and "\n" not in line and "Traceback" not in line, (args, proc.stderr)
        assert "REEL_GPU='abc'" in line and "REEL_SWAP_GRACE_S='soon'" in line and "fix or unset it" in line, line
    assert not (tmp_path / "out").exists()
