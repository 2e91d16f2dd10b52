"""Run the workflow in-process through the Snakemake Python API (a dry run costs ~0.5 s, a subprocess ~4 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from snakemake.api import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings, SnakemakeApi, StorageSettings
from snakemake.settings.types import Quietness

ROOT = Path(__file__).resolve().parent.parent
SNAKEFILE = ROOT / "Snakefile"


def write_config(cfg: object, path: Path) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def dry_run(configfile: Path, workdir: Path) -> None:
    """Parse the workflow with ``configfile`` and build its DAG without running a job; raises on any error."""
    cwd = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL}, verbose=False)) as api:
            workflow = api.workflow(
                snakefile=SNAKEFILE,
                workdir=workdir,
                config_settings=ConfigSettings(configfiles=[configfile]),
                resource_settings=ResourceSettings(cores=1),
                storage_settings=StorageSettings(),
            )
            workflow.dag(DAGSettings()).execute_workflow(executor="dryrun")
    finally:
        os.chdir(cwd)  # Snakemake changes into the workdir


def snakemake_cli(*args: str, workdir: Path, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    """``snakemake`` as a user runs it, in ``workdir``, with this checkout's Snakefile."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **popen)
