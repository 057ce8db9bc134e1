# Lead Refinery: `make demo` to try it, `make test` to run the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export REFINERY_HOME ?= $(CURDIR)/var

.PHONY: help venv demo serve test test-fast lint typecheck bench clean

help:
	@echo "make demo   - set up everything, load demo data, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   - run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - run every benchmark in bench/ (about an hour; see docs/benchmarks.md)"

$(BIN)/refinery: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/refinery

demo: venv
	$(BIN)/refinery migrate --no-input
	$(BIN)/refinery demo
	$(BIN)/refinery serve --port $(PORT)

serve: venv
	$(BIN)/refinery migrate --no-input
	$(BIN)/refinery serve --port $(PORT)

test: venv
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: venv
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/dedupe.py
	$(BIN)/python bench/dedupe_import.py
	$(BIN)/python bench/predictive.py
	$(BIN)/python bench/cadence_sweep.py
	$(BIN)/python bench/tracking.py
	$(BIN)/python bench/nurture.py
	$(BIN)/python bench/hygiene.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
