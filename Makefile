# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CICIE := $(VENV)/bin/cicie
export CICIE_HOME ?= $(CURDIR)/var
export CICIE_PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: install run test lint format messages bench bench-peers clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## run: set up, migrate, and serve on http://127.0.0.1:$CICIE_PORT (data in $CICIE_HOME)
run: install
	$(CICIE) db upgrade
	$(CICIE) serve

## test: set up and run the whole suite (SQLite, and PostgreSQL at 127.0.0.1:5432 when it answers)
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## messages: extract the web interface's strings and merge them into the Spanish catalogue
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext --no-location --omit-header -o web/locale/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i web/locale/messages.pot -d web/locale -l es

## bench-peers: the engine beside the floor and the peers, in one run (see docs/benchmarks.md)
PEERS ?= ../shared/bench/peers
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml $(PEERS)/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e . -r $(PEERS)/requirements.txt
	touch $@

bench-peers: $(BENCH_VENV)/.installed
	cd $(PEERS) && $(CURDIR)/$(BENCH_VENV)/bin/python run_bench.py --extra $(CURDIR)/bench/impl_cicie.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) var .pytest_cache .mypy_cache .ruff_cache
