"""rpd.cost: a suite's jobs as Snakemake builds them, priced per rule, and its cluster submissions."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from rpd.config import load_config
from rpd.cost import STARTUP_SECONDS, estimate_cost, main
from rpd.flops import GPU
from suite import REPO
from test_profiles import LOCAL_RULES, dry_run, job_total, jobs, site_ready_slurm_profile


@pytest.fixture(scope="module")
def ci() -> dict:
    return load_config(REPO / "benchmarks" / "ci.yaml")


@pytest.fixture(scope="module")
def ci_cuda_slurm(tmp_path_factory, ci) -> tuple[dict, str, Path]:
    """The ci suite with `device: cuda`, dry-run under the (site-ready) Slurm profile."""
    import yaml

    site = tmp_path_factory.mktemp("site")
    profile = site_ready_slurm_profile(site)
    suite = site / "ci-cuda.yaml"
    raw = yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())
    suite.write_text(yaml.safe_dump({**raw, "device": "cuda"}))
    return {**ci, "device": "cuda"}, dry_run(site, profile, suite), profile


def test_job_counts_per_rule_are_the_dry_runs(ci_cuda_slurm):
    cfg, output, profile = ci_cuda_slurm
    estimate = estimate_cost(cfg, profile)
    found = [j for j in jobs(output) if j["rule"] != "all"]
    counts = {}
    for job in found:
        counts[job["rule"]] = counts.get(job["rule"], 0) + 1
    assert {r.rule: r.jobs for r in estimate.rules} == counts
    assert estimate.jobs == job_total(output) - 1  # all the DAG's jobs but the target rule
    # submissions: every job not run locally once (no job is grouped: each works on a run set)
    assert not any(j["group"] is not None for j in found)
    assert estimate.submissions == sum(j["rule"] not in LOCAL_RULES for j in found) > 0


def test_gpu_hours_follow_the_work_and_the_device(ci, ci_cuda_slurm):
    cuda = ci_cuda_slurm[0]
    base = {r.rule: r for r in estimate_cost(cuda, "slurm").rules}
    longer = copy.deepcopy(cuda)
    for block in ("training", "image_training"):
        longer[block]["steps"] *= 10
    more = {r.rule: r for r in estimate_cost(longer, "slurm").rules}
    startup = base["train_model"].jobs * STARTUP_SECONDS / 3600  # the rest is the training work
    assert more["train_model"].gpu_hours - startup == pytest.approx(10 * (base["train_model"].gpu_hours - startup))
    assert more["sample_model"].gpu_hours == pytest.approx(base["sample_model"].gpu_hours)
    on_cpu = estimate_cost({**ci, "device": "cpu"}, "local")
    assert on_cpu.gpu_hours == 0 and on_cpu.submissions is None and on_cpu.cpu_hours > 0
    assert all(base[r].gpu_hours > 0 for r in ("train_prior", "train_model", "sample_model", "elbo"))
    assert base["collect"].gpu_hours == base["dataset"].gpu_hours == 0


def test_gpu_time_is_flops_at_the_stated_rate_or_the_launch_floor():
    gpu = GPU["fp32"]
    rate = gpu.peak_tflops * 1e12 * gpu.utilisation
    assert gpu.seconds(rate * 100, layers=10, passes=1) == pytest.approx(100)  # FLOP-bound
    assert gpu.seconds(1.0, layers=10, passes=1000) == pytest.approx(1000 * 10 * gpu.launch_seconds)  # launches
    assert math.isclose(GPU["bf16"].peak_tflops, 2 * gpu.peak_tflops)


def test_command_prints_the_table(capsys):
    assert main(["--configfile", str(REPO / "benchmarks" / "ci.yaml"), "--profile", "local", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].split() == ["rule", "jobs", "GPU-hours", "CPU-hours"] and "run locally (local)" in out
    assert main(["--configfile", str(REPO / "benchmarks" / "ci.yaml"), "--profile", "nowhere"]) == 2
