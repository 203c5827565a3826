# Two commands on a fresh machine: `make book` and `make test`. Each creates the locked .venv when missing.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
BIN := .venv/bin
JB_FLAGS := -W -n --keep-going
SEEDS ?= ../shared/seeds

.PHONY: pdf cache-check book instructor bundle test check env test-env vendor validate browser exercises bench lab lab-settings clean help
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled once at install: this machine sets PYTHONDONTWRITEBYTECODE, so without it every
# process (each notebook kernel, Sphinx, each test) would compile pandas, Altair and Sphinx from source again.
.venv/.book-env: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --compile-bytecode
	touch $@

# The test environment is the book's plus every extra, exactly (packages left out of uv.lock are removed).
.venv/.test-env: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --compile-bytecode
	touch $@ .venv/.book-env

env: .venv/.book-env  ## the book's environment
test-env: .venv/.test-env  ## the book's environment plus test and lab extras

node_modules/.installed: package.json package-lock.json .venv/.book-env
	$(BIN)/npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

vendor: _build/assets/vendor/.copied  ## copy the browser libraries the site serves itself

_build/assets/vendor/.copied: node_modules/.installed src/brbook/assets.py
	$(BIN)/python -m brbook.assets node_modules _build/assets
	touch $@

validate: _build/.data-valid  ## check every table in data/ against its schema

