"""Shared fixtures: the `ci` suite run end to end once per test session (it takes minutes), reused by every
end-to-end test; a second run with 1 core for the reproducibility and resume tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mutmut_plugin import pytest_configure  # noqa: F401  (only acts under `make mutation`)
from suite import snakemake


@pytest.fixture(scope="session")
def ci_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished `ci` suite run with 2 cores (results/ci, reports/ci). Tests must leave it as they found it.

    RPD_CI_SUITE_DIR names an existing finished run to reuse instead (for iterating on the tests locally).
    """
    if os.environ.get("RPD_CI_SUITE_DIR"):
        return Path(os.environ["RPD_CI_SUITE_DIR"])
    workdir = tmp_path_factory.mktemp("ci_cores2")
    proc = snakemake(workdir, 2)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return workdir


@pytest.fixture(scope="session")
def two_runs(ci_suite: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Uninterrupted `ci` runs with 2 cores (the session's) and with 1 core (working folders)."""
    workdir = tmp_path_factory.mktemp("ci_cores1")
    proc = snakemake(workdir, 1)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return ci_suite, workdir
