# Every target installs what it needs into .venv; the machine needs only python3 (>= 3.10).
# `make test` is the README's test command and what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
# routilux as `pip install .` builds it: the scheduler core and the store recorder compiled
# with mypyc (setup.py).
COMPILED_VENV  := .venv-compiled
COMPILED_STAMP := $(COMPILED_VENV)/.installed
SOURCES := $(shell find routilux -name '*.py') setup.py pyproject.toml

.PHONY: install compiled-venv test lint typecheck unit unit-compiled notebooks notebooks-refresh browser screenshot lab demo bench docs clean

# Development installs are editable, and editable installs stay pure Python (setup.py).
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,notebook]"
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install -q -e ".[dev,notebook,docs]"
	touch $(DOCS_STAMP)

# Rebuilt whenever a source changes; fails if they did not compile (no C compiler?).
$(COMPILED_STAMP): $(SOURCES)
	$(PYTHON) -m venv $(COMPILED_VENV)
	$(COMPILED_VENV)/bin/pip install -q --upgrade pip
	$(COMPILED_VENV)/bin/pip install -q --force-reinstall ".[test,dask,postgres]"
	$(COMPILED_VENV)/bin/python -I -c "import routilux.core.worker as w, routilux.store.recorder as r, sys; \
		sys.exit(next((f'{m.__name__} did not compile: {m.__file__}' for m in (w, r) \
		if not m.__file__.endswith('.so')), None))"
	touch $(COMPILED_STAMP)

compiled-venv: $(COMPILED_STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## Unit, integration and browser tests (pytest), then the tutorials under nbval.
unit: $(STAMP)
	$(BIN)/pytest -q

## The engine, debugger, store and executor tests again, against the compiled build (with
## the dask extra: process pools and a Dask LocalCluster run the compiled routilux too; and
## the postgres extra: the compiled recorder writes to PostgreSQL too). They
## run from a copy of tests/ so that the installed (compiled) routilux is imported, not ./routilux.
unit-compiled: $(COMPILED_STAMP)
	rm -rf build/compiled-tests && mkdir -p build/compiled-tests
	cp -r tests examples pyproject.toml build/compiled-tests/
	cd build/compiled-tests && ../../$(COMPILED_VENV)/bin/pytest -q -p no:cacheprovider \
		tests/core tests/debug tests/store tests/executors

## The real-browser test alone (JupyterLab 4 and Notebook 7 in Debian's Chromium).
browser: $(STAMP)
	$(BIN)/pytest -q -m browser tests/notebook/test_browser.py

## Refresh the README's and the docs' screenshots from the browser test.
screenshot: $(STAMP)
	ROUTILUX_SCREENSHOT=1 $(BIN)/pytest -q -m browser tests/notebook/test_browser.py -k lab

notebooks: $(STAMP)
	$(BIN)/pytest -q -p no:randomly --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg notebooks/

## Re-execute the tutorials in place (after changing them or the library).
notebooks-refresh: $(STAMP)
	$(BIN)/python notebooks/refresh.py

## The README's test command: lint, types, the whole suite, the tutorials.
test: lint typecheck unit unit-compiled notebooks

## The main job: JupyterLab on the first tutorial.
## PORT=8899 make lab to use another port. The tutorials are trusted first, so their
## stored diagrams show as pictures; root (a container, say) is allowed to run the server.
PORT ?= 8888
lab: $(STAMP)
	$(BIN)/jupyter trust notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/jupyter lab --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root) \
		notebooks/01_hello_world.ipynb

## The same examples headless, for machines without a browser.
demo: $(STAMP)
	$(BIN)/python examples/quick_start.py
	$(BIN)/python examples/hello_world.py
	$(BIN)/python examples/debugger_demo.py build/demo

## BASELINE=<commit> also measures that commit, for before/after ratios in one run.
bench: $(STAMP) $(COMPILED_STAMP)
	$(BIN)/python bench/run.py $(if $(BASELINE),--baseline $(BASELINE))

docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(COMPILED_VENV) .pytest_cache .mypy_cache .ruff_cache build dist docs/_build
