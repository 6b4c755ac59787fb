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

.PHONY: setup reel test doctor clean mutations

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
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev,s3,gpu-test]"
	touch $(TEST_STAMP)

# Test files run in parallel (pytest-xdist, one file per worker at a time, so module fixtures are
# built once; each worker has its own Prefect server from tests/conftest.py); the slowest 15 print.
TEST_WORKERS ?= 2
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

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
