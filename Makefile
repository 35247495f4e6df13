# decodesim: `make demo` and `make test` set up .venv on a fresh machine and run.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m simulator.dram.warm   # fill the numba cache: the first `decodesim dram` starts warm
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m simulator.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

bench: $(STAMP)
	$(BIN)/python benchmarks/dram_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
