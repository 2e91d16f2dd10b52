"""rpd.stages glue on its own: a run set's sampling job draws each seed's samples with that seed's own run config,
run folder and prior (rpd.runsets: one job samples every seed of a run set)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from rpd import stages
from rpd.config import load_config
from rpd.data.specs import num_classes
from rpd.io import load_npz
from rpd.layout import sample_file
from rpd.metrics.kid import classifier_accuracy
from rpd.runs import Run, run_config
from suite import REPO


def test_sample_model_runs_samples_each_seed_with_its_own_folder_and_prior(monkeypatch):
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda run, run_dir, prior: calls.append((run, run_dir, prior)))
    runs = [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    stages.sample_model_runs(runs, ["r/seed0", "r/seed1", "r/seed2"], ["p/seed0", None, "p/seed2"])
    assert calls == [({"seed": 0}, "r/seed0", "p/seed0"), ({"seed": 1}, "r/seed1", None),
                     ({"seed": 2}, "r/seed2", "p/seed2")]


def test_a_run_sets_training_keeps_each_seeds_checkpoint_until_every_seed_is_trained(monkeypatch):
    """A killed job's rerun resumes its finished seeds at their end (tests/test_stages_run_sets.py kills a prior's
    run set): the denoisers' run set keeps the checkpoints the same way, then discards them all."""
    calls = []
    monkeypatch.setattr(stages, "train_model_run", lambda run, train, prior, run_dir, keep_checkpoint=False:
                        calls.append((run["seed"], train, prior, run_dir, keep_checkpoint)))
    monkeypatch.setattr(stages, "discard_checkpoint", lambda path: calls.append(("discard", str(path))))
    stages.train_model_runs([{"seed": 0}, {"seed": 1}], "train.npz", ["p/seed0", None], ["r/seed0", "r/seed1"])
    assert calls == [(0, "train.npz", "p/seed0", "r/seed0", True), (1, "train.npz", None, "r/seed1", True),
                     ("discard", str(stages.checkpoint_file("r/seed0"))),
                     ("discard", str(stages.checkpoint_file("r/seed1")))]


def test_sample_model_runs_refuses_lists_of_different_lengths(monkeypatch):
    # a missing folder would silently leave a seed unsampled (and its evaluation failing far from the cause)
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda *args: calls.append(args))
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}, {"seed": 1}], ["r/seed0"], [None, None])
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}], ["r/seed0"], [None, None])


def _feature_net_inputs(folder, labelled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """64 random uint8 8×8 training images of 4 classes and the first 16 as reference, as the data job saves them
    (labels only when ``labelled``)."""
    x = np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8)
    y = np.arange(64) % 4
    np.savez(folder / "train.npz", x=x, **({"y": y} if labelled else {}))
    np.savez(folder / "reference.npz", x=x[:16], **({"y": y[:16]} if labelled else {}))
    return x, y


@pytest.mark.parametrize("kind, labelled, task, held_out", [
    ("fmnist", True, "classification", "test split"), ("folder", False, "rotation", "not in the training set")])
def test_the_feature_net_summary_says_its_task_and_the_images_its_accuracy_is_on(tmp_path, kind, labelled, task,
                                                                                   held_out):
    """What a KID row names as its extractor (rpd.evaluate.kid_extractor_label) comes from this summary."""
    x, y = _feature_net_inputs(tmp_path, labelled)
    stages.train_feature_net_run({"name": "toy", "kind": kind, "data_seed": 0}, {"feature_net_steps": 3},
                                 tmp_path / "train.npz", tmp_path / "reference.npz", tmp_path / "net")
    summary = json.loads((tmp_path / "net" / "summary.json").read_text())
    assert summary["task"] == task and summary["accuracy_on"] == f"16 reference images (held out: {held_out})"
    if labelled:  # its accuracy is the classifier's on the labelled reference images
        assert summary["accuracy"] == pytest.approx(classifier_accuracy(tmp_path / "net" / "model.pt", x[:16], y[:16], 0))


