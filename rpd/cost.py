"""What a suite costs before it is submitted: jobs, GPU-hours and CPU-hours per rule, and cluster submissions.

    python -m rpd.cost --configfile benchmarks/paper.yaml --profile workflow/profiles/slurm

How (README, "Running on a cluster"): every job's network work is counted in data points through its network
(training: steps × batch; sampling: N × ΣK; the bound: N × drawn t; KID: 2N InceptionV3 images per (sampler, K)),
priced with the FLOPs of the run's own network and either this machine's measured FLOP/s per CPU thread
(``device`` cpu/auto) or the reference GPU's assumed rate (``device: cuda``: :data:`rpd.flops.GPU`, an A100).
Work without a network (data sets, 2D metrics, exact OT, collect, report) takes rpd.resources' estimates
(upper bounds). A job holding a GPU also holds its CPU threads: its CPU-hours are threads × its hours.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from rpd.batching import IMAGE_ROWS_PER_CALL, IMAGE_T_DRAWS, ROWS_PER_CALL
from rpd.config import load_config
from rpd.data.specs import is_image_dataset
from rpd.devices import precision_of
from rpd.flops import GPU, NetworkCost, network_cost
from rpd.resources import MIN_MINUTES, needs
from rpd.runs import diffusion_runs, run_config
from rpd.runsets import rule_run_sets

REPO = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30.0  # a job's imports and data loading (job logs' 'job start-up' lines: 3–20 s)
INCEPTION_FLOPS = 5.7e9  # one 299×299 image through InceptionV3 (torch-fidelity's KID features)
LOCAL_RULES = ("collect", "report", "synthetic_image_folder")  # the Snakefile's localrules: never submitted
THREADED_RULES = ("train_prior", "train_model", "sample_model", "elbo", "progress")


@dataclass(frozen=True)
class RuleCost:
    rule: str
    jobs: int
    gpu_hours: float
    cpu_hours: float


@dataclass(frozen=True)
class CostEstimate:
    """A suite's estimated cost; ``submissions`` is None when the profile runs jobs locally."""

    suite: str
    profile: str
    device: str
    gpu: str
    rules: tuple[RuleCost, ...]
    submissions: int | None

    @property
    def jobs(self) -> int:
        return sum(r.jobs for r in self.rules)

    @property
    def gpu_hours(self) -> float:
        return sum(r.gpu_hours for r in self.rules)

    @property
    def cpu_hours(self) -> float:
        return sum(r.cpu_hours for r in self.rules)

    def __str__(self) -> str:
        sent = "run locally" if self.submissions is None else f"{self.submissions} cluster submissions"
        gpu = f"{self.gpu_hours:,.1f} GPU-hours ({self.gpu}), " if self.gpu_hours else ""
        return f"{self.jobs} jobs, {gpu}{self.cpu_hours:,.1f} CPU-hours; {sent} ({self.profile})"

    def table(self) -> str:
        lines = [f"suite {self.suite}, device {self.device}, profile {self.profile}",
                 f"{'rule':<24}{'jobs':>6}{'GPU-hours':>12}{'CPU-hours':>12}"]
        lines += [f"{r.rule:<24}{r.jobs:>6}{r.gpu_hours:>12,.1f}{r.cpu_hours:>12,.1f}" for r in self.rules]
        lines.append(f"{'total':<24}{self.jobs:>6}{self.gpu_hours:>12,.1f}{self.cpu_hours:>12,.1f}")
        return "\n".join(lines) + "\n" + str(self)


@dataclass(frozen=True)
class _Job:
    rule: str
    run: dict | None
    images: bool
    #: a job for every seed of a run (rpd.runsets): the configs of its runs, processed one after the other
    run_set: tuple[dict, ...] = ()


def _jobs(cfg: dict) -> list[_Job]:
    """Every job of the suite's DAG (as the workflow builds it from the same config functions)."""
    used = sorted({r.dataset for r in diffusion_runs(cfg)})
    images = {d: is_image_dataset(cfg["datasets"][d]) for d in cfg["datasets"]}
    out = [_Job("dataset", None, images[d]) for d in used]
    synthetic = f"results/{cfg['suite']}/synthetic-"
    out += [_Job("synthetic_image_folder", None, True) for d in used
            if str(cfg["datasets"][d].get("folder") or "").startswith(synthetic)]
    if cfg.get("kid", {}).get("extractor") == "feature-net":
        out += [_Job("feature_net", None, True) for d in used if images[d]]
    for rule, sets in rule_run_sets(cfg).items():
        for run_set in sets.values():
            configs = tuple(run_config(cfg, r) for r in run_set.runs)
            out.append(_Job(rule, configs[0], images[run_set.dataset], configs))
    return out + [_Job("collect", None, False), _Job("report", None, False)]


