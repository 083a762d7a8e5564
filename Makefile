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
## Sphinx re-reads a notebook only when the notebook changed, and the execution cache is keyed on its
## code, so a change to the library or the question bank (which the chapters render) would not show.
## The stamp records the last build; when rnncourse/ is newer, both caches are dropped.
BOOK_STAMP := _build/.rnncourse-built
book: $(STAMP)
	@if [ -f $(BOOK_STAMP) ] && [ -n "$$(find rnncourse -newer $(BOOK_STAMP) -type f ! -name "*.pyc" -print -quit)" ]; then \
		echo "rnncourse/ changed since the last build: re-executing every notebook"; \
		rm -rf _build/.jupyter_cache _build/.doctrees; fi
	$(BIN)/jupyter-book build . -W -n --keep-going
	@touch $(BOOK_STAMP)
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

## Timing tables (never asserted): layers vs torch, autograder overhead and throughput, notebook run times.
bench: $(STAMP)
	$(BIN)/python benchmarks/layers.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/grading.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/notebooks.py
	$(BIN)/python benchmarks/beyond.py

clean:
	rm -rf _build .pytest_cache
