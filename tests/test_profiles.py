"""Cluster profiles: dry runs of the paper suite list every job with the resources the workflow declares."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from PIL import Image
from snakemake_executor_plugin_slurm.submit_string import get_submit_command
from snakemake_executor_plugin_slurm.utils import set_gres_string

from rpd.config import load_config
from rpd.data.specs import is_image_dataset
from rpd.resources import STAGES, Needs, cluster_resources, needs, run_set_needs, wants_gpu
from rpd.runs import Run, run_config
from rpd.runsets import rule_run_sets
from suite import REPO, snakemake_cli
from suite import dry_run as api_dry_run

PROFILES = REPO / "workflow" / "profiles"
# Rule name → stage of rpd.resources (the rule that samples diffusion models is the `sample` stage).
RULE_STAGE = {"dataset": "dataset", "synthetic_image_folder": "dataset", "feature_net": "feature_net",
              "train_prior": "train_prior", "train_model": "train_model", "sample_model": "sample",
              "evaluate": "evaluate", "elbo": "elbo", "collect": "collect", "report": "report", "progress": "sample"}
# The workflow's localrules (a dry run prints them as any rule): run by Snakemake itself, never submitted.
LOCAL_RULES = re.search(r"^localrules:\n((?:\s+\w+,\n)+)", (REPO / "Snakefile").read_text(), re.M).group(1).split()
LOCAL_RULES = [r.rstrip(",") for r in LOCAL_RULES]
# Rules whose jobs the Slurm profile sends to the GPU partition (all that run a network, and evaluate).
GPU_RULES = ("train_prior", "train_model", "sample_model", "elbo", "feature_net", "evaluate", "progress")


def dry_run(workdir: Path, profile: str | Path | None, configfile: Path) -> str:
    """A dry run with a profile (a name under workflow/profiles/, or a profile folder) or with --cores 2."""
    args = ["-n", "--configfile", str(configfile)]
    if profile:
        args += ["--profile", str(PROFILES / profile if isinstance(profile, str) else profile)]
    else:
        args += ["--cores", "2"]
    proc = snakemake_cli(*args, workdir=workdir, timeout=600, cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc.stdout + proc.stderr


def jobs(output: str) -> list[dict]:
    """One dict per job of a dry run: rule, wildcards (text), resources (name → value text), whether it runs
    locally (localrules), and the number of the group job it belongs to (None: submitted on its own)."""
    out, group = [], 0
    for block in re.split(r"\n(?=\[[^\]]+\] Group job |\s*(?:local)?rule \w+:\n)", output)[1:]:
        if re.match(r"\[[^\]]+\] Group job ", block):
            group += 1
            block = block.split("\n", 1)[1]
        head = re.match(r"\s*(local)?rule (\w+):", block)
        if head is None:
            continue
        indented = block.startswith(" ")  # the jobs of a group job are listed indented under its header
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        pairs = [p.split("=", 1) for p in res.group(1).split(", ")] if res else []
        out.append({"rule": head.group(2), "local": bool(head.group(1)), "group": group if indented else None,
                    "wildcards": wildcards.group(1) if wildcards else "", "resources": dict(pairs)})
    return out


def job_total(output: str) -> int:
    return int(re.search(r"^total\s+(\d+)$", output, re.M).group(1))


# The shipped paper suite and Slurm profile stop at preflight on purpose (no Butterflies folder, no Inception
# weights, placeholder account: tests/test_preflight.py). Here they are filled in as a site would.
SITE = {"slurm_account": "rpd_lab", "slurm_partition": "cpu", "gpu_partition": "gpu"}


def site_ready_paper(folder: Path, **changes: object) -> Path:
    """paper.yaml with a Butterflies folder of enough images and an Inception weights file, plus ``changes``."""
    config = yaml.safe_load((REPO / "benchmarks" / "paper.yaml").read_text())
    images = folder / "butterflies"
    images.mkdir(exist_ok=True)
    for i in range(2 * config["datasets"]["butterflies-64"]["n_eval"]):  # a reference set, as many to train on
        Image.new("RGB", (4, 4), (i % 256, 0, 0)).save(images / f"{i:04d}.png")
    (folder / "inception.pth").write_bytes(b"weights")  # preflight and validation check that it is a file
    config["datasets"]["butterflies-64"]["folder"] = str(images)
    config["kid"]["inception_weights"] = str(folder / "inception.pth")
    path = folder / "paper-site.yaml"
    path.write_text(yaml.safe_dump({**config, **changes}))
    return path


def site_ready_slurm_profile(folder: Path) -> Path:
    """The Slurm profile with its EDIT placeholders filled in."""
    text = (PROFILES / "slurm" / "profile.yaml").read_text()
    text = text.replace("your_account", SITE["slurm_account"]).replace("your_cpu_partition", SITE["slurm_partition"])
    text = text.replace("your_gpu_partition", SITE["gpu_partition"])
    (folder / "slurm").mkdir()
    (folder / "slurm" / "profile.yaml").write_text(text)
    return folder / "slurm"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("site")


@pytest.fixture(scope="module")
def slurm_profile(site) -> Path:
    return site_ready_slurm_profile(site)


@pytest.fixture(scope="module")
def paper_slurm(site, slurm_profile) -> str:
    return dry_run(site, slurm_profile, site_ready_paper(site))


@pytest.fixture(scope="module")
def paper_cuda(site) -> Path:
    """The paper suite with `device: cuda` (what a GPU cluster run sets)."""
    return site_ready_paper(site, device="cuda")


def _job_run(job: dict, cfg: dict) -> tuple[dict | None, bool]:
    """(resolved run config or None, whether the job's dataset is an image set) of a dry-run job."""
    if not job["wildcards"]:
        return None, False
    w = dict(p.split("=", 1) for p in job["wildcards"].split(", "))
    images = "dataset" in w and is_image_dataset(cfg["datasets"][w["dataset"]])
    if "name" not in w:
        return None, images
    # a job for every seed of the run (rpd.runsets): the first seed's config
    return run_config(cfg, rule_run_sets(cfg)[job["rule"]][(w["dataset"], w["name"], w["size"])].runs[0]), images


def _job_needs(job: dict, cfg: dict, stage: str) -> Needs:
    """What rpd.resources estimates for a dry-run job: its run's needs, or for a job that processes every seed
    of a run (rpd.runsets) the needs of its seeds' runs one after the other."""
    run, images = _job_run(job, cfg)
    w = dict(p.split("=", 1) for p in job["wildcards"].split(", ")) if job["wildcards"] else {}
    if "name" not in w:
        return needs(stage, run, images=images)
    run_set = rule_run_sets(cfg)[job["rule"]][(w["dataset"], w["name"], w["size"])]
    return run_set_needs([needs(stage, run_config(cfg, r), images=images) for r in run_set.runs])


def sbatch(resources: dict[str, str]) -> str:
    """The sbatch options snakemake-executor-plugin-slurm builds for a job with these resources (its own
    functions: get_submit_command and set_gres_string, as its executor calls them; no Slurm needed)."""
    res = {k: int(v) if v.isdigit() else v for k, v in resources.items()}
    job = SimpleNamespace(resources=_Resources(res), threads=res["cpus_per_task"])
    params = dict(run_uuid="id", slurm_logfile="log", comment_str="c", account=f"-A '{res['slurm_account']}'",
                  partition=f"-p '{res['slurm_partition']}'", workdir="")
    return get_submit_command(job, params) + set_gres_string(job)


def test_slurm_dry_run_gives_every_network_job_of_paper_a_gpu(paper_slurm):
    """paper (device: cuda) under the Slurm profile: the sbatch options of every job, rule by rule."""
    found = jobs(paper_slurm)
    assert len(found) == job_total(paper_slurm) > 130  # every job of the suite is listed
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    assert cfg["device"] == "cuda"
    # paper has no generated image folder, and its KID uses InceptionV3 (no feature net to train)
    assert {j["rule"] for j in found} >= set(RULE_STAGE) - {"synthetic_image_folder", "feature_net", "progress"}
    gpus_by_rule: dict[str, set[bool]] = {}
    for job in found:
        if job["rule"] == "all":  # the target rule runs no code
            continue
        res = job["resources"]
        if job["rule"] in ("collect", "report"):  # seconds of work: run by Snakemake itself, never submitted
            assert job["rule"] in LOCAL_RULES and res.get("gpu", "0") == "0", job
            continue
        assert job["rule"] not in LOCAL_RULES, job
        run, images = _job_run(job, cfg)
        stage = RULE_STAGE[job["rule"]]
        gpu = wants_gpu(stage, "cuda", images)
        gpus_by_rule.setdefault(job["rule"], set()).add(gpu)
        options = sbatch(res)
        expected = cluster_resources(_job_needs(job, cfg, stage), attempt=1)  # the workflow's own estimates
        for flag in (f"-t {expected['runtime']}", f"--mem {expected['mem_mb']}", f"-A '{SITE['slurm_account']}'",
                     f"--cpus-per-task={res['cpus_per_task']}"):
            assert flag in options, (flag, options, job)
        assert ("--gpus=1" in options) == gpu and "--gpus=0" not in options, (options, job)
        partition = SITE["gpu_partition"] if job["rule"] in GPU_RULES else SITE["slurm_partition"]
        assert f"-p '{partition}'" in options, (options, job)
    # every job that runs a network holds a GPU; a 2D evaluation (NumPy and POT) none, an image one (KID)
    assert gpus_by_rule == {"dataset": {False}, "train_prior": {True}, "train_model": {True}, "sample_model": {True},
                            "elbo": {True}, "evaluate": {False, True}, **({"progress": {True}} if "progress"
                                                                           in gpus_by_rule else {})}


def test_every_job_is_one_submission_within_a_day(paper_slurm):
    """Every job that works on runs takes a run set (all its seeds, one after the other; rpd.runsets), so none is
    grouped: each is one submission, the 2D trainings are a handful, and the longest fits a 24 h time limit."""
    found = [j for j in jobs(paper_slurm) if j["rule"] not in LOCAL_RULES and j["rule"] != "all"]
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    assert found and not any(j["group"] is not None for j in found)
    assert not any("seed=" in j["wildcards"] for j in found)
    trainings = [j for j in found if j["rule"] in ("train_prior", "train_model")]
    points = [j for j in trainings if not _job_run(j, cfg)[1]]
    assert 10 <= len(points) <= 64, len(points)  # the 2D runs' trainings: one submission per run set
    runtimes = {f"{j['rule']} {j['wildcards']}": int(j["resources"]["runtime"]) for j in found}
    longest = max(runtimes, key=runtimes.get)
    assert runtimes[longest] <= 24 * 60, longest  # within a common Slurm time limit
    print(f"{len(found)} submissions ({len(points)} 2D trainings), the longest {runtimes[longest] / 60:.1f} h: {longest}")


def test_a_training_retry_keeps_its_time_limit_and_every_retry_grows_its_memory(tmp_path):
    """A training job resumes from its checkpoints, so its retry asks for the same time (2× of paper's longest
    training, 21.5 h, would exceed a 24 h partition); every other job's retry asks for attempt × the time, and
    every retry for attempt × the memory (an out-of-memory failure looks like any other to Snakemake)."""
    found = [j for j in api_dry_run(REPO / "benchmarks" / "ci.yaml", tmp_path, attempts=True)
             if j.attempts[0]]
    training = {"train_prior", "train_model"}
    assert training < {j.rule for j in found} and {"sample_model", "evaluate"} < {j.rule for j in found}
    for job in found:
        first = job.attempts[0]
        for attempt, asked in enumerate(job.attempts, start=1):
            runtime = first["runtime"] if job.rule in training else attempt * first["runtime"]
            assert asked == pytest.approx({"runtime": runtime, "mem_mb": attempt * first["mem_mb"]}, abs=1), job.rule


class _Resources(dict):
    """Attribute access like Snakemake's job.resources, for the plugin's functions."""

    __getattr__ = dict.__getitem__


def test_generic_profile_submit_command_fills_in_for_every_job(tmp_path, paper_cuda):
    profile = yaml.safe_load((PROFILES / "generic" / "profile.yaml").read_text())
    template = profile["cluster-generic-submit-cmd"]
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    found = [j for j in jobs(dry_run(tmp_path, "generic", paper_cuda)) if j["rule"] not in LOCAL_RULES]
    assert found
    for job in found:
        resources = SimpleNamespace(**job["resources"])
        cmd = template.format(rule=job["rule"], threads=job["resources"]["cpus_per_task"], resources=resources)
        gpus = int(wants_gpu(RULE_STAGE[job["rule"]], "cuda", _job_run(job, cfg)[1]))
        assert f"ngpus={gpus}" in cmd and f"mem={job['resources']['mem_mb']}mb" in cmd, cmd


def test_local_profile_runs_the_ci_suite_dag(tmp_path):
    found = jobs(dry_run(tmp_path, "local", REPO / "benchmarks" / "ci.yaml"))
    rules = {j["rule"] for j in found}
    assert set(RULE_STAGE) - {"progress"} | {"all"} <= rules <= set(RULE_STAGE) | {"all"}


def test_estimates_grow_with_work_images_and_attempts():
    cfg = {**load_config(REPO / "benchmarks" / "paper.yaml"), "device": "cpu"}  # CPU rates: images cost more
    std = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "std", 0))
    small = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "small", 0))
    assert needs("train_model", small, False).minutes < needs("train_model", std, False).minutes
    for stage in STAGES:
        run = std if stage in ("train_prior", "train_model", "sample", "evaluate", "elbo") else None
        points, images = needs(stage, run, False), needs(stage, run, True)
        if stage != "elbo":  # the bound draws 34 t per image but every t (T − 1) per 2D point
            assert images.minutes >= points.minutes and images.mem_mb >= points.mem_mb, stage
        once, thrice = cluster_resources(points, 1), cluster_resources(points, 3)
        assert thrice["runtime"] >= 3 * once["runtime"] - 1 and thrice["mem_mb"] >= 3 * once["mem_mb"] - 1
    longer = {**std, "training": {**std["training"], "steps": 4 * std["training"]["steps"]}}
    assert needs("train_model", longer, True).minutes > 3 * needs("train_model", std, True).minutes - 30
