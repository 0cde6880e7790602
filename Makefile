# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CICIE := $(VENV)/bin/cicie
export CICIE_HOME ?= $(CURDIR)/var
export CICIE_PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: install run test lint format messages lock bench bench-peers clean

# The development environment is installed from the lock (exact versions, checked hashes), then
# the project itself without its dependencies; `pip check` catches a lock that no longer
# covers pyproject.toml (run `make lock`).
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@$(PY) -m pip check || { echo "requirements-dev.lock does not cover pyproject.toml: run 'make lock'" >&2; exit 1; }
	touch $@

install: $(VENV)/.installed

## lock: pin every dependency with its hashes, from pyproject.toml (after changing its lists;
## LOCK_ARGS=--upgrade moves every pin to the newest release)
#  requirements.lock: SQLite installs; requirements-postgres.lock: with the `postgres` extra;
#  requirements-dev.lock: both extras, what `make install` and CI use. The first two are
#  constrained by the third, so the three agree on every version they share.
UV_VERSION ?= 0.13.9
LOCK_VENV ?= .venv-lock
UV := $(LOCK_VENV)/bin/uv
UV_COMPILE = $(UV) pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' $(LOCK_ARGS)
$(LOCK_VENV)/.installed:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	touch $@

lock: $(LOCK_VENV)/.installed
	$(UV_COMPILE) --extra dev --extra postgres -o requirements-dev.lock
	$(UV_COMPILE) --extra postgres -c requirements-dev.lock -o requirements-postgres.lock
	$(UV_COMPILE) -c requirements-dev.lock -o requirements.lock

## run: set up, migrate, and serve on http://127.0.0.1:$CICIE_PORT (data in $CICIE_HOME)
run: install
	$(CICIE) db upgrade
	$(CICIE) serve --demo

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

## messages: extract every sentence a person reads and update each language's catalogue
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k Text -k N_ --no-location --omit-header -o i18n/locale/messages.pot .
	$(VENV)/bin/python -m i18n.catalogue_tool update

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
	rm -rf $(VENV) $(BENCH_VENV) $(LOCK_VENV) var .pytest_cache .mypy_cache .ruff_cache
