"""Preflight (rpd/preflight.py): missing data, weights or profile values stop the workflow before any job,
also in a dry run, with one message naming the config key or profile file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PIL import Image
from snakemake.exceptions import WorkflowError

from rpd import preflight
from rpd.config import validate_config
from rpd.data import fmnist
from rpd.preflight import PreflightError, check, data_problems, profile_problems
from suite import REPO, dry_run, snakemake_cli, write_config
from test_config import two_d_only

CI = REPO / "benchmarks" / "ci.yaml"


@pytest.fixture
def ci() -> dict:
    return yaml.safe_load(CI.read_text())


@pytest.fixture
def offline(monkeypatch):
    """No network, whatever the machine has (the online fallbacks then do not count)."""
    monkeypatch.setenv("RPD_OFFLINE", "1")


@pytest.fixture
def no_local_fmnist(monkeypatch, tmp_path):
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fmnist, "DOWNLOAD_DIR", tmp_path / "no-cache")


def preflight_message(cfg: dict, workdir: Path) -> str:
    """The workflow's error for ``cfg`` (an in-process dry run), checked to be a preflight error said once."""
    with pytest.raises(WorkflowError) as info:
        dry_run(write_config(cfg, workdir / "suite.yaml"), workdir)
    message = str(info.value)
    assert message.count("preflight:") == 1, message
    assert not (workdir / "results").exists()
    return message


def image_folder(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (6, 4), (i, 2 * i, 0)).save(folder / f"{i:03d}.png")
    return folder


# ---------------------------------------------------------------------------------------- image folders

def test_missing_image_folder(ci, tmp_path):
    ci["datasets"]["butterflies-8"]["folder"] = str(tmp_path / "exported-butterflies")
    message = preflight_message(ci, tmp_path)
    assert "config key 'datasets.butterflies-8.folder'" in message
    assert f"{tmp_path / 'exported-butterflies'} does not exist" in message
    assert "Fix: " in message and "set as `folder:`" in message


def test_too_few_images(ci, tmp_path):
    ci["datasets"]["butterflies-8"]["folder"] = str(image_folder(tmp_path / "few", 5))
    message = preflight_message(ci, tmp_path)
    assert "'datasets.butterflies-8.folder'" in message and "5 images cannot hold a reference set of N = 32" in message
    assert "lower n_eval to at most 2" in message and "held out from training" in message
    # enough for the reference set but not for a disjoint training set as large: also refused before training
    ci["datasets"]["butterflies-8"]["folder"] = str(image_folder(tmp_path / "some", 40))
    assert "40 images cannot hold a reference set of N = 32" in preflight_message(ci, tmp_path)


def test_enough_images_pass(ci, tmp_path):
    n_eval = ci["datasets"]["butterflies-8"]["n_eval"]  # the reference is held out: training needs as many again
    ci["datasets"]["butterflies-8"]["folder"] = str(image_folder(tmp_path / "enough", 2 * n_eval))
    dry_run(write_config(ci, tmp_path / "suite.yaml"), tmp_path)


def test_no_folder_and_offline_is_stopped_before_the_download(ci, tmp_path, offline):
    ci["datasets"]["butterflies-8"]["folder"] = None
    message = preflight_message(ci, tmp_path)
    assert "config key 'datasets.butterflies-8.folder': null" in message
    assert "huggan/smithsonian_butterflies_subset" in message
    assert "not installed" in message or "unreachable (offline)" in message


