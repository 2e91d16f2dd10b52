"""End to end: the `ci` suite through Snakemake, twice, with 2 and 1 cores: identical metrics, a report, logs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from suite import snakemake, snakemake_cmd

REPO = Path(__file__).resolve().parent.parent
KEYS = ["dataset", "model", "size", "seed", "sampler", "steps", "metric"]


@pytest.mark.slow
def test_ci_suite_is_reproducible_across_runs_and_core_counts(two_runs):
    a, b = (pd.read_csv(d / "results" / "ci" / "metrics.csv").sort_values(KEYS).reset_index(drop=True) for d in two_runs)
    assert len(a) > 0 and a[KEYS].equals(b[KEYS])
    assert (a["value"].to_numpy() == b["value"].to_numpy()).all(), "metric values differ between identical runs"
    assert a["config_hash"].equals(b["config_hash"])


@pytest.mark.slow
def test_ci_suite_outputs_follow_the_contract(two_runs):
    root = two_runs[0]
    metrics = pd.read_csv(root / "results" / "ci" / "metrics.csv")
    assert {"commit", "config_hash", "versions", "device", "train_seconds"} <= set(metrics.columns)
    assert set(metrics["family"]) >= {"rpd", "ddpm", "diffusevae1", "diffusevae2", "vqvae", "betavae"}
    bound = {"elbo", "elbo_latent", "elbo_diffusion", "elbo_terminal", "elbo_decoder", "j2"}  # E8 rows
    samples = {"1wd", "rw1wd", "mass_error", "cw1wd", "kid"}  # 2D: 1wd, rw1wd, mass_error; images: 1wd, cw1wd, kid
    assert bound <= set(metrics["metric"]) and set(metrics["metric"]) - bound == samples
    images = metrics[metrics["dataset"].isin(["fmnist-8", "butterflies-8"])]
    assert set(images["metric"]) - bound == {"1wd", "cw1wd", "kid"}
    assert set(images.loc[images["dataset"] == "butterflies-8", "metric"]) == {"1wd", "kid"}  # unconditional
    kid = images[images["metric"] == "kid"]
    assert kid["extractor"].str.startswith("rpd-feature-net (").all()  # every KID row names its extractor
    assert (metrics.loc[metrics["metric"].isin(bound), "sampler"] == "bound").all()
    assert metrics["value"].notna().all()
    summary = pd.read_csv(root / "results" / "ci" / "summary.csv")
    assert {"mean", "sd", "seeds"} <= set(summary.columns)
    run = root / "results" / "ci" / "dino-grid-0.1" / "rpd-std" / "seed0"
    for name in ("config.json", "model.pt", "losses.npz", "train.log", "metrics.csv", "samples/ddpm-K3.npz"):
        assert (run / name).exists(), name
    assert "step 200/200" in (run / "train.log").read_text()  # progress a user can follow
    assert (root / "results" / "ci" / "dino-grid-0.1" / "reference.npz").exists()
    html = (root / "reports" / "ci" / "index.html").read_text()
    assert "E1" in html and "E7" in html


@pytest.mark.slow
def test_rerun_with_nothing_changed_runs_no_job(two_runs):
    proc = snakemake(two_runs[0], 1, "-n", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_new_sampler_or_kid_option_reruns_sampling_but_no_training(two_runs, tmp_path):
    """Sampling keys are not training params: a new K, sampler or KID option must not retrain any model.

    The changed config is written with sorted keys, so this also checks that the order of keys in a suite's YAML
    does not matter (Snakemake compares params by their text).
    """
    cfg = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())
    cfg["sampling"] = [{"samplers": ["ddpm", "ddim", "dpmpp"], "steps": [1, 3, 10, 30]}]
    cfg["kid"]["subsets"] = 7
    changed = tmp_path / "ci-changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    cmd = [str(changed) if a.endswith("ci.yaml") else a for a in snakemake_cmd(two_runs[0], 1, "-n")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rules = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M))
    assert {"sample_model", "evaluate", "collect", "report"} <= rules
    assert not rules & {"train_model", "train_prior", "feature_net", "dataset"}
