"""Cluster profiles: dry runs of the paper suite list every job with the resources the workflow declares."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from PIL import Image
from snakemake_executor_plugin_slurm.submit_string import get_submit_command
from snakemake_executor_plugin_slurm.utils import set_gres_string

from rpd.config import Run, diffusion_runs, load_config, prior_runs, run_config
from rpd.data.specs import is_image_dataset
from rpd.resources import STAGES, cluster_resources, needs

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "workflow" / "profiles"
# Rule name → stage of rpd.resources (the rule that samples diffusion models is the `sample` stage).
RULE_STAGE = {"dataset": "dataset", "synthetic_image_folder": "dataset", "feature_net": "feature_net",
              "train_prior": "train_prior", "train_model": "train_model", "sample_model": "sample",
              "evaluate": "evaluate", "elbo": "evaluate", "collect": "collect", "report": "report"}


def dry_run(workdir: Path, profile: str | Path | None, configfile: Path) -> str:
    """A dry run with a profile (a name under workflow/profiles/, or a profile folder) or with --cores 2."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"), "--directory",
           str(workdir), "--configfile", str(configfile)]
    if profile:
        cmd += ["--profile", str(PROFILES / profile if isinstance(profile, str) else profile)]
    else:
        cmd += ["--cores", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=workdir)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    return proc.stdout + proc.stderr


def jobs(output: str) -> list[dict]:
    """One dict per job of a dry run: rule, wildcards (text) and resources (name → value text)."""
    out = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", output)[1:]:
        rule = re.match(r"(?:local)?rule (\w+):", block).group(1)
        res = re.search(r"^\s+resources: (.*)$", block, re.M)
        wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
        pairs = [p.split("=", 1) for p in res.group(1).split(", ")] if res else []
        out.append({"rule": rule, "wildcards": wildcards.group(1) if wildcards else "", "resources": dict(pairs)})
    return out


def job_total(output: str) -> int:
    return int(re.search(r"^total\s+(\d+)$", output, re.M).group(1))


# The shipped paper suite and Slurm profile stop at preflight on purpose (no Butterflies folder, no Inception
# weights, placeholder account: tests/test_preflight.py). Here they are filled in as a site would.
SITE = {"slurm_account": "rpd_lab", "slurm_partition": "cpu"}


def site_ready_paper(folder: Path, **changes: object) -> Path:
    """paper.yaml with a Butterflies folder of enough images and an Inception weights file, plus ``changes``."""
    config = yaml.safe_load((REPO / "benchmarks" / "paper.yaml").read_text())
    images = folder / "butterflies"
    images.mkdir(exist_ok=True)
    for i in range(config["datasets"]["butterflies-64"]["n_eval"]):
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


def test_slurm_dry_run_lists_every_paper_job_with_its_resources(paper_slurm):
    found = jobs(paper_slurm)
    assert len(found) == job_total(paper_slurm) > 300  # every job of the suite is listed
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    # paper has no generated image folder, and its KID uses InceptionV3 (no feature net to train)
    assert {j["rule"] for j in found} == set(RULE_STAGE) - {"synthetic_image_folder", "feature_net"} | {"all"}
    for job in found:
        if job["rule"] == "all":  # the target rule runs no code
            continue
        res = job["resources"]
        assert res["slurm_account"] == SITE["slurm_account"] and res["slurm_partition"] == SITE["slurm_partition"]
        assert int(res["cpus_per_task"]) >= 1 and "gpu" not in res  # paper (device: auto) asks for no GPU
        # The values are the workflow's own estimates (not Snakemake's defaults):
        run = None
        if job["wildcards"]:
            w = dict(p.split("=", 1) for p in job["wildcards"].split(", "))
            if "name" in w:
                kind = "prior" if w["name"] in cfg["priors"] else "model"
                run = run_config(cfg, Run(kind, w["dataset"], w["name"], w["size"], int(w["seed"])))
        images = "dataset" in w and is_image_dataset(cfg["datasets"][w["dataset"]]) if job["wildcards"] else False
        expected = cluster_resources(needs(RULE_STAGE[job["rule"]], run, images=images), attempt=1)
        assert int(res["mem_mb"]) == expected["mem_mb"] and int(res["runtime"]) == expected["runtime"], job


