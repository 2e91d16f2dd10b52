"""Shared fixtures: the `ci` suite run end to end once per test session (it takes minutes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def snakemake_cmd(workdir: Path, cores: int, *extra: str) -> list[str]:
    """The command that runs the `ci` suite in ``workdir``."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--cores", str(cores), "--configfile", str(REPO / "benchmarks" / "ci.yaml"), *extra]


def run_suite(workdir: Path, cores: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(workdir, cores, *extra), capture_output=True, text=True, timeout=1500)


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Uninterrupted `ci` runs with 2 and with 1 cores (working folders)."""
    dirs = []
    for cores in (2, 1):
        workdir = tmp_path_factory.mktemp(f"ci_cores{cores}")
        proc = run_suite(workdir, cores)
        assert proc.returncode == 0, proc.stderr[-4000:]
        dirs.append(workdir)
    return dirs[0], dirs[1]
