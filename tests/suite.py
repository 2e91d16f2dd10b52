"""Running the workflow from tests (shared by tests/conftest.py and the end-to-end tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def snakemake_cmd(workdir: Path, cores: int, *extra: str) -> list[str]:
    """The command that runs the workflow on the `ci` suite in ``workdir`` (extra arguments appended)."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--cores", str(cores), "--configfile", str(REPO / "benchmarks" / "ci.yaml"), *extra]


def snakemake(workdir: Path, cores: int, *extra: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    """Run the workflow on the `ci` suite in ``workdir`` (extra arguments appended, e.g. ``-n``)."""
    return subprocess.run(snakemake_cmd(workdir, cores, *extra), capture_output=True, text=True, timeout=timeout)
