"""Running the workflow from tests (shared by tests/conftest.py and the end-to-end tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def snakemake(workdir: Path, cores: int, *extra: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    """Run the workflow on the `ci` suite in ``workdir`` (extra arguments appended, e.g. ``-n``)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", str(cores), "--configfile", str(REPO / "benchmarks" / "ci.yaml"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
