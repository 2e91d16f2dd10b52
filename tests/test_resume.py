"""Training checkpoints: a job killed part-way resumes and ends bit-identical to one that ran straight through."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rpd.checkpoint import load_state
from rpd.config import config_hash, load_config, training_key
from rpd.io import load_npz
from rpd.layout import checkpoint_file, run_folder
from rpd.runs import Run, run_config
from rpd.stages import make_dataset, train_model_run, train_prior_run
from rpd.training import Checkpoint
from suite import IDENTITY_TARGETS, REPO, snakemake, snakemake_cmd


class Killed(Exception):
    """Stands in for SIGKILL: training stops right after a checkpoint was written."""


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> tuple[dict, Path]:
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    for block in ("prior_training", "training"):
        # 250 steps: the kill after step 150 lies before the VQ code restart at step 200 and the end.
        cfg[block].update(steps=250, checkpoint_every=50, log_every=50)
    cfg["datasets"]["dino-grid-0.1"]["n_train"] = 500
    data = tmp_path_factory.mktemp("data")
    make_dataset(cfg["datasets"]["dino-grid-0.1"], 64, str(data / "train.npz"), str(data / "reference.npz"))
    return cfg, data / "train.npz"


def _kill_after_save(monkeypatch, at_step: int) -> list[int]:
    saved_steps: list[int] = []
    real_save = Checkpoint.save

    def save(self, state):
        real_save(self, state)
        saved_steps.append(state["step"])
        if state["step"] == at_step:
            raise Killed

    monkeypatch.setattr(Checkpoint, "save", save)
    return saved_steps


def _assert_same_training(a: Path, b: Path) -> None:
    sa, sb = load_state(a / "model.pt")["state_dict"], load_state(b / "model.pt")["state_dict"]
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), f"{key} differs between the resumed and the uninterrupted run"
    la, lb = load_npz(a / "losses.npz"), load_npz(b / "losses.npz")
    assert np.array_equal(la["step"], lb["step"]) and np.array_equal(la["loss"], lb["loss"])


def _run_dir(tmp_path: Path, name: str) -> Path:
    """Seed 0's run folder of a run set ``name``, as the pipeline lays it out (its checkpoint sits beside)."""
    return tmp_path / run_folder(name, 0)


def _train_prior(cfg, train, run_dir):
    train_prior_run(run_config(cfg, Run("prior", "dino-grid-0.1", "vqvae", "std", 0)), train, run_dir)


def test_killed_prior_training_resumes_bit_identical(suite, tmp_path, monkeypatch, capsys):
    """VQ-VAE prior: resuming keeps the dead-code restarts (every 100 steps, on the batch) identical too."""
    cfg, train = suite
    _train_prior(cfg, train, _run_dir(tmp_path, "straight"))
    assert not (checkpoint_file(_run_dir(tmp_path, "straight"))).exists(), "checkpoint left behind after model.pt"

    saved = _kill_after_save(monkeypatch, at_step=150)
    with pytest.raises(Killed):
        _train_prior(cfg, train, _run_dir(tmp_path, "resumed"))
    assert saved == [50, 100, 150] and not (_run_dir(tmp_path, "resumed") / "model.pt").exists()
    state = torch.load(checkpoint_file(_run_dir(tmp_path, "resumed")), weights_only=True)  # safe loading works
    assert state["step"] == 150 and state["rng"]["batch"].dtype == torch.uint8

    saved.clear()
    _train_prior(cfg, train, _run_dir(tmp_path, "resumed"))
    assert "resumed from" in capsys.readouterr().err
    assert saved == [200, 250], "the resumed job should only have run steps 151-250 (saved after the last too)"
    assert not (checkpoint_file(_run_dir(tmp_path, "resumed"))).exists()
    _assert_same_training(_run_dir(tmp_path, "straight"), _run_dir(tmp_path, "resumed"))


def test_killed_denoiser_training_resumes_bit_identical(suite, tmp_path, monkeypatch):
    """RPD denoiser with EMA and the prior's posterior sampling (global RNG) in the loss."""
    cfg, train = suite
    _train_prior(cfg, train, _run_dir(tmp_path, "prior"))
    run = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "std", 0))
    train_model_run(run, train, _run_dir(tmp_path, "prior") / "model.pt", _run_dir(tmp_path, "straight"))

    _kill_after_save(monkeypatch, at_step=100)
    with pytest.raises(Killed):
        train_model_run(run, train, _run_dir(tmp_path, "prior") / "model.pt", _run_dir(tmp_path, "resumed"))
    monkeypatch.undo()
    train_model_run(run, train, _run_dir(tmp_path, "prior") / "model.pt", _run_dir(tmp_path, "resumed"))
    _assert_same_training(_run_dir(tmp_path, "straight"), _run_dir(tmp_path, "resumed"))


def test_checkpoint_of_another_config_is_ignored(suite, tmp_path, monkeypatch, capsys):
    cfg, train = suite
    _kill_after_save(monkeypatch, at_step=150)
    with pytest.raises(Killed):
        _train_prior(cfg, train, _run_dir(tmp_path, "run"))
    monkeypatch.undo()
    changed = copy.deepcopy(cfg)
    changed["prior_training"]["lr"] = 1.0e-3
    _train_prior(changed, train, _run_dir(tmp_path, "run"))
    err = capsys.readouterr().err
    assert "ignoring" in err and "training from step 0" in err and "resumed from" not in err
    _train_prior(changed, train, tmp_path / "fresh")
    _assert_same_training(tmp_path / "fresh", _run_dir(tmp_path, "run"))


