# Two entry points (see README): `make run` sets up and runs the default suite; `make test` sets up and tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUITE ?= quick
CORES ?= all

.PHONY: setup setup-test system-packages run test test-fast perf mutation clean-results

# Debian packages: Fashion-MNIST for the image experiments (offline source), Chromium for the report's
# browser test. Installed with apt where we can (root on Debian/Ubuntu); elsewhere a note says what is missing.
DEBIAN_RUN := dataset-fashion-mnist
DEBIAN_TEST := chromium

setup: $(VENV)/.installed
	@$(MAKE) --no-print-directory system-packages PACKAGES="$(DEBIAN_RUN)"

setup-test: $(VENV)/.installed
	@$(MAKE) --no-print-directory system-packages PACKAGES="$(DEBIAN_RUN) $(DEBIAN_TEST)"

system-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "note: Debian packages not installed: $$missing (apt-get install $$missing as root; see README)"; \
	fi

# pip takes torch 2.14.1 / torchvision 0.29.1 from the local wheel cache where one is configured.
# Byte-compiled by compileall on every core instead of by pip on one (pip then compileall: 105 s + ~35-65 s
# against pip's own 181 s, measured side by side in fresh venvs from the local wheels). Compiled at setup, not
# left to each job's first import: where PYTHONDONTWRITEBYTECODE is set (this machine), Python never writes
# the .pyc files and every job would compile torch's modules again (measured: a job's start-up 5.5 -> 12.5 s).
# compileall's status is not checked: torch ships a test file in Python 3.12 syntax, which pip skips the same way.
$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -r requirements-test.txt
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Scheduling options that spare Snakemake's own process CPU time on a small machine (why: the comment in
# workflow/profiles/local/profile.yaml, which sets the same).
SCHEDULING := --scheduler greedy --max-jobs-per-timespan 1000/10s

run: setup
	PATH="$(abspath $(BIN)):$$PATH" snakemake --cores $(CORES) --configfile benchmarks/$(SUITE).yaml $(SCHEDULING)
	@echo "Report: reports/$(SUITE)/index.html"

test: setup-test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -ra --durations=25

# The tests not marked slow: no end-to-end suite run (README). Lint, config, metrics, report, API, dry runs.
# In parallel (pytest-xdist), TEST_WORKERS processes: 2 halves the wall time on 2 cores; `auto` = one per core.
TEST_WORKERS ?= 2
test-fast: setup-test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -m "not slow" -q -ra -n $(TEST_WORKERS) --durations=10

# Mutation testing (README "Mutation testing"; not part of `make test`): mutmut mutates the modules listed in
# pyproject.toml [tool.mutmut] (equivalent mutants are listed there too) and runs the fast tests against each
# mutant, in mutants/. MUTANTS restricts the run to mutant names, e.g. MUTANTS='rpd.resources*'.
MUTATION_JOBS ?= 2
MUTANTS ?=
mutation: setup-test
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(BIN)/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json

perf: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python benchmarks/perf/run_all.py

clean-results:
	rm -rf results/$(SUITE) reports/$(SUITE)
