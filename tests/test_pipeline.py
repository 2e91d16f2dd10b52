"""End to end: the `ci` suite through Snakemake with 2 cores, and its IDENTITY_TARGETS sub-DAG with 1 core:
identical metrics and samples, a report with a decided verdict, logs."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from rpd.evaluate import SANITY_METRICS
from rpd.io import load_npz
from rpd.layout import sample_file
from suite import IDENTITY_TARGETS, REPO, snakemake, snakemake_cmd

KEYS = ["dataset", "model", "size", "seed", "sampler", "steps", "metric"]


@pytest.mark.slow
def test_ci_suite_is_reproducible_across_runs_and_core_counts(two_runs):
    """Every metric and bound row, and every sample file, of the sub-DAG run with 1 core equals the 2-core run's."""
    cores2, cores1 = two_runs
    for target in IDENTITY_TARGETS:
        a, b = (pd.read_csv(d / target).sort_values(KEYS).reset_index(drop=True) for d in two_runs)
        assert len(a) > 0 and a[KEYS].equals(b[KEYS]), target
        assert (a["value"].to_numpy() == b["value"].to_numpy()).all(), f"{target}: values differ between runs"
        assert a["config_hash"].equals(b["config_hash"]), target
    samples = sorted(p.relative_to(cores1) for p in cores1.glob("results/ci/*/*/samples/seed*/*.npz"))
    assert len(samples) >= 5 * 2, samples  # four models' and a prior's (sampler, K) files
    for path in samples:
        a, b = load_npz(cores2 / path), load_npz(cores1 / path)
        assert np.array_equal(a["x"], b["x"]), f"{path} differs between the 2-core and the 1-core run"
    rules = set(re.findall(r"^(?:local)?rule (\w+):", (cores1.with_name(cores1.name + ".log")).read_text(), re.M))
    assert rules == {"dataset", "synthetic_image_folder", "feature_net", "train_prior", "train_model",
                     "sample_model", "evaluate", "elbo"}, rules


@pytest.mark.slow
def test_ci_report_decides_a_claim_from_three_seeds(ci_suite):
    """The ci suite decides a claim end to end: C1 (E1: RPD against DDPM on dino-grid-0.1, three seeds, ancestral K = 10) gets a decided
    verdict, read from the report page, and its direction agrees with the seeds' values in metrics.csv."""
    html = (ci_suite / "reports" / "ci" / "index.html").read_text(encoding="utf-8")
    claims = html.split("Claims at a glance")[1].split("<h2")[0]
    c1 = next(row for row in claims.split("<tr")[1:] if ">C1<" in row)
    status = re.sub(r"<[^>]+>", " ", c1)
    verdict = re.search(r"\b(not supported|supported|inconclusive|not fit to judge|not run)\b", status)
    assert verdict and verdict[1] in ("supported", "not supported"), status  # the first such words: the status
    assert "(3 seeds;" in status, status
    metrics = pd.read_csv(ci_suite / "results" / "ci" / "metrics.csv")
    e1 = metrics[(metrics["dataset"] == "dino-grid-0.1") & (metrics["size"] == "std") & (metrics["metric"] == "rw1wd")
                 & (metrics["sampler"] == "ddpm") & (metrics["steps"] == 10)]
    pairs = e1.pivot_table(index="seed", columns="model", values="value")[["rpd", "ddpm"]]
    assert list(pairs.index) == [0, 1, 2] and np.isfinite(pairs.to_numpy()).all()
    log_ratio = float(np.log(pairs["rpd"] / pairs["ddpm"]).mean())  # the verdict's effect (SPEC §7)
    if verdict[1] == "not supported":
        assert log_ratio > 0 or "guard" in status, (status, pairs)  # RPD worse, or clearly worse on 1WD
    else:
        assert log_ratio < 0, (status, pairs)


