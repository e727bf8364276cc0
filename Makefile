# `make test` and `make demo` set up everything they need in a fresh virtual environment (.venv).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test test-fast demo compare variance lint type format bench report docs docs-tables docs-check clean

# torch==2.13.0 first: on the project's machines it resolves to the CPU build already on disk; a plain
# `torch` requirement would pull a multi-GB CUDA build. The project's range (<2.14) then keeps it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,zoo,bench,docs,distributed]"
	touch $(STAMP)

install: $(STAMP)

# The whole suite, as CI runs it (.ci/run), one worker per core (pytest-xdist), each test file on one worker so that
# a module's costly fixtures are computed once; the 15 slowest tests are listed, to keep the suite under 10 minutes
test: install
	$(PY) -m pytest -q -n auto --dist loadfile --durations=15 tests

# A smoke test of every component in under a minute on 2 cores: the tests marked slow (worker processes, training
# runs, statistical estimates, the wheel install) run in `make test` only
test-fast: install
	$(PY) -m pytest -q -m "not slow" tests

demo: install
	$(VENV)/bin/sb3-reinforce train --env CartPole-v1 --seed 0
	$(VENV)/bin/sb3-reinforce compare --env CartPole-v1 --seeds 0 1 2 --workers 2 --eval-freq 10000 --out-dir results/demo

lint: install
	$(PY) -m ruff check sb3_reinforce tests benchmarks

format: install
	$(PY) -m ruff format sb3_reinforce tests benchmarks
	$(PY) -m ruff check --fix sb3_reinforce tests benchmarks

type: install
	$(PY) -m mypy sb3_reinforce

compare: install
	$(VENV)/bin/sb3-reinforce compare --env CartPole-v1 --seeds 0 1 2 3 4 --workers 2

variance: install
	$(VENV)/bin/sb3-reinforce variance --env CartPole-v1

bench: install
	$(PY) benchmarks/throughput.py

# The API docs and the guides, warnings as errors: docs/_build/html/index.html
docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

# Every published result on report seeds (benchmarks/report.py: resumable, a run whose files exist is skipped; many
# hours on 2 cores), then the tables re-rendered from the result files
report: install
	$(PY) benchmarks/report.py --workers 2
	$(PY) docs/tables.py

# Every results table in README.md and docs/ is rendered from the committed result files (docs/tables.py)
docs-tables: install
	$(PY) docs/tables.py

docs-check: install
	$(PY) docs/tables.py --check

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache docs/_build
