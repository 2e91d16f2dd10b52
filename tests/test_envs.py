"""environment.yml (conda) and requirements.txt (pip) name the same packages at the same versions."""

import re
from pathlib import Path

import yaml

from suite import REPO


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_conda_environment_matches_pip_requirements():
    pip_pins = _pins((REPO / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == pip_pins
    assert "python=3.11" in env["dependencies"]


# Snakemake and its executor plugins drive the workflow (environment.yml); they are not needed inside a job.
DRIVERS = {"snakemake", "snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep",
           "snakemake-executor-plugin-cluster-generic"}
RULES = REPO / "workflow" / "rules"


def _env_pins(path: Path) -> tuple[dict[str, str], list]:
    env = yaml.safe_load(path.read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return _pins(pip_section), env["dependencies"]


def test_rule_environments_match_pip_requirements():
    pip_pins = _pins((REPO / "requirements.txt").read_text().splitlines())
    files = sorted((REPO / "workflow" / "envs").glob("*.yaml"))
    assert files, "no conda environment files in workflow/envs/"
    for path in files:
        pins, dependencies = _env_pins(path)
        assert pins == {k: v for k, v in pip_pins.items() if k not in DRIVERS}, path.name
        assert "python=3.11" in dependencies, path.name


def test_plugins_are_pinned_for_the_cluster_profiles():
    pip_pins = _pins((REPO / "requirements.txt").read_text().splitlines())
    assert DRIVERS <= set(pip_pins)


def test_every_rule_runs_in_an_existing_conda_environment():
    """`--sdm conda` covers every job: each rule with code names an environment file that exists."""
    for smk in sorted(RULES.glob("*.smk")):
        for rule, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", smk.read_text(), re.M):
            if "script:" not in body and "shell:" not in body and "run:" not in body:
                continue
            env = re.search(r"conda:\s*\n\s*\"([^\"]+)\"", body)
            assert env, f"rule {rule} in {smk.name} has no conda: directive"
            assert (RULES / env.group(1)).resolve().is_file(), f"rule {rule}: {env.group(1)} does not exist"
