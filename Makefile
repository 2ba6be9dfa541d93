# The two set-up commands from the README: `make demo` and `make test`.
# Each creates .venv with nothing but a system Python 3.11+ and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1
DEMO_OUT ?= demo-report

.PHONY: demo test lint typecheck docs pytest pytest-pandas2 bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot,parquet]"
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,dev,plot,parquet]"
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/custintel report --demo --out $(DEMO_OUT)

# lint-imports checks the architecture contracts in pyproject.toml ([tool.importlinter]):
# the layer order, private modules, import circles; see docs/architecture.md.
lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

docs: $(VENV)/.test-installed
	$(BIN)/mkdocs build --strict --site-dir build/site

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest

# pandas 2.x is supported too: run the suite once more against the last 2.x release.
PANDAS2_VENV ?= .venv-pandas2
$(PANDAS2_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PANDAS2_VENV)
	$(PANDAS2_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PANDAS2_VENV)/bin/python -m pip install --quiet "pandas>=2.2,<3" -e ".[test,plot]"
	touch $@

pytest-pandas2: $(PANDAS2_VENV)/.installed
	$(PANDAS2_VENV)/bin/python -m pytest -q

test: lint typecheck docs pytest pytest-pandas2

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_summary.py

clean:
	rm -rf $(VENV) $(PANDAS2_VENV) build $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