def test_training_jobs_ask_for_a_gpu_when_the_suite_says_cuda(tmp_path, paper_cuda, slurm_profile):
    found = jobs(dry_run(tmp_path, slurm_profile, paper_cuda))
    train = [j for j in found if j["rule"] in ("train_model", "train_prior")]
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    assert len(train) == len(diffusion_runs(cfg)) + len(prior_runs(cfg))
    assert all(j["resources"].get("gpu") == "1" for j in train)
    assert not any("gpu" in j["resources"] for j in found if j not in train)
    # What the Slurm plugin makes of one training job's resources (its own functions, no Slurm needed):
    res = {k: int(v) if v.isdigit() else v for k, v in train[0]["resources"].items()}
    job = SimpleNamespace(resources=_Resources(res), threads=res["cpus_per_task"])
    params = dict(run_uuid="id", slurm_logfile="log", comment_str="c", account="-A 'a'", partition="-p 'p'", workdir="")
    sbatch = get_submit_command(job, params) + set_gres_string(job)
    for flag in (f"-t {res['runtime']}", f"--mem {res['mem_mb']}", f"--cpus-per-task={res['cpus_per_task']}",
                 "--gpus=1"):
        assert flag in sbatch, (flag, sbatch)
    job.resources["gpu_model"] = "a100"  # what the profile's commented gpu_model line adds
    assert set_gres_string(job).strip() == "--gpus=a100:1"


class _Resources(dict):
    """Attribute access like Snakemake's job.resources, for the plugin's functions."""

    __getattr__ = dict.__getitem__


def test_generic_profile_submit_command_fills_in_for_every_job(tmp_path, paper_cuda):
    profile = yaml.safe_load((PROFILES / "generic" / "profile.yaml").read_text())
    template = profile["cluster-generic-submit-cmd"]
    found = [j for j in jobs(dry_run(tmp_path, "generic", paper_cuda)) if j["rule"] != "all"]
    assert found
    for job in found:
        resources = SimpleNamespace(**job["resources"])
        cmd = template.format(rule=job["rule"], threads=job["resources"]["cpus_per_task"], resources=resources)
        gpus = "1" if job["rule"].startswith("train") else "0"
        assert f"ngpus={gpus}" in cmd and f"mem={job['resources']['mem_mb']}mb" in cmd, cmd


def test_local_profile_runs_the_ci_suite_dag(tmp_path):
    found = jobs(dry_run(tmp_path, "local", REPO / "benchmarks" / "ci.yaml"))
    assert {j["rule"] for j in found} == set(RULE_STAGE) | {"all"}


def test_estimates_grow_with_work_images_and_attempts():
    cfg = load_config(REPO / "benchmarks" / "paper.yaml")
    std = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "std", 0))
    small = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "small", 0))
    assert needs("train_model", small, False).minutes < needs("train_model", std, False).minutes
    for stage in STAGES:
        run = std if stage in ("train_prior", "train_model", "sample", "evaluate") else None
        points, images = needs(stage, run, False), needs(stage, run, True)
        assert images.minutes >= points.minutes and images.mem_mb >= points.mem_mb, stage
        once, thrice = cluster_resources(points, 1), cluster_resources(points, 3)
        assert thrice["runtime"] >= 3 * once["runtime"] - 1 and thrice["mem_mb"] >= 3 * once["mem_mb"] - 1
    longer = {**std, "training": {**std["training"], "steps": 4 * std["training"]["steps"]}}
    assert needs("train_model", longer, True).minutes > 3 * needs("train_model", std, True).minutes - 30