def _network_work(job: _Job) -> tuple[NetworkCost, float, float, bool] | None:
    """(network, data points through it, network calls, training?) of a job, or None without a network."""
    run = job.run
    if run is None or job.rule == "evaluate":
        return None
    cost = network_cost(run)
    if job.rule in ("train_prior", "train_model"):
        steps = run["training"]["steps"]
        return cost, steps * run["training"]["batch_size"], steps, True
    n, batch = run["n_eval"], run["sample_batch_size"]
    if job.rule == "sample_model":
        steps = sum(int(k) for _, k in run["sampling"])
        return cost, n * steps, steps * math.ceil(n / batch), False
    if job.rule == "elbo":
        draws = IMAGE_T_DRAWS + 1 if job.images else run["T"]
        return cost, n * draws, n * draws / (IMAGE_ROWS_PER_CALL if job.images else ROWS_PER_CALL), False
    from rpd.layout import SNAPSHOTS_PER_RUN
    from rpd.progress import PROGRESS_SAMPLING  # progress: each snapshot sampled once

    k = PROGRESS_SAMPLING["images" if job.images else "points"][1]
    return cost, SNAPSHOTS_PER_RUN * n * k, SNAPSHOTS_PER_RUN * k * math.ceil(n / batch), False


def _stage(job: _Job) -> str:
    return {"sample_model": "sample", "synthetic_image_folder": "dataset", "progress": "sample"}.get(job.rule, job.rule)


def _job_hours(job: _Job, device: str) -> tuple[float, float]:
    """(GPU-hours, CPU-hours) of one job; a run set's job starts once and does each of its runs' work."""
    threads = job.run["threads"] if job.rule in THREADED_RULES else 1  # its cpus_per_task (workflow/rules/common.smk)
    if job.run_set:
        runs = [_job_hours(_Job(job.rule, run, job.images), device) for run in job.run_set]
        gpu, cpu = (sum(h[i] for h in runs) for i in (0, 1))
        later_starts = (len(runs) - 1) * STARTUP_SECONDS / 3600  # one process: the start-up is paid once
        return (gpu - later_starts if gpu else 0.0), cpu - later_starts * threads
    work = _network_work(job)
    gpu_job = device == "cuda" and (work is not None or (job.rule == "evaluate" and job.images) or
                                    job.rule == "feature_net")
    if work is None:  # rpd.resources' estimate: its work term plus start-up (its floor is for slow nodes)
        seconds = STARTUP_SECONDS + 60 * max(0.0, needs(_stage(job), job.run, job.images).minutes - MIN_MINUTES)
        if job.rule == "feature_net":
            seconds = 60 * needs("feature_net", None, True).minutes
        if job.rule == "evaluate" and job.images and job.run["kid"]["extractor"] != "feature-net":
            pairs = 1 if job.run["kind"] == "prior" else len(job.run["sampling"])
            kid = 2 * job.run["n_eval"] * pairs * INCEPTION_FLOPS
            gpu = GPU["fp32"]
            seconds += gpu.seconds(kid, 1, 0) if gpu_job else kid / 2e10 / threads  # 2e10: a CPU thread, measured order
        return (seconds / 3600 if gpu_job else 0.0), seconds * threads / 3600
    cost, points, calls, train = work
    if gpu_job:
        seconds = STARTUP_SECONDS + cost.gpu_seconds(points, calls, train, precision_of(job.run))
        return seconds / 3600, seconds * threads / 3600
    seconds = STARTUP_SECONDS + cost.cpu_seconds(points, train) / threads
    return 0.0, seconds * threads / 3600


def _profile(profile: str | Path | None) -> tuple[str, dict]:
    """(name, settings) of a profile given as a folder, a profile.yaml or a name under workflow/profiles/."""
    if profile is None:
        return "no profile (local)", {}
    path = Path(profile)
    if not path.exists():
        path = REPO / "workflow" / "profiles" / str(profile)
    if path.is_dir():
        path = path / "profile.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"profile {profile!r}: no {path}; give a folder with a profile.yaml or one of "
                                f"{sorted(p.name for p in (REPO / 'workflow' / 'profiles').iterdir())}")
    return path.parent.name, yaml.safe_load(path.read_text()) or {}


def _submissions(jobs: list[_Job], settings: dict) -> int | None:
    """Cluster submissions: every job not run locally is one."""
    if "executor" not in settings:
        return None
    return sum(j.rule not in LOCAL_RULES for j in jobs)


def estimate_cost(config: dict | str | Path, profile: str | Path | None = None) -> CostEstimate:
    """The cost of a suite (a validated config, or a suite file) under a profile (see :func:`_profile`)."""
    cfg = load_config(config) if isinstance(config, (str, Path)) else config
    name, settings = _profile(profile)
    jobs = _jobs(cfg)
    totals: dict[str, list[float]] = {}
    for job in jobs:
        gpu, cpu = _job_hours(job, cfg["device"])
        row = totals.setdefault(job.rule, [0, 0.0, 0.0])
        row[0] += 1
        row[1] += gpu
        row[2] += cpu
    rules = tuple(RuleCost(rule, int(n), g, c) for rule, (n, g, c) in totals.items())
    gpu = GPU[cfg.get("precision", "fp32")].name if cfg["device"] == "cuda" else "none"
    return CostEstimate(cfg["suite"], name, cfg["device"], gpu, rules, _submissions(jobs, settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rpd.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", required=True, help="the suite file, e.g. benchmarks/paper.yaml")
    parser.add_argument("--profile", help="a profile folder or name under workflow/profiles/ (slurm, generic, local)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="price the suite with this `device`")
    a = parser.parse_args(argv)
    cfg = load_config(a.configfile)
    if a.device:
        cfg = {**cfg, "device": a.device}
    try:
        print(estimate_cost(cfg, a.profile).table())
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
