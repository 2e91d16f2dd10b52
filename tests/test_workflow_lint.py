"""The workflow passes the checks the snakemake-workflows catalogue runs in its CI: `snakemake --lint` (paths,
functions kept in common.smk, a log and a conda environment per rule) and `snakefmt --check` (formatting); the
Python code passes `ruff check` (rules in pyproject.toml [tool.ruff])."""

from __future__ import annotations

import subprocess
import sys

from suite import REPO, snakemake_cli


def test_snakemake_lint_finds_nothing():
    proc = snakemake_cli("--lint", "--configfile", str(REPO / "benchmarks" / "ci.yaml"), workdir=REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Lints for" not in out, out


def test_snakefmt_would_change_no_workflow_file():
    proc = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out + "\n(run `snakefmt Snakefile workflow/` to format)"
    checked = 1 + len(list((REPO / "workflow" / "rules").glob("*.smk")))  # the Snakefile and every rule file
    assert f"All {checked} file(s) would be left unchanged" in out, out


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out + "\n(run `ruff check --fix .` for import order; other findings by hand)"
    assert "All checks passed" in out, out
