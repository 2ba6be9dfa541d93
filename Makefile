# The two set-up commands from the README: `make demo` and `make test`.
# Each creates .venv with nothing but a system Python 3.11+ and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1
DEMO_OUT ?= demo-output

.PHONY: demo test lint typecheck docs pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,dev,plot,parquet]"
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/custintel summarize --demo --out $(DEMO_OUT)

lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

docs: $(VENV)/.test-installed
	$(BIN)/mkdocs build --strict --site-dir build/site

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest

test: lint typecheck docs pytest

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_summary.py

clean:
	rm -rf $(VENV) build $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
