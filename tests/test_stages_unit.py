"""rpd.stages glue on its own: a run set's sampling job draws each seed's samples with that seed's own run config,
run folder and prior (rpd.runsets: one job samples every seed of a run set)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rpd import stages
from rpd.metrics.kid import classifier_accuracy


def test_sample_model_runs_samples_each_seed_with_its_own_folder_and_prior(monkeypatch):
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda run, run_dir, prior: calls.append((run, run_dir, prior)))
    runs = [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    stages.sample_model_runs(runs, ["r/seed0", "r/seed1", "r/seed2"], ["p/seed0", None, "p/seed2"])
    assert calls == [({"seed": 0}, "r/seed0", "p/seed0"), ({"seed": 1}, "r/seed1", None),
                     ({"seed": 2}, "r/seed2", "p/seed2")]


def test_sample_model_runs_refuses_lists_of_different_lengths(monkeypatch):
    # a missing folder would silently leave a seed unsampled (and its evaluation failing far from the cause)
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda *args: calls.append(args))
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}, {"seed": 1}], ["r/seed0"], [None, None])
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}], ["r/seed0"], [None, None])


@pytest.mark.parametrize("kind, labelled, task, held_out", [
    ("fmnist", True, "classification", "test split"), ("folder", False, "rotation", "not in the training set")])
def test_the_feature_net_summary_says_its_task_and_the_images_its_accuracy_is_on(tmp_path, kind, labelled, task,
                                                                                   held_out):
    """What a KID row names as its extractor (rpd.evaluate.kid_extractor_label) comes from this summary."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 1, 8, 8), dtype=np.uint8)
    y = np.arange(64) % 4
    labels = {"y": y} if labelled else {}
    np.savez(tmp_path / "train.npz", x=x, **labels)
    np.savez(tmp_path / "reference.npz", x=x[:16], **({"y": y[:16]} if labelled else {}))
    stages.train_feature_net_run({"name": "toy", "kind": kind, "data_seed": 0}, {"feature_net_steps": 3},
                                 tmp_path / "train.npz", tmp_path / "reference.npz", tmp_path / "net")
    summary = json.loads((tmp_path / "net" / "summary.json").read_text())
    assert summary["task"] == task and summary["accuracy_on"] == f"16 reference images (held out: {held_out})"
    if labelled:  # its accuracy is the classifier's on the labelled reference images
        assert summary["accuracy"] == pytest.approx(classifier_accuracy(tmp_path / "net" / "model.pt", x[:16], y[:16], 0))
