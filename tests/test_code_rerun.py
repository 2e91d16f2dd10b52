"""Editing the rpd package reruns the jobs whose code changed, and only those (rpd/codehash.py, the `code`
param of every rule); `--rerun-triggers mtime` keeps old results instead."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rpd.codehash import code_hash, reachable_modules
from suite import REPO

SCRIPTS = REPO / "workflow" / "scripts"


def test_evaluation_code_excludes_training_and_includes_lazy_imports():
    modules = reachable_modules(SCRIPTS / "evaluate.py")
    assert "rpd.metrics.wasserstein" in modules  # imported inside rpd.evaluate.grid_metrics
    assert "rpd.evaluate" in modules and "rpd" in modules
    assert not {"rpd.diffusion", "rpd.training", "rpd.stages"} & set(modules), modules
    assert not [m for m in modules if m.startswith("rpd.report")], modules


def test_hash_follows_the_code_a_script_reaches(tmp_path):
    package = tmp_path / "rpd"
    shutil.copytree(REPO / "rpd", package, ignore=shutil.ignore_patterns("__pycache__"))
    script = SCRIPTS / "evaluate.py"
    before = code_hash(script, package)
    assert before == code_hash(script, REPO / "rpd")  # the path of the checkout does not matter
    with open(package / "training.py", "a") as f:  # not reached by evaluation
        f.write("\n# edited\n")
    assert code_hash(script, package) == before
    with open(package / "metrics" / "wasserstein.py", "a") as f:
        f.write("\n# edited\n")
    after = code_hash(script, package)
    assert after != before
    (package / "data" / "datasaurus.csv").write_text((package / "data" / "datasaurus.csv").read_text() + "\n")
    assert code_hash(script, package) != after  # package data a reached module reads


def _edit_function(path: Path, name: str) -> None:
    """Add a statement at the start of the top-level function ``name`` (behaviour unchanged, code changed)."""
    lines = path.read_text().splitlines(keepends=True)
    fn = next(n for n in ast.parse("".join(lines)).body if isinstance(n, ast.FunctionDef) and n.name == name)
    first = fn.body[0]
    lines.insert(first.lineno - 1, " " * first.col_offset + "_edited = None\n")
    path.write_text("".join(lines))


def test_an_evaluation_function_edit_reruns_evaluation_not_training(tmp_path):
    """Training and sampling import rpd.evaluate for its constants and out_of_range_share: an edit inside
    grid_metrics changes the hash of the jobs that call it, not theirs; an edit inside rpd.training.fit does."""
    package = tmp_path / "rpd"
    shutil.copytree(REPO / "rpd", package, ignore=shutil.ignore_patterns("__pycache__"))
    scripts = [p.name for p in sorted(SCRIPTS.glob("*.py"))]
    before = {s: code_hash(SCRIPTS / s, package) for s in scripts}

    def changed() -> set[str]:
        return {s for s in scripts if code_hash(SCRIPTS / s, package) != before[s]}

    _edit_function(package / "evaluate.py", "grid_metrics")
    assert changed() == {"evaluate.py", "progress.py", "report.py"}  # the report draws the data floor with it
    _edit_function(package / "evaluate.py", "out_of_range_share")  # the sampling jobs call this one
    assert {"sample_model.py", "train_prior.py"} <= changed() and "train_model.py" not in changed()
    _edit_function(package / "training.py", "fit")
    assert {"train_model.py", "train_prior.py"} <= changed()
    assert not {"make_dataset.py", "train_feature_net.py", "collect.py"} & changed()  # KID's net has its own loop


def test_every_rule_with_a_script_passes_its_code_hash():
    missing = []
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for rule_text in re.split(r"\n(?=rule )", text):
            script = re.search(r'script:\n\s+"\.\./scripts/([\w.]+)"', rule_text)
            if script and f'code=script_code("{script[1]}")' not in rule_text:
                missing.append(f"{smk.name}: {rule_text.split(':', 1)[0]}")
    assert not missing, f"rules without `code=script_code(...)` in params: {missing}"


# ----------------------------------------------------------------------------------------------------------
# Slow: a toy 2D suite run for real in a copy of the workflow, then dry runs after editing the copy's package


def _tiny_suite() -> dict:
    raw = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())
    training = {"steps": 5, "batch_size": 16, "lr": 1e-3, "log_every": 5, "checkpoint_every": 0}
    return {
        "suite": "coderun", "T": 100, "seeds": [0], "n_eval": 32, "threads": 1, "sample_batch_size": 32,
        "datasets": {"d": {**raw["datasets"]["dino-grid-0.1"], "n_train": 200}},
        "priors": {"vqvae": raw["priors"]["vqvae"]},
        "prior_sizes": {"std": {"hidden": 8, "depth": 1}}, "prior_training": training,
        "networks": {"std": {"hidden": 8, "depth": 1}}, "training": training,
        "models": {"rpd": {"family": "rpd", "prior": "vqvae"}, "ddpm": {"family": "ddpm"}},
        "sampling": [{"samplers": ["ddim"], "steps": [2]}],
        "experiments": {"e1": {"datasets": ["d"], "models": ["rpd", "ddpm"], "sizes": ["std"]}},
    }


def _snakemake(tree: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(tree / "Snakefile"), "--directory",
                           str(tree), "--configfile", str(tree / "suite.yaml"), "--cores", "2", *args], env=env,
                          capture_output=True, text=True, timeout=900, cwd=tree)  # `python -m` imports from cwd
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _planned(tree: Path, *args: str) -> dict[str, int]:
    """Jobs per rule that a dry run would run (empty: nothing to do)."""
    out = _snakemake(tree, "-n", "--quiet", "rules", *args)
    if "Nothing to be done" in out or "Job stats" not in out:
        return {}
    stats = out.split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, flags=re.M) if m[1] != "total"}


def _touch_code(path: Path) -> None:
    with open(path, "a") as f:
        f.write("\n# an edit that changes no behaviour, only the code's hash\n")


@pytest.mark.slow
def test_editing_a_module_reruns_the_jobs_that_run_it(tmp_path):
    tree = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("rpd", "workflow"):
        shutil.copytree(REPO / name, tree / name, ignore=ignore)
    for name in ("Snakefile",):
        shutil.copy(REPO / name, tree / name)
    shutil.copytree(REPO / "benchmarks", tree / "benchmarks", ignore=shutil.ignore_patterns("perf", "diagnostics"))
    (tree / "suite.yaml").write_text(yaml.safe_dump(_tiny_suite()))
    _snakemake(tree)
    assert _planned(tree) == {}, _snakemake(tree, "-n")[-3000:]  # the dry run's reasons

    _touch_code(tree / "rpd" / "cli.py")  # a module no job imports
    assert _planned(tree) == {}
    _touch_code(tree / "rpd" / "report" / "tables.py")  # report code only
    assert _planned(tree) == {"report": 1, "all": 1}
    _edit_function(tree / "rpd" / "evaluate.py", "grid_metrics")  # evaluation code: training and sampling kept
    planned = _planned(tree)
    assert planned.get("evaluate") == 3 and not {"train_model", "train_prior", "sample_model"} & set(planned), planned
    _touch_code(tree / "rpd" / "diffusion.py")  # training and sampling code: those jobs and what follows them
    planned = _planned(tree)
    assert planned.get("train_model") == 2 and planned.get("sample_model") == 2, planned
    assert "dataset" not in planned, planned  # making the data runs no diffusion code
    assert _planned(tree, "--rerun-triggers", "mtime", "input", "software-env", "code") == {}  # keep old results
