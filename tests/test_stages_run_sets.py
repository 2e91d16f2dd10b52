"""rpd.stages' run-set jobs: every seed of a run set in one process, each seed's result as if it ran alone.

A training, sampling or evaluation job processes its run set's seeds one after the other (rpd.runsets); a seed's
model and samples must not depend on which seeds the process handled before it (global RNG state, caches).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rpd.checkpoint import load_state
from rpd.config import load_config
from rpd.io import load_npz
from rpd.layout import checkpoint_file, run_folder, sample_file
from rpd.runs import Run, run_config
from rpd.stages import make_dataset, sample_model_runs, train_model_runs, train_prior_runs
from rpd.training import Checkpoint
from suite import REPO

DATASET = "dino-grid-0.1"


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> tuple[dict, Path]:
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    for block in ("prior_training", "training"):
        cfg[block].update(steps=60, log_every=30)
    cfg["datasets"][DATASET]["n_train"] = 400
    data = tmp_path_factory.mktemp("data")
    make_dataset(cfg["datasets"][DATASET], 64, str(data / "train.npz"), str(data / "reference.npz"))
    return cfg, data / "train.npz"


def _runs(cfg: dict, kind: str, name: str, seeds: list[int]) -> list[dict]:
    runs = [run_config(cfg, Run(kind, DATASET, name, "std", s)) for s in seeds]
    for run in runs:
        run["sampling"] = [["ddim", 3]]
        run["n_eval"] = 64
    return runs


def _dirs(root: Path, name: str, seeds: list[int]) -> list[Path]:
    return [root / run_folder(f"{DATASET}/{name}-std", s) for s in seeds]


def _same_model(a: Path, b: Path) -> bool:
    sa, sb = load_state(a / "model.pt")["state_dict"], load_state(b / "model.pt")["state_dict"]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_seed_trained_after_others_equals_it_trained_alone(suite, tmp_path):
    cfg, train = suite
    together, alone = tmp_path / "together", tmp_path / "alone"
    priors = _runs(cfg, "prior", "vqvae", [0, 1])
    train_prior_runs(priors, train, _dirs(together, "vqvae", [0, 1]))
    train_prior_runs(priors[1:], train, _dirs(alone, "vqvae", [1]))
    models = _runs(cfg, "model", "rpd", [0, 1])
    prior_models = [d / "model.pt" for d in _dirs(together, "vqvae", [0, 1])]
    train_model_runs(models, train, prior_models, _dirs(together, "rpd", [0, 1]))
    train_model_runs(models[1:], train, prior_models[1:], _dirs(alone, "rpd", [1]))
    sample_model_runs(models, _dirs(together, "rpd", [0, 1]), prior_models)
    sample_model_runs(models[1:], _dirs(alone, "rpd", [1]), prior_models[1:])

    for name in ("vqvae", "rpd"):
        (first, second), (single,) = _dirs(together, name, [0, 1]), _dirs(alone, name, [1])
        assert _same_model(second, single), name
        assert not _same_model(first, second), name  # the seeds differ: the comparison can fail
        assert not checkpoint_file(second).exists() and not checkpoint_file(second).parent.exists()
    prior_x = [load_npz(sample_file(d, "prior", 0))["x"] for d in (_dirs(together, "vqvae", [1])[0],
                                                                   _dirs(alone, "vqvae", [1])[0])]
    assert np.array_equal(*prior_x)
    x = [load_npz(sample_file(d, "ddim", 3))["x"] for d in (_dirs(together, "rpd", [1])[0], _dirs(alone, "rpd", [1])[0])]
    assert np.array_equal(*x) and x[0].shape == (64, 2)


class Killed(Exception):
    """Stands in for SIGKILL: the job stops right after a checkpoint was written."""


def test_a_killed_run_set_training_resumes_each_seed_where_it_stopped(suite, tmp_path, monkeypatch, capsys):
    """Snakemake deletes the killed job's train/; the rerun resumes the finished seed at its end (no step left)
    and the interrupted one at its last checkpoint, and ends bit-identical to a job that ran straight through."""
    cfg, train = suite
    cfg = {**cfg, "prior_training": {**cfg["prior_training"], "checkpoint_every": 20}}
    runs = _runs(cfg, "prior", "vqvae", [0, 1])
    straight, killed = _dirs(tmp_path / "straight", "vqvae", [0, 1]), _dirs(tmp_path / "killed", "vqvae", [0, 1])
    train_prior_runs(runs, train, straight)
    assert not checkpoint_file(straight[0]).parent.exists()  # discarded once every seed is trained

    real_save, saved = Checkpoint.save, []

    def save(self, state):
        real_save(self, state)
        saved.append((self.path.stem, state["step"]))
        if saved[-1] == ("seed1", 40):
            raise Killed

    monkeypatch.setattr(Checkpoint, "save", save)
    with pytest.raises(Killed):
        train_prior_runs(runs, train, killed)
    assert saved == [("seed0", 20), ("seed0", 40), ("seed0", 60), ("seed1", 20), ("seed1", 40)]
    shutil.rmtree(killed[0].parent)  # what Snakemake does to an incomplete job's directory output
    saved.clear()
    capsys.readouterr()
    train_prior_runs(runs, train, killed)
    err = capsys.readouterr().err
    assert f"resumed from {checkpoint_file(killed[0])} at step 60/60" in err
    assert f"resumed from {checkpoint_file(killed[1])} at step 40/60" in err
    assert saved == [("seed1", 60)]  # seed 0 ran no step again, seed 1 only steps 41-60
    for a, b in zip(straight, killed, strict=True):
        assert _same_model(a, b)
        assert np.array_equal(load_npz(sample_file(a, "prior", 0))["x"], load_npz(sample_file(b, "prior", 0))["x"])
    assert not checkpoint_file(killed[0]).parent.exists()
