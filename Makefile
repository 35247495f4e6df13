# decodesim: `make demo` and `make test` set up .venv on a fresh machine and run.
# `make demo` installs the package alone (no PyTorch); `make test` adds the test extra
# (pytest, hypothesis and torch for the measurement harness and trace recording).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-all bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/python -m simulator.dram.warm   # fill the numba cache: the first `decodesim dram` starts warm
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m simulator.dram.warm
	touch $(STAMP) $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/python -m simulator.demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

test-all: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m ''

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/dram_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