def test_checkpoint_every_zero_writes_none(suite, tmp_path, monkeypatch):
    cfg, train = copy.deepcopy(suite[0]), suite[1]
    cfg["prior_training"]["checkpoint_every"] = 0
    saved = _kill_after_save(monkeypatch, at_step=-1)
    _train_prior(cfg, train, _run_dir(tmp_path, "run"))
    assert saved == [] and (_run_dir(tmp_path, "run") / "model.pt").exists()


def test_fingerprint_is_the_run_config_hash(suite, tmp_path):
    cfg, _ = suite
    run = run_config(cfg, Run("prior", "dino-grid-0.1", "vqvae", "std", 0))
    ckpt = Checkpoint(tmp_path / "checkpoint.pt", 50, config_hash(run))
    ckpt.save({"step": 3})
    assert ckpt.load("x") == {"step": 3, "fingerprint": config_hash(run)}
    assert Checkpoint(ckpt.path, 50, "other").load("x") is None
    ckpt.discard()
    assert not ckpt.path.exists()


# ---- End to end: SIGKILL the `ci` suite (its IDENTITY_TARGETS sub-DAG, every computing rule kind) during a
# training job, rerun, compare with the uninterrupted run of the whole suite.

KEYS = ["dataset", "model", "size", "seed", "sampler", "steps", "metric"]


def _first_denoiser_checkpoint(workdir: Path, proc: subprocess.Popen, timeout: float) -> Path:
    """Wait until a diffusion model's training has written a checkpoint while another training has finished
    (so the test also sees that finished jobs are kept; the first training job may be a prior-free DDPM)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the suite finished before any training checkpoint was seen"
        if not any(workdir.glob("results/ci/*/*/train/seed*/model.pt")):
            time.sleep(0.02)
            continue
        for path in workdir.glob("results/ci/*/*/checkpoints/seed*.pt"):
            # a seed still training (a finished seed's checkpoint stays until its run set is done)
            training = not (path.parent.parent / run_folder(".", int(path.stem.removeprefix("seed"))) / "model.pt").exists()
            if training and not path.parent.parent.name.startswith(("vqvae", "betavae")):
                return path
        time.sleep(0.02)
    raise AssertionError(f"no checkpoint within {timeout}s")


@pytest.mark.slow
def test_suite_killed_mid_training_resumes_to_identical_metrics(ci_suite, tmp_path):
    workdir = tmp_path / "ci_killed"
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen(snakemake_cmd(workdir, 1, targets=IDENTITY_TARGETS), stdout=log, stderr=log,
                                start_new_session=True)
        try:
            checkpoint = _first_denoiser_checkpoint(workdir, proc, timeout=1200)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and its running job, no clean-up
            proc.wait()
    run_set = checkpoint.parent.parent  # <run set>/checkpoints/seed<k>.pt (rpd.layout.checkpoint_file)
    run_dir = run_set / run_folder(".", int(checkpoint.stem.removeprefix("seed")))
    step = int(torch.load(checkpoint, weights_only=True)["step"])
    models = list(workdir.glob("results/ci/*/*/train/seed*/model.pt"))
    finished = {p: p.stat().st_mtime_ns for p in models if run_set not in p.parents}  # other run sets' jobs
    seeds_done = sorted(p.parent.name for p in models if run_set in p.parents)  # this job's seeds before the kill
    assert checkpoint.exists() and not (run_dir / "model.pt").exists()

    unlock = snakemake(workdir, 1, "--unlock")  # Snakemake's lock on the folder outlives a SIGKILL
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = snakemake(workdir, 1, "--rerun-incomplete", targets=IDENTITY_TARGETS)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    log = (run_set / "train.log").read_text()  # Snakemake jobs see paths relative to the working folder
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    dataset = run_set.parent.name  # the killed job may train a 2D or an image model: their step counts differ
    steps = cfg[training_key({"kind": "model", "dataset": cfg["datasets"][dataset]})]["steps"]
    assert f"resumed from {checkpoint.relative_to(workdir)} at step {step}/{steps}" in log
    for seed in seeds_done:  # Snakemake deleted their train/ folders; they resume at their end, no step run again
        assert f"resumed from {checkpoint.parent.relative_to(workdir)}/{seed}.pt at step {steps}/{steps}" in log, seed
    assert not checkpoint.parent.exists()
    assert finished and all(p.stat().st_mtime_ns == t for p, t in finished.items()), "finished training was redone"
    print(f"\nresume saved {step}/{steps} training steps of {run_dir.relative_to(workdir)} (and all of its run set's "
          f"finished seeds {seeds_done}) and kept {len(finished)} finished training run(s): "
          f"{sorted(str(p.parent.relative_to(workdir)) for p in finished)}")

    for target in IDENTITY_TARGETS:
        straight, resumed = (pd.read_csv(d / target).sort_values(KEYS).reset_index(drop=True)
                             for d in (ci_suite, workdir))
        assert len(resumed) > 0 and straight[KEYS].equals(resumed[KEYS]), target
        assert (straight["value"].to_numpy() == resumed["value"].to_numpy()).all(), f"{target} differs after the resume"
        assert straight["config_hash"].equals(resumed["config_hash"]), target
        assert set(resumed["device"]) == {"cpu"}, target  # every row says where its model was trained
