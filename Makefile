# Every target installs what it needs into .venv; nothing is assumed on the machine
# beyond python3 (>= 3.10).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint typecheck unit notebooks browser lab demo bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,notebook]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

## The README's test command: lint, types, the whole suite.
test: lint typecheck unit

## Run the examples headless: the demo a newcomer can run without Jupyter.
demo: $(STAMP)
	$(BIN)/python examples/quick_start.py
	$(BIN)/python examples/hello_world.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist docs/_build