def test_an_image_prior_job_fits_p_z_given_y_on_the_training_labels(tmp_path):
    """Stage 1 on class-conditional images: p̂(z|y) of each class has the mean of that class's posterior means
    (the moments of its aggregate posterior, rpd.priors.conv), computed from the labels in train.npz."""
    run = run_config(load_config(REPO / "benchmarks" / "ci.yaml"), Run("prior", "fmnist-8", "betavae_img", "std", 0))
    run["training"].update(steps=2, log_every=1, checkpoint_every=0)
    classes = num_classes(run["dataset"])
    rng = np.random.default_rng(0)
    y = np.arange(8 * classes) % classes
    x = np.clip(rng.normal(25 * y[:, None, None, None], 20, (len(y), 1, 8, 8)), 0, 255).astype(np.uint8)
    np.savez(tmp_path / "train.npz", x=x, y=y)
    stages.train_prior_run(run, tmp_path / "train.npz", tmp_path / "prior")
    prior = stages.load_prior(tmp_path / "prior" / "model.pt")
    assert not prior.training and not any(p.requires_grad for p in prior.parameters())  # frozen for stage 2
    with torch.no_grad():
        m = prior.posterior_params(stages.images_to_model(x), torch.from_numpy(y))[:, :prior.latent_dim].double()
    expected = torch.stack([m[torch.from_numpy(y == k)].mean(0) for k in range(classes)])
    assert torch.allclose(prior.latent_mean.double(), expected, atol=1e-5)
    assert not torch.allclose(expected[0], expected[-1], atol=1e-3)  # the classes' latents differ
    # its own samples (sampler 'prior', K = 0): sample i drawn for class i mod C, timed within the job
    start = time.perf_counter()
    stages.sample_prior_run({**run, "n_eval": 2 * classes}, tmp_path / "prior")
    elapsed = time.perf_counter() - start
    saved = load_npz(sample_file(tmp_path / "prior", "prior", 0))
    assert saved["x"].dtype == np.uint8 and saved["x"].shape == (2 * classes, 1, 8, 8)
    assert (saved["y"] == np.arange(2 * classes) % classes).all() and 0 < float(saved["seconds"]) <= elapsed


def test_the_feature_net_job_trains_on_the_selected_device_on_one_thread_and_logs_its_accuracy(tmp_path, monkeypatch,
                                                                                               capsys):
    from rpd.metrics import kid as kid_module

    threads, devices, cpu = [], [], torch.device("cpu")
    monkeypatch.setattr(stages.torch, "set_num_threads", threads.append)
    monkeypatch.setattr(stages, "select_device", lambda requested, env=None: cpu)
    train = kid_module.train_feature_net
    monkeypatch.setattr(kid_module, "train_feature_net", lambda *a, **kw: devices.append(kw["device"]) or train(*a, **kw))
    _feature_net_inputs(tmp_path)
    stages.train_feature_net_run({"name": "toy", "kind": "fmnist", "data_seed": 0}, {"feature_net_steps": 3},
                                 tmp_path / "train.npz", tmp_path / "reference.npz", tmp_path / "net")
    assert threads == [1] and devices == [cpu] and devices[0] is cpu
    accuracy = json.loads((tmp_path / "net" / "summary.json").read_text())["accuracy"]
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"[toy/feature-net] classification: accuracy {accuracy:.3f} on 16 reference images (held out: test split)")


def test_a_prior_run_set_refuses_lists_of_different_lengths(monkeypatch):
    calls = []
    monkeypatch.setattr(stages, "train_prior_run", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setattr(stages, "sample_prior_run", lambda *args: calls.append(args))
    with pytest.raises(ValueError):
        stages.train_prior_runs([{"seed": 0}, {"seed": 1}], "train.npz", ["r/seed0"])
    with pytest.raises(ValueError):
        stages.train_prior_runs([{"seed": 0}], "train.npz", ["r/seed0", "r/seed1"])


def test_model_samples_with_non_finite_values_are_not_saved_as_images():
    x = np.array([[0.0, np.nan], [np.inf, 1.0], [-np.inf, -1.0]])
    with pytest.raises(ValueError, match=r"^samples contain 3 non-finite values; refusing to save them$"):
        stages.model_to_images(x)


def test_training_data_in_model_space_with_labels_only_for_class_conditional_images(tmp_path):
    x = np.array([[[[0, 255]]], [[[128, 64]]]], dtype=np.uint8)
    np.savez(tmp_path / "images.npz", x=x)
    unlabelled = stages.load_training_data(tmp_path / "images.npz", {"kind": "butterflies", "resolution": 2})
    assert torch.allclose(unlabelled, stages.images_to_model(x))  # butterflies: no labels
    np.savez(tmp_path / "labelled.npz", x=x, y=np.array([3, 1]))
    images, labels = stages.load_training_data(tmp_path / "labelled.npz", {"kind": "fmnist", "resolution": 2})
    assert torch.equal(images, stages.images_to_model(x)) and labels.tolist() == [3, 1]
    points = np.array([[0.5, -1.0], [2.0, 3.0]])
    np.savez(tmp_path / "points.npz", x=points)
    assert torch.equal(stages.load_training_data(tmp_path / "points.npz", {"kind": "grid"}), torch.from_numpy(points))
