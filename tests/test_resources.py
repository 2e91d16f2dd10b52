"""Resource estimates (rpd/resources.py) against measured costs.

The slow test takes every job of a dry run of the `ci` suite with the resources the workflow itself declares
(common.smk job_resources → rpd.resources), and compares them with what the same jobs of a finished `ci` run
cost: wall time (s) and peak resident memory (max_rss, MB) from the rule's benchmark file, or, for the rules
without one (dataset, synthetic_image_folder, collect, report), the wall time Snakemake recorded in its
metadata. Each estimate must be an upper bound with a margin, and within a stated factor of the measurement.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

import pandas as pd
import pytest

from rpd.config import load_config
from rpd.resources import CUDA_CONTEXT_MB, MIN_MINUTES, NETWORK_STAGES, STAGES, cluster_resources, needs, wants_gpu
from rpd.runs import Run, run_config
from suite import REPO, snakemake

# Stated factors. Memory: the estimate is at least MEM_MARGIN × the measured peak RSS and at most MEM_FACTOR ×
# it; the evaluate rule of a diffusion model on 2D points (NumPy only, 0.17 GB) is held to
# EVALUATE_2D_MEM_FACTOR (its estimate counts a few float64 N×N matrices, which ci's N = 256 hardly fills).
MEM_MARGIN, MEM_FACTOR, EVALUATE_2D_MEM_FACTOR = 1.25, 4.0, 15.0
# Time: the estimate is at least RUNTIME_MARGIN × the measured wall time (a node as busy as the machine the ci
# run ran on, times a margin), and at most RUNTIME_FACTOR × it unless it is the floor of every job.
RUNTIME_MARGIN, RUNTIME_FACTOR = 3.0, 20.0
RUNTIME_FLOOR_MINUTES = MIN_MINUTES + 5  # toy work adds at most a few minutes to the floor
# Rules whose estimate is one number for every suite (no run config to scale with): held to the margin, and to
# FIXED_RULE_MAX_MINUTES rather than to a factor of a toy suite's seconds.
FIXED_RULES, FIXED_RULE_MAX_MINUTES = {"dataset", "synthetic_image_folder", "feature_net", "collect", "report"}, 30


def dry_run_jobs(output: str) -> list[dict]:
    """Rule, first output, benchmark file and resources of every job a dry run lists."""
    out = []
    # Jobs of a group job (a profile's `group:` settings; the workflow's own profiles have none) print indented.
    for block in re.split(r"\n(?=[ \t]*(?:local)?rule \w+:\n)", output)[1:]:
        rule = re.match(r"\s*(?:local)?rule (\w+):", block).group(1)
        if rule == "all":
            continue
        field = {k: re.search(rf"^\s+{k}: (.*)$", block, re.M) for k in ("output", "benchmark", "resources")}
        resources = dict(p.split("=", 1) for p in field["resources"].group(1).split(", "))
        out.append({"rule": rule, "output": field["output"].group(1).split(", ")[0],
                    "benchmark": field["benchmark"].group(1) if field["benchmark"] else None,
                    "runtime_min": int(resources["runtime"]), "mem_mb": int(resources["mem_mb"])})
    return out


def metadata_seconds(workdir: Path, output: str) -> float:
    """The wall time of the job that made ``output``, from Snakemake's metadata record (its own path scheme)."""
    key = urlsafe_b64encode(output.encode()).decode()
    parts = [key[i: i + 254] for i in range(0, len(key), 254)]
    record = workdir / ".snakemake" / "metadata" / Path(*(["@" + p for p in parts[:-1]] + [parts[-1]]))
    meta = json.loads(record.read_text())
    return meta["endtime"] - meta["starttime"]


def measured(workdir: Path, job: dict) -> tuple[float, float | None]:
    """(wall seconds, peak RSS MB or None) of a job of the finished run in ``workdir``."""
    if job["benchmark"]:
        row = pd.read_csv(workdir / job["benchmark"], sep="\t").iloc[-1]
        return float(row["s"]), float(row["max_rss"])
    return metadata_seconds(workdir, job["output"]), None


