"""A pytest hook for `make mutation` (tests/conftest.py imports it; it does nothing outside mutmut's runs).

mutmut's statistics pass (which tests reach which function) marks itself with MUTANT_UNDER_TEST=stats, and every
mutated function then records its callers through mutmut's config, which it reads from the current folder. Jobs
that the tests start as subprocesses (Snakemake dry runs and suites, in temporary folders) inherit the variable
and fail there. Keep the mark inside this process only; while a mutant is tested, the variable stays exported so
that subprocesses run the mutant too.
"""

from __future__ import annotations

import os


def pytest_configure(config) -> None:
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.mutation import trampoline

        trampoline._mutant_under_test = os.environ.pop("MUTANT_UNDER_TEST")  # what the trampolines fall back to