def test_no_folder_online_with_datasets_installed_passes(ci, monkeypatch):
    ci["datasets"]["butterflies-8"]["folder"] = None
    monkeypatch.setattr(preflight.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(preflight, "_connects", lambda host, port: host == "huggingface.co")
    monkeypatch.delenv("RPD_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    assert not [p for p in data_problems(validate_config(ci), "results/ci/synthetic-") if "butterflies" in p]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # Hugging Face's own switch is honoured
    assert [p for p in data_problems(validate_config(ci), "results/ci/synthetic-") if "butterflies" in p]


def test_built_datasets_need_no_source(ci, tmp_path):
    ci["datasets"]["butterflies-8"]["folder"] = str(tmp_path / "gone")
    cfg = validate_config(ci)
    assert data_problems(cfg, "results/ci/synthetic-")
    assert not data_problems(cfg, "results/ci/synthetic-", done=["butterflies-8"])


def test_generated_folder_is_not_checked(ci):
    assert ci["datasets"]["butterflies-8"]["folder"].startswith("results/ci/synthetic-")
    assert not [p for p in data_problems(validate_config(ci), "results/ci/synthetic-") if "butterflies" in p]


# ---------------------------------------------------------------------------------------- Fashion-MNIST

def test_fmnist_not_found_offline(ci, tmp_path, offline, no_local_fmnist):
    message = preflight_message(ci, tmp_path)
    assert "config key 'datasets.fmnist-8' (Fashion-MNIST): not found on this machine" in message
    assert f"Debian package {tmp_path / 'no-debian'}" in message
    assert "unreachable (offline)" in message
    assert "apt-get install dataset-fashion-mnist" in message and "`folder:`" in message


def test_fmnist_configured_folder_or_download_counts(ci, tmp_path, monkeypatch, no_local_fmnist):
    cfg = validate_config(ci)
    monkeypatch.setattr(preflight, "_connects", lambda host, port: False)
    assert [p for p in data_problems(cfg, "results/ci/synthetic-") if "fmnist-8" in p]
    monkeypatch.setattr(preflight, "_connects", lambda host, port: host == preflight.FMNIST_HOST[0])
    assert not [p for p in data_problems(cfg, "results/ci/synthetic-") if "fmnist-8" in p]  # torchvision downloads
    monkeypatch.setattr(preflight, "_connects", lambda host, port: False)
    mine = tmp_path / "mine"
    mine.mkdir()
    for pair in fmnist.FILES.values():
        for name in pair:
            (mine / f"{name}.gz").write_bytes(b"")
    ci["datasets"]["fmnist-8"]["folder"] = str(mine)
    assert not [p for p in data_problems(validate_config(ci), "results/ci/synthetic-") if "fmnist-8" in p]


@pytest.mark.skipif(not fmnist.DEBIAN_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_default_suite_passes_preflight_offline_with_the_debian_package(tmp_path, monkeypatch):
    """What `make run` does on a machine set up by `make setup` (Fashion-MNIST from the Debian package)."""
    monkeypatch.setenv("RPD_OFFLINE", "1")
    proc = snakemake_cli("-n", "--cores", "2", workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "preflight" not in proc.stderr + proc.stdout


# ---------------------------------------------------------------------------------------- Inception weights

def inception_suite(ci: dict) -> dict:
    ci["kid"] = {"extractor": "inception-v3-compat", "inception_weights": None}
    return ci


def test_missing_inception_weights(ci, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    message = preflight_message(inception_suite(ci), tmp_path)
    cached = tmp_path / "torch" / "hub" / "checkpoints" / preflight.INCEPTION_FILE
    assert "config key 'kid.inception_weights': null" in message and str(cached) in message
    assert preflight.INCEPTION_URL in message and "'kid.extractor: feature-net'" in message


def test_inception_weights_in_the_torch_cache_pass(ci, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / preflight.INCEPTION_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"weights")
    dry_run(write_config(inception_suite(ci), tmp_path / "suite.yaml"), tmp_path)


def test_inception_weights_are_not_needed_without_images(ci, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cfg = validate_config(two_d_only(inception_suite(ci)) | {"kid": {"extractor": "inception-v3-compat"}})
    assert data_problems(cfg, "results/ci/synthetic-") == []


# ---------------------------------------------------------------------------------------- profiles

def test_shipped_slurm_profile_and_paper_suite_stop_with_every_problem_once(tmp_path, monkeypatch):
    """The documented cluster command, as a new user runs it: every problem in one message, no job submitted."""
    monkeypatch.setenv("RPD_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    proc = snakemake_cli("-n", "--profile", str(REPO / "workflow" / "profiles" / "slurm"), "--configfile",
                         str(REPO / "benchmarks" / "paper.yaml"), workdir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert out.count("preflight: ") == 1, out
    profile = str(REPO / "workflow" / "profiles" / "slurm" / "profile.yaml")
    for needle in (f"{profile}: 'default-resources: slurm_account' is still the placeholder 'your_account'",
                   f"{profile}: 'default-resources: slurm_partition' is still the placeholder 'your_cpu_partition'",
                   "config key 'datasets.butterflies-64.folder': null",
                   "config key 'kid.inception_weights': null"):
        assert out.count(needle) == 1, (needle, out)
    assert "rule train_model" not in out and not (tmp_path / "results").exists()


def test_placeholders_in_set_resources_and_default_resources():
    problems = profile_problems(
        {"default-resources": {"slurm_account": "lab42", "mem_mb": 1000, "runtime": None},
         "train_model": {"slurm_partition": "your_gpu_partition", "gpu_model": "<gpu model>"}})
    assert len(problems) == 2
    assert "'set-resources: train_model: slurm_partition' is still the placeholder 'your_gpu_partition'" in problems[0]
    assert "'set-resources: train_model: gpu_model' is still the placeholder '<gpu model>'" in problems[1]
    assert all("Fix: replace it there with your site's value" in p for p in problems)


def test_profile_file_is_named_from_the_command_line(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "profile.yaml").write_text("default-resources:\n  slurm_account: your_account\n")
    files = preflight.profile_files(["snakemake", "-n", "--profile", str(tmp_path / "site")], environ={})
    assert files == [tmp_path / "site" / "profile.yaml"]
    problem, = profile_problems({"default-resources": {"slurm_account": "your_account"}}, files)
    assert problem.startswith(f"{tmp_path / 'site' / 'profile.yaml'}: 'default-resources: slurm_account'")


def test_local_and_generic_profiles_hold_no_placeholders():
    for name in ("local", "generic"):
        profile = yaml.safe_load((REPO / "workflow" / "profiles" / name / "profile.yaml").read_text())
        sections = {"default-resources": profile.get("default-resources", {}), **profile.get("set-resources", {})}
        assert profile_problems(sections) == [], name


def test_check_lists_every_problem_in_one_error():
    check([])
    with pytest.raises(PreflightError, match=r"preflight: 2 problem\(s\), nothing was submitted:\n  - a\n  - b"):
        check(["a", "b"])