@pytest.mark.slow
def test_ci_estimates_bound_the_measured_costs_within_the_stated_factors(ci_suite, tmp_path):
    proc = snakemake(tmp_path, 2, "-n")  # an empty folder: every job of the suite, with its resources
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = dry_run_jobs(proc.stdout + proc.stderr)
    assert {j["rule"] for j in jobs} >= {"dataset", "feature_net", "train_prior", "train_model", "sample_model",
                                         "evaluate", "elbo", "collect", "report"}
    rows = []
    for job in jobs:
        seconds, rss = measured(ci_suite, job)
        two_d = "dino-grid" in job["output"]
        model_evaluate = job["rule"] == "evaluate" and not re.search(r"/(vqvae|betavae)-", job["output"])
        mem_factor = EVALUATE_2D_MEM_FACTOR if model_evaluate and two_d else MEM_FACTOR
        rows.append({**job, "seconds": seconds, "rss": rss, "mem_factor": mem_factor,
                     "time_ratio": job["runtime_min"] * 60 / seconds,
                     "mem_ratio": None if rss is None else job["mem_mb"] / rss})
    table = pd.DataFrame(rows)
    print(table.groupby("rule")[["runtime_min", "seconds", "time_ratio", "mem_mb", "rss", "mem_ratio"]]
          .agg(["min", "max"]).round(1).to_string())
    problems = []
    for r in rows:
        name = f"{r['rule']} {r['output']}"
        if r["runtime_min"] * 60 < RUNTIME_MARGIN * r["seconds"]:
            problems.append(f"{name}: {r['runtime_min']} min asked, {r['seconds']:.0f} s taken (margin {RUNTIME_MARGIN})")
        cap = FIXED_RULE_MAX_MINUTES if r["rule"] in FIXED_RULES else RUNTIME_FLOOR_MINUTES
        if r["runtime_min"] > max(cap, RUNTIME_FACTOR * r["seconds"] / 60):
            problems.append(f"{name}: {r['runtime_min']} min asked for {r['seconds']:.0f} s (factor {RUNTIME_FACTOR})")
        if r["rss"] is not None and not MEM_MARGIN * r["rss"] <= r["mem_mb"] <= r["mem_factor"] * r["rss"]:
            problems.append(f"{name}: {r['mem_mb']} MB asked, {r['rss']:.0f} MB used "
                            f"(allowed {MEM_MARGIN}× to {r['mem_factor']}×)")
    assert not problems, "\n".join(problems)


