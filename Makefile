# Two entry points (see README): `make run` sets up and runs the default suite; `make test` sets up and tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUITE ?= quick
CORES ?= all

.PHONY: setup run test perf clean-results

setup: $(VENV)/.installed

# pip takes torch 2.14.1 / torchvision 0.29.1 from the local wheel cache where one is configured.
$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: setup
	PATH="$(abspath $(BIN)):$$PATH" snakemake --cores $(CORES) --configfile benchmarks/$(SUITE).yaml
	@echo "Report: reports/$(SUITE)/index.html"

test: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -ra

perf: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python benchmarks/perf/run_all.py

clean-results:
	rm -rf results/$(SUITE) reports/$(SUITE)