_build/.data-valid: $(wildcard data/*.csv) src/brbook/schema.py .venv/.book-env
	$(BIN)/brbook data validate
	@mkdir -p _build && touch $@

# The execution cache keys on a notebook's own text and Sphinx re-reads only edited pages; when data/
# or the package change, executed outputs are stale, so both are dropped (editing a chapter keeps them).
cache-check: env
	@$(BIN)/python -m brbook.assets --stamp _build/.inputs-stamp data src/brbook book/_static exercises \
		|| rm -rf _build/.jupyter_cache _build/.doctrees _build/html _build/instructor

# Pages are executed before Sphinx reads them, EXECUTE_JOBS kernels at a time (default: one per core and one more), into the
# execution cache the build reads; EXECUTE_JOBS=0 leaves execution to Jupyter Book, one page after another.
EXECUTE_JOBS ?=
execute = $(if $(filter 0,$(EXECUTE_JOBS)),,$(BIN)/python -m brbook.execute $(if $(EXECUTE_JOBS),--jobs $(EXECUTE_JOBS)) $(1))

# Sphinx then reads and writes the pages SPHINX_JOBS at a time (default: one per core; 1 is Jupyter Book's own way).
SPHINX_JOBS ?=
JUPYTER_BOOK = $(BIN)/python -m brbook.jbuild $(if $(SPHINX_JOBS),--jobs $(SPHINX_JOBS))

book: validate vendor exercises cache-check  ## build the student book into _build/html (warnings are errors)
	$(call execute)
	$(JUPYTER_BOOK) build . --builder html $(JB_FLAGS)

# The instructor edition: the same pages plus the guide and the solutions (book/instructor/), from a
# table of contents that `brbook instructor-edition` derives from _toc.yml. It shares the execution cache.
instructor: validate vendor exercises cache-check  ## build the instructor edition (guide and solutions) into _build/instructor/html
	$(BIN)/brbook instructor-edition --out _build/instructor
	$(call execute,--toc _build/instructor/_toc.yml --config _build/instructor/_config.yml)
	@# what the student build kept by digest serves this build too: its charts compiled to Vega, its compiled
	@# templates, icon stylesheet and formatted references (brbook.sphinx_ext; each entry is found by what it was made from)
	@mkdir -p _build/instructor/_build/.doctrees && for kept in brbook-vega brbook-jinja brbook-icons brbook-references.pickle; do \
		test ! -e _build/.doctrees/$$kept || test -e _build/instructor/_build/.doctrees/$$kept \
		|| cp -a _build/.doctrees/$$kept _build/instructor/_build/.doctrees/; done
	$(JUPYTER_BOOK) build . --builder html --toc _build/instructor/_toc.yml \
		--config _build/instructor/_config.yml --path-output _build/instructor $(JB_FLAGS)
	rm -rf _build/instructor/html && cp -a _build/instructor/_build/html _build/instructor/html
	@echo "instructor edition: _build/instructor/html/index.html (never publish it to students)"

bundle: exercises  ## zip the student notebooks, data and package for a class: _build/student-bundle.zip
	@test -n "$$(ls _build/html/notebooks/[0-9][0-9]-*.ipynb 2>/dev/null)" || $(MAKE) book
	$(BIN)/brbook bundle --out _build/student-bundle.zip

EXERCISE_INPUTS := $(wildcard exercises/*.md data/*.csv src/brbook/*.py)

exercises: _build/exercises/.built  ## build the student exercise notebooks and the answer key into _build/exercises

_build/exercises/.built: $(EXERCISE_INPUTS) .venv/.book-env
	$(BIN)/brbook exercises build --out _build/exercises
	rm -rf _build/assets/notebooks && mkdir -p _build/assets/notebooks && for f in _build/exercises/student/*.ipynb; do cp $$f _build/assets/notebooks/exercise-$$(basename $$f); done
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

# The suite builds nothing itself: it reads the book, the instructor edition, the bundle and the exercises
# built here once. pytest-xdist runs it on every core; the browser tests (one Chromium) stay on one worker.
# The tests that need no browser and no built book (make check's) start beside the builds, which leave about
# a quarter of the processors idle, and the rest as soon as the editions are built; the report of the first
# follows the second's. A Ctrl-C stops both (a job started with & in a script ignores it by itself).
# Bytecode is written while the tests run (this machine sets PYTHONDONTWRITEBYTECODE): otherwise each worker
# compiles the package and rewrites every test module's assertions again on every run (about 3 s each).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n auto --dist loadgroup

test: test-env browser  ## run the whole test suite (lint, data, both editions, the bundle, then every test)
	$(BIN)/ruff check src tests
	$(MAKE) validate exercises
	@$(PYTEST) -m "not browser and not built" > _build/unbuilt-tests.log 2>&1 & unbuilt=$$!; \
	trap 'kill $$unbuilt 2>/dev/null; exit 130' INT TERM HUP; \
	report() { wait $$unbuilt; passed=$$?; echo "== the tests that need no built book, run beside the others:"; \
		cat _build/unbuilt-tests.log; return $$passed; }; \
	$(MAKE) book && $(MAKE) instructor bundle || { built=$$?; report; exit $$built; }; \
	echo "== the tests of the built book:"; $(PYTEST) -m "browser or built"; tested=$$?; \
	report && exit $$tested

check: test-env validate exercises  ## quick inner loop (under a minute): lint, data/ and the tests that need no browser or built book
	$(BIN)/ruff check src tests
	$(PYTEST) -m "not browser and not built"

bench: test-env browser exercises  ## print build (parallel against serial), per-page, suite, page-weight and grading figures
	$(BIN)/python tests/bench.py --suite $(BENCH)

# A classroom JupyterLab on the class notebooks the book build writes (brbook.notebooks): the file browser
# is rooted at _build/class/ (chapters, student exercises, data; no keys or sources), copied once so work
# done there is kept. INSTRUCTOR=1 roots it at the repository. JUPYTER_PORT is honoured; root may run it.
lab-settings: test-env exercises
	@test -n "$$(ls _build/html/notebooks/[0-9][0-9]-*.ipynb 2>/dev/null)" || $(MAKE) book
	$(BIN)/python -m brbook.lab $(CURDIR)

lab: lab-settings  ## open the chapters and exercises as live notebooks in JupyterLab (INSTRUCTOR=1: the repository)
	$(BIN)/python -m brbook.lab $(CURDIR) --serve $(if $(INSTRUCTOR),--instructor)

clean:  ## remove build outputs (keeps .venv)
	rm -rf _build