_SAMPLE_PEAK_RSS = """
import resource, sys, torch
from rpd.config import load_config
from rpd.runs import Run, run_config
from rpd.data.specs import data_shape, num_classes
from rpd.diffusion import DiffusionSpec, sample
from rpd.stages import build_denoiser
torch.set_num_threads(1)
run = run_config(load_config(sys.argv[1]), Run("model", "fmnist", "ddpm", "std", 0))
batch = int(sys.argv[2])
sample(DiffusionSpec.from_run_config(run), build_denoiser(run), None, batch, data_shape(run["dataset"]), "ddim", 1,
       seed=0, batch_size=batch, num_classes=num_classes(run["dataset"]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


@pytest.mark.slow  # a fresh process sampling with the paper network: ~30 s
def test_image_sampling_memory_bounds_the_paper_network_measured():
    """The sampling estimate for the paper's 28×28 UNet, at a small batch, against the peak RSS of a process
    that builds that network and samples with the job code; the batch term must account for the growth."""
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    # The process measured samples on the CPU: price it as a CPU job (paper says cuda, which adds the CUDA
    # libraries' host memory to the estimate).
    run = {**run_config(cfg, Run("model", "fmnist", "ddpm", "std", 0)), "device": "cpu"}
    peaks = {}
    for batch in (16, 64):
        proc = subprocess.run([sys.executable, "-c", _SAMPLE_PEAK_RSS, str(REPO / "benchmarks" / "paper.yaml"),
                               str(batch)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        peaks[batch] = float(proc.stdout.split()[-1])
        estimate = needs("sample", {**run, "n_eval": batch, "sample_batch_size": batch,
                                    "sampling": [["ddim", 1]]}, images=True).mem_mb
        assert MEM_MARGIN * peaks[batch] <= estimate <= MEM_FACTOR * peaks[batch], (batch, peaks[batch], estimate)
    small = needs("sample", {**run, "n_eval": 16, "sample_batch_size": 16}, images=True).mem_mb
    large = needs("sample", {**run, "n_eval": 64, "sample_batch_size": 64}, images=True).mem_mb
    # The estimate grows with the batch at least as fast as the memory does (at these batch sizes the peak can
    # be set by start-up allocations, identical for both, so the measured growth may be zero).
    assert large > small and large - small >= peaks[64] - peaks[16]


def test_estimates_follow_the_work_and_grow_with_the_attempt():
    cfg = {**load_config(REPO / "benchmarks" / "paper.yaml"), "device": "cpu"}  # CPU sampling scales with threads
    run = run_config(cfg, Run("model", "fmnist", "ddpm", "std", 0))
    base = needs("sample", run, images=True)
    double_n = needs("sample", {**run, "n_eval": 2 * run["n_eval"]}, images=True)
    assert double_n.minutes - MIN_MINUTES == pytest.approx(2 * (base.minutes - MIN_MINUTES))
    more_threads = needs("sample", {**run, "threads": 2 * run["threads"]}, images=True)
    assert more_threads.minutes - MIN_MINUTES == pytest.approx((base.minutes - MIN_MINUTES) / 2)
    on_gpu = needs("train_model", {**run, "device": "cuda"}, images=True)
    on_cpu = needs("train_model", run, images=True)
    assert on_gpu.minutes < on_cpu.minutes  # training on a GPU is priced at the GPU's rate
    for attempt in (1, 2, 3):  # the attempt-th try asks for attempt × the estimate (rounded to whole units)
        res = cluster_resources(base, attempt)
        assert res["runtime"] == pytest.approx(attempt * base.minutes, abs=0.5)
        assert res["mem_mb"] == pytest.approx(attempt * base.mem_mb, abs=0.5)
        resumed = cluster_resources(base, attempt, resumes=True)  # a training retry continues from its checkpoint
        assert resumed == {"runtime": round(base.minutes), "mem_mb": res["mem_mb"]}


def test_gpu_jobs_hold_the_cuda_context_and_the_bound_s_memory_grows_with_n():
    """A job on a GPU also holds the CUDA libraries in host memory; the bound keeps the N points twice."""
    cfg = {**load_config(REPO / "benchmarks" / "paper.yaml"), "device": "cpu"}
    run = run_config(cfg, Run("model", "fmnist", "ddpm", "std", 0))
    for stage in ("sample", "evaluate", "elbo"):
        extra = needs(stage, {**run, "device": "cuda"}, images=True).mem_mb - needs(stage, run, images=True).mem_mb
        assert extra == pytest.approx(CUDA_CONTEXT_MB), stage
    more = needs("elbo", {**run, "n_eval": 4 * run["n_eval"]}, images=True).mem_mb
    assert more > needs("elbo", run, images=True).mem_mb


def test_every_network_job_of_a_cuda_suite_wants_a_gpu():
    for images in (False, True):
        assert all(wants_gpu(stage, "cuda", images) for stage in NETWORK_STAGES)
        assert not any(wants_gpu(stage, device, images) for stage in STAGES for device in ("cpu", "auto"))
        assert not any(wants_gpu(stage, "cuda", images) for stage in ("dataset", "collect", "report"))
    assert wants_gpu("evaluate", "cuda", images=True) and not wants_gpu("evaluate", "cuda", images=False)  # KID


def test_training_estimates_scale_with_the_network_s_width_not_its_name():
    """A size's name says nothing (sizes are free names): the training work is priced by the network's widest layer
    against the paper std network the rates describe, discounted by at most half. paper's estimates are those of
    the rule by name it replaced: std at full work, small (half the width) at half."""
    from rpd.config import is_image_dataset
    from rpd.runs import diffusion_runs, prior_runs

    cfg = {**load_config(REPO / "benchmarks" / "paper.yaml"), "device": "cpu"}
    for r in prior_runs(cfg) + diffusion_runs(cfg):
        if r.seed != cfg["seeds"][0]:
            continue
        run, images = run_config(cfg, r), is_image_dataset(cfg["datasets"][r.dataset])
        stage = "train_prior" if r.kind == "prior" else "train_model"
        wide = {**run, "network": {"channels": [10**4]} if images else {"hidden": 10**4}}  # at full price
        share = (needs(stage, run, images).minutes - MIN_MINUTES) / (needs(stage, wide, images).minutes - MIN_MINUTES)
        assert share == pytest.approx(0.5 if r.size == "small" else 1.0), (r, share)
        assert needs(stage, {**run, "size": "alpha"}, images) == needs(stage, run, images)  # the name is not read
    std = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "std", 0))
    wide_small = {**std, "size": "small"}  # a size named small that is the wide network: no discount
    assert needs("train_model", wide_small, False) == needs("train_model", std, False)
    narrow = {**std, "network": {"hidden": 8, "depth": 4}}  # far narrower: at most half the work
    work = needs("train_model", std, False).minutes - MIN_MINUTES
    assert needs("train_model", narrow, False).minutes - MIN_MINUTES == pytest.approx(work / 2)
