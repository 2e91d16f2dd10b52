"""Running the workflow from tests: the one place that knows the repository root and how to call Snakemake.

- :func:`snakemake_cli`: ``snakemake`` as a user runs it (a subprocess, this checkout's Snakefile), any suite;
- :func:`dry_run`: an in-process dry run through the Snakemake Python API (~0.5 s instead of ~4 s);
- :func:`snakemake` / :class:`BackgroundRun`: the `ci` suite end to end (tests/conftest.py, the end-to-end tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SNAKEFILE = REPO / "Snakefile"
CI_SUITE = REPO / "benchmarks" / "ci.yaml"

# The sub-DAG of the `ci` suite that the 1-core run and the killed-and-resumed run build, to compare with the
# 2-core run of the whole suite: every rule kind that computes (dataset, synthetic_image_folder, feature_net,
# train_prior, train_model, sample_model, evaluate, elbo) on both 2D priors, both image loaders and RPD, DDPM and
# DiffuseVAE (25 of the suite's 62 jobs). collect and report only read these files.
IDENTITY_TARGETS = (
    # one seed each: an evaluation or bound is one job for every seed of a run (rpd.runsets), and on dino-grid-0.4
    # these runs have seed 0 only (dino-grid-0.1's RPD, DDPM and VQ-VAE have E1's three)
    "results/ci/dino-grid-0.4/rpd-std/metrics.csv",  # + vqvae prior training (and its samples)
    "results/ci/dino-grid-0.4/vqvae-std/metrics.csv",  # a prior's evaluation
    "results/ci/dino-grid-0.4/ddpm-std/metrics.csv",
    "results/ci/dino-grid-0.1/diffusevae2-std/elbo.csv",  # the bound, on the β-VAE prior
    "results/ci/fmnist-8/rpd-std/metrics.csv",  # idx loader, image prior, feature net, KID, CW-1WD
    "results/ci/butterflies-8/ddpm-std/metrics.csv",  # generated image folder, folder loader
)


def write_config(cfg: object, path: Path) -> Path:
    """Write a suite config (a dict) as YAML to ``path``; returns ``path``."""
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def snakemake_argv(*args: str, workdir: Path) -> list[str]:
    """The command line of ``snakemake`` with this checkout's Snakefile, working in ``workdir``."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir), *args]


def snakemake_env() -> dict[str, str]:
    """The environment jobs need: this venv's executables first and this checkout's package importable."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def snakemake_cli(*args: str, workdir: Path, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """``snakemake`` as a user runs it, in ``workdir``, with this checkout's Snakefile."""
    return subprocess.run(snakemake_argv(*args, workdir=workdir), env=snakemake_env(), capture_output=True,
                          text=True, timeout=timeout, **popen)


@dataclass(frozen=True)
class DagJob:
    """A job of a workflow's DAG as a dry run builds it: its rule, wildcards, params, and the runtime and mem_mb
    it asks for at each try (attempt 1, 2, 3: the profiles' ``retries: 2``) when the dry run was asked for them."""

    rule: str
    wildcards: dict[str, str]
    params: dict[str, object]
    attempts: tuple[dict[str, int], ...] = ()


def dry_run(configfile: Path | None, workdir: Path, config: dict | None = None,
            attempts: bool = False) -> list[DagJob]:
    """Parse the workflow with ``configfile`` (None: the default suite) and ``config`` overrides and build its
    DAG without running a job; raises on any error. Returns the DAG's jobs (with ``attempts``, also each job's
    resources at attempts 1–3: ~10% more time)."""
    from snakemake.api import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
        SnakemakeApi,
        StorageSettings,
    )
    from snakemake.settings.types import Quietness

    cwd = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL}, verbose=False)) as api:
            workflow = api.workflow(
                snakefile=SNAKEFILE,
                workdir=workdir,
                config_settings=ConfigSettings(configfiles=[configfile] if configfile else [], config=config or {}),
                resource_settings=ResourceSettings(cores=1),
                storage_settings=StorageSettings(),
            )
            workflow.dag(DAGSettings()).execute_workflow(executor="dryrun")
            # Snakemake's API has no public accessor for the jobs
            return [DagJob(j.rule.name, dict(j.wildcards.items()), dict(j.params.items()),
                           _attempts(j) if attempts else ()) for j in workflow._workflow.dag.jobs]
    finally:
        os.chdir(cwd)  # Snakemake changes into the workdir


def _attempts(job) -> tuple[dict[str, int], ...]:
    """runtime and mem_mb of a Snakemake job at attempts 1–3 (setting ``attempt`` makes it evaluate its resources
    again, as Snakemake does for a retry)."""
    tries = []
    for attempt in (1, 2, 3):
        job.attempt = attempt
        tries.append({k: v for k, v in job.resources.items() if k in ("runtime", "mem_mb")})
    job.attempt = 1
    return tuple(tries)


def snakemake_cmd(workdir: Path, cores: int, *extra: str, targets: Sequence[str] = ()) -> list[str]:
    """The command that runs the workflow on the `ci` suite in ``workdir`` (extra arguments appended).

    ``targets`` (files to build instead of the whole DAG) go before ``--configfile``, which takes every
    following word as a config file.
    """
    return snakemake_argv(*targets, "--cores", str(cores), "--configfile", str(CI_SUITE), *extra, workdir=workdir)


def snakemake(workdir: Path, cores: int, *extra: str, timeout: int = 1500,
              targets: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run the workflow on the `ci` suite in ``workdir`` (extra arguments appended, e.g. ``-n``)."""
    return subprocess.run(snakemake_cmd(workdir, cores, *extra, targets=targets), capture_output=True, text=True,
                          timeout=timeout)


class BackgroundRun:
    """A `ci` run in ``workdir`` started now and left running (output in ``<workdir>.log``); :meth:`wait` joins."""

    def __init__(self, workdir: Path, cores: int, targets: Sequence[str] = ()) -> None:
        self.workdir, self.log = workdir, workdir.with_name(workdir.name + ".log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(snakemake_cmd(workdir, cores, targets=targets), stdout=log,
                                         stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 2400) -> Path:
        """The finished run's folder; fails with the end of Snakemake's output if the run failed."""
        returncode = self.proc.wait(timeout=timeout)
        assert returncode == 0, self.log.read_text()[-4000:]
        return self.workdir

    def stop(self) -> None:
        """Stop a run nobody waited for (Snakemake stops its running jobs on SIGTERM)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=120)
