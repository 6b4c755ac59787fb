# Two commands matter: `make reel PROMPT="..."` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROMPT ?= a violinist plays in a Brooklyn subway station at midnight
PRESET ?= preview
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: setup reel test doctor clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip<26.3"
	$(BIN)/pip install -q -e ".[dev]"
	# tinysoundfont without its playback-only pyaudio dependency (see pyproject.toml)
	$(BIN)/pip install -q --no-deps "tinysoundfont==0.3.7"
	touch $(STAMP)

reel: $(STAMP)
	$(BIN)/reel make "$(PROMPT)" --preset $(PRESET)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

doctor: $(STAMP)
	$(BIN)/reel doctor

clean:
	rm -rf outputs .pytest_cache