@pytest.mark.slow
def test_ci_suite_outputs_follow_the_contract(ci_suite):
    root = ci_suite
    metrics = pd.read_csv(root / "results" / "ci" / "metrics.csv")
    assert {"commit", "config_hash", "versions", "device", "train_seconds"} <= set(metrics.columns)
    assert set(metrics["family"]) >= {"rpd", "ddpm", "diffusevae1", "diffusevae2", "vqvae", "betavae"}
    bound = {"elbo", "elbo_latent", "elbo_diffusion", "elbo_terminal", "elbo_decoder", "j2"}  # E8 rows
    samples = {"1wd", "rw1wd", "mass_error", "cw1wd", "kid"}  # 2D: 1wd, rw1wd, mass_error; images: 1wd, cw1wd, kid
    sanity = set(SANITY_METRICS)  # whether samples are fit to judge: range on every dataset, class accuracy on fmnist
    assert bound <= set(metrics["metric"]) and set(metrics["metric"]) - bound - sanity == samples
    assert all("out_of_range" in set(rows["metric"]) for _, rows in metrics.groupby("dataset"))
    images = metrics[metrics["dataset"].isin(["fmnist-8", "butterflies-8"])]
    assert set(images["metric"]) - bound - sanity == {"1wd", "cw1wd", "kid"}
    butterflies = set(images.loc[images["dataset"] == "butterflies-8", "metric"])
    assert butterflies == {"1wd", "kid", "out_of_range"}  # unconditional: no CW-1WD, no class accuracy
    assert {"class_accuracy", "class_accuracy_ratio"} <= set(images.loc[images["dataset"] == "fmnist-8", "metric"])
    kid = images[images["metric"] == "kid"]
    assert kid["extractor"].str.startswith("rpd-feature-net (").all()  # every KID row names its extractor
    assert (metrics.loc[metrics["metric"].isin(bound), "sampler"] == "bound").all()
    assert metrics["value"].notna().all()
    summary = pd.read_csv(root / "results" / "ci" / "summary.csv")
    assert {"mean", "sd", "seeds"} <= set(summary.columns)
    run_set = root / "results" / "ci" / "dino-grid-0.1" / "rpd-std"  # every job works on all its seeds
    for seed in (0, 1, 2):
        run = run_set / "train" / f"seed{seed}"
        for name in ("config.json", "model.pt", "losses.npz", "train_summary.json", "snapshots.pt"):
            assert (run / name).exists(), (seed, name)
        assert sample_file(run, "ddpm", 3).exists()
    assert not (run_set / "checkpoints").exists()  # finished trainings leave no checkpoint
    for job in ("train", "sample", "evaluate"):
        assert (run_set / f"{job}.log").exists() and (run_set / f"{job}.benchmark.tsv").exists(), job
    seeds = pd.read_csv(run_set / "metrics.csv")["seed"]  # the evaluation of every seed of the run, one job
    assert sorted(set(seeds)) == [0, 1, 2]
    steps = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())["training"]["steps"]
    log = (run_set / "train.log").read_text()  # progress a user can follow, seed by seed
    assert all(f"rpd-std/seed{seed}] step {steps}/{steps}" in log for seed in (0, 1, 2)), log[-2000:]
    assert (root / "results" / "ci" / "dino-grid-0.1" / "reference.npz").exists()
    html = (root / "reports" / "ci" / "index.html").read_text()
    assert "E1" in html and "E7" in html


@pytest.mark.slow
def test_rerun_with_nothing_changed_runs_no_job(ci_suite):
    proc = snakemake(ci_suite, 1, "-n", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_new_sampler_or_kid_option_reruns_sampling_but_no_training(ci_suite, tmp_path):
    """Sampling keys are not training params: a new K, sampler or KID option must not retrain any model.

    The changed config is written with sorted keys, so this also checks that the order of keys in a suite's YAML
    does not matter (Snakemake compares params by their text).
    """
    cfg = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())
    cfg["sampling"] = [{"samplers": ["ddpm", "ddim", "dpmpp"], "steps": [1, 3, 10, 30]}]
    cfg["kid"]["subsets"] = 7
    changed = tmp_path / "ci-changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    cmd = [str(changed) if a.endswith("ci.yaml") else a for a in snakemake_cmd(ci_suite, 1, "-n")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rules = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M))
    assert {"sample_model", "evaluate", "collect", "report"} <= rules
    assert not rules & {"train_model", "train_prior", "feature_net", "dataset"}
