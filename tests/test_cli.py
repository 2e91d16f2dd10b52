"""rpd-bench (rpd/cli.py): run, list, report and validate, each on real suites and the failures a user meets."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import time
import tomllib

import pytest
import yaml

from rpd.cli import main
from rpd.config import load_config
from rpd.runs import diffusion_runs
from rpd.runsets import rule_run_sets
from suite import REPO


def test_console_script_is_declared_and_resolves():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["rpd-bench"].split(":")
    assert getattr(importlib.import_module(module), func) is main


def test_validate_a_good_suite_says_what_it_trains(capsys):
    assert main(["validate", str(REPO / "benchmarks" / "ci.yaml")]) == 0
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    out = capsys.readouterr().out
    assert out.startswith("ok: suite ci") and f"{len(diffusion_runs(cfg))} diffusion runs" in out, out


def test_validate_a_bad_suite_names_the_key(tmp_path, capsys):
    raw = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())
    raw["training"]["lr"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rpd-bench validate:" in err and "training.lr" in err and "> 0" in err, err


def test_report_prints_the_latest_or_the_named_suites_page(tmp_path, capsys):
    pages = {}
    for suite in ("quick", "ci"):  # ci written last
        pages[suite] = tmp_path / "reports" / suite / "index.html"
        pages[suite].parent.mkdir(parents=True)
        pages[suite].write_text("<html></html>")
        time.sleep(0.05)
    os.utime(pages["quick"], (time.time() - 60, time.time() - 60))
    assert main(["report", "--directory", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(pages["ci"])
    assert main(["report", "quick", "--directory", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(pages["quick"])
    assert main(["report", "paper", "--directory", str(tmp_path)]) == 2
    assert "no report of suite 'paper'" in capsys.readouterr().err


@pytest.fixture
def one_suite_checkout(tmp_path):
    """A checkout whose benchmarks/ holds only ci.yaml (the workflow linked from this one)."""
    root = tmp_path / "checkout"
    (root / "benchmarks").mkdir(parents=True)
    for name in ("Snakefile", "workflow", "rpd"):
        os.symlink(REPO / name, root / name)
    shutil.copy(REPO / "benchmarks" / "ci.yaml", root / "benchmarks" / "ci.yaml")
    return root


def test_list_counts_the_jobs_of_each_suite_from_its_dag(one_suite_checkout, capsys):
    assert main(["--root", str(one_suite_checkout), "list"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    assert len(out) == 1 and out[0].startswith("ci: "), out
    sets = rule_run_sets(cfg)  # one training job per run set (every seed of one dataset, model and size)
    assert f"train_model {len(sets['train_model'])}," in out[0] and f"train_prior {len(sets['train_prior'])}," in out[0]


@pytest.mark.slow  # rpd.cost measures this machine's throughput per network (~50 s for ci under load)
def test_list_cost_prints_the_estimate(one_suite_checkout, capsys):
    from rpd.cost import estimate_cost

    assert main(["--root", str(one_suite_checkout), "list", "--cost"]) == 0
    out = capsys.readouterr().out.strip()
    jobs = estimate_cost(REPO / "benchmarks" / "ci.yaml", None).jobs  # the hours are measured: they vary a little
    assert re.fullmatch(rf"ci: {jobs} jobs, [\d.,]+ CPU-hours; run locally \(.*\)", out), out


def test_run_wraps_snakemake_and_passes_arguments_through(tmp_path, capfd):
    work = tmp_path / "work"
    work.mkdir()
    assert main(["run", "ci", "--cores", "1", "--directory", str(work), "-n", "--quiet", "rules"]) == 0
    captured = capfd.readouterr()
    assert "--configfile" in captured.err and str(REPO / "benchmarks" / "ci.yaml") in captured.err
    assert "train_model" in captured.out + captured.err
    assert not (work / "results").exists()  # a dry run: nothing written


def test_run_an_unknown_suite_lists_the_known_ones(capsys):
    assert main(["run", "nosuch", "-n"]) == 2
    err = capsys.readouterr().err
    assert "suite 'nosuch'" in err and "'ci'" in err and "'quick'" in err, err
