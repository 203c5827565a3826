# Two commands on a fresh machine: `make book` and `make test`. Each creates the locked .venv when missing.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
BIN := .venv/bin
JB_FLAGS := -W -n --keep-going
SEEDS ?= ../shared/seeds

.PHONY: pdf cache-check book test env test-env vendor validate browser exercises bench lab clean help
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.book-env: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact
	touch $@

.venv/.test-env: pyproject.toml uv.lock .venv/.book-env
	$(UV) sync --locked --inexact --all-extras
	touch $@

env: .venv/.book-env  ## the book's environment
test-env: .venv/.test-env  ## the book's environment plus test and lab extras

node_modules/.installed: package.json package-lock.json .venv/.book-env
	$(BIN)/npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

vendor: node_modules/.installed  ## copy the browser libraries the site serves itself
	$(BIN)/python -m brbook.assets node_modules _build/assets

validate: _build/.data-valid  ## check every table in data/ against its schema

_build/.data-valid: $(wildcard data/*.csv) src/brbook/schema.py .venv/.book-env
	$(BIN)/brbook data validate
	@mkdir -p _build && touch $@

# The execution cache keys on a notebook's own text and Sphinx re-reads only edited pages; when data/
# or the package change, executed outputs are stale, so both are dropped (editing a chapter keeps them).
cache-check: env
	@$(BIN)/python -m brbook.assets --stamp _build/.inputs-stamp data src/brbook book/_static \
		|| rm -rf _build/.jupyter_cache _build/.doctrees _build/html

book: validate vendor exercises cache-check  ## build the student book into _build/html (warnings are errors)
	$(BIN)/jupyter-book build . --builder html $(JB_FLAGS)

EXERCISE_INPUTS := $(wildcard exercises/*.md data/*.csv src/brbook/*.py)

exercises: _build/exercises/.built  ## build the student exercise notebooks and the answer key into _build/exercises

_build/exercises/.built: $(EXERCISE_INPUTS) .venv/.book-env
	$(BIN)/brbook exercises build --out _build/exercises
	rm -rf _build/assets/notebooks && mkdir -p _build/assets/notebooks && cp _build/exercises/student/*.ipynb _build/assets/notebooks/
	touch $@

pdf: validate vendor exercises browser  ## print edition: one HTML page with static charts, and a PDF of it
	sed -e 's#_build/.jupyter_cache#_build/.jupyter_cache_print#' _config.yml > _build/_config_print.yml
	BRBOOK_STATIC_CHARTS=1 $(BIN)/jupyter-book build . --builder singlehtml --config _build/_config_print.yml \
		--path-output _build/print $(JB_FLAGS)
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
		--disable-sync --no-pdf-header-footer --print-to-pdf=$(CURDIR)/_build/belarus-russia.pdf \
		file://$(CURDIR)/_build/print/_build/singlehtml/book/intro.html 2>/dev/null
	@echo "print edition: _build/print/_build/singlehtml/book/intro.html and _build/belarus-russia.pdf"

browser:  ## Debian's chromium for the browser tests
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: test-env browser  ## run the whole test suite (lint, data, the book, then every test)
	$(BIN)/ruff check src tests
	$(MAKE) book
	$(BIN)/python -m pytest

bench: test-env browser exercises  ## print build, page-weight, drawing and grading figures
	$(BIN)/python tests/bench.py

lab: test-env  ## open the chapters as live notebooks in JupyterLab
	$(BIN)/jupyter lab book/

clean:  ## remove build outputs (keeps .venv)
	rm -rf _build
