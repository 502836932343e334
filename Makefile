# Two entry points that work on a fresh machine with only Python >= 3.10 and pip.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,examples]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/python -m flambeau tour $(if $(LANG_FR),--lang fr,)

test: $(VENV)/.test
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/python -m pytest

bench: $(VENV)/.test
	$(BIN)/python benchmarks/run.py
