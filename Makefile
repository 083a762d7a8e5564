# Two commands a new user needs (see README): `make book` and `make test`.
# Both first create .venv and install requirements.txt into it (once; again when it changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: setup book test test-fast release bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	@touch $(STAMP)

## Build the book into _build/html (warnings are errors; notebooks are executed and cached).
## The execution cache is keyed on each notebook's code only, so it is dropped whenever the library
## or the question bank (which the chapters render) changed since the last build.
CACHE := _build/.jupyter_cache
book: $(STAMP)
	@if [ -d $(CACHE) ] && [ -n "$$(find rnncourse -newer $(CACHE) -type f ! -name "*.pyc" -print -quit)" ]; then \
		echo "rnncourse/ changed since the last build: re-executing every notebook"; rm -rf $(CACHE); fi
	$(BIN)/jupyter-book build . -W -n --keep-going
	@touch $(CACHE)
	@echo "Open _build/html/index.html in a browser."

## Unit tests, the exercise/solution consistency checks and every notebook of book/, solutions/, exercises/.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax

## Unit tests only (no notebooks), for quick iteration.
test-fast: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) tests

## Regenerate exercises/ from solutions/.
release: $(STAMP)
	$(BIN)/rnncourse release solutions exercises

bench: $(STAMP)
	$(BIN)/python benchmarks/layers.py

clean:
	rm -rf _build .pytest_cache
