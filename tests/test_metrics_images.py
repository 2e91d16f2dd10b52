"""Image evaluation glue (rpd.evaluate, rpd.metrics.images): the [−1, 1] → uint8 mapping, the class each sample was generated for
(sample i is class i mod C) as the pipeline saves it, and CW-1WD on labels that matter. Fixtures are in the form
the pipeline writes: uint8 N×C×H×W images with labels ``y`` in its run set's ``samples/seed<k>/<sampler>-K<k>.npz``."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mmd_reference import features, fixed_feature_net, kid_reference
from rpd.config import config_hash
from rpd.diffusion import DiffusionSpec, sample, sample_labels
from rpd.evaluate import METRIC_COLUMNS, PROVENANCE_COLUMNS, evaluate_run, evaluate_runs
from rpd.io import load_npz, save_npz
from rpd.layout import samples_dir
from rpd.metrics.images import classwise_w1, image_w1
from rpd.metrics.kid import classifier_accuracy, load_feature_net
from rpd.schedule import make_sampler
from rpd.stages import _save_samples, images_to_model, model_to_images

CLASSES, N, SHAPE = 10, 30, (1, 8, 8)
LEVELS = np.array([-1.0, -0.5, 0.0, 0.5])  # model space; as uint8: 0, 64, 128, 191
DATASET = {"name": "fmnist-8", "kind": "fmnist", "resolution": 8, "n_eval": N}
KID = {"extractor": "feature-net", "subset_size": 15, "subsets": 4, "inception_weights": None}


def class_images() -> np.ndarray:
    """One model-space image per class: class c is the level pattern shifted by c (well separated classes)."""
    d = int(np.prod(SHAPE))
    return np.stack([LEVELS[(c + np.arange(d) // 3) % len(LEVELS)].reshape(SHAPE) for c in range(CLASSES)])


class ClassOracle(nn.Module):
    """A denoiser that knows the answer: its ε prediction makes x̂₀ exactly the image of the sample's class."""

    def __init__(self, targets: np.ndarray, alphas_cumprod: torch.Tensor) -> None:
        super().__init__()
        self.targets = torch.from_numpy(targets).float()
        self.alphas_cumprod = alphas_cumprod

    def forward(self, r, t, extra, y):
        abar = self.alphas_cumprod[t].view(-1, 1, 1, 1)
        return (r - abar.sqrt() * self.targets[y]) / (1 - abar).sqrt()


def run_config(seed: int = 0) -> dict:
    return {"suite": "test", "kind": "model", "dataset": DATASET, "size": "std", "seed": seed, "T": 1000,
            "beta_schedule": "linear", "device": "cpu", "n_eval": N, "sampling": [["ddim", 1], ["ddim", 3]], "kid": KID,
            "model": {"name": "ddpm", "family": "ddpm", "target": "eps", "aux": "none"}}


@pytest.fixture()
def run_folder(tmp_path):
    """A run folder as the pipeline leaves it after sampling: config, train summary, samples; plus the dataset's
    reference.npz (uint8 images of the N balanced classes) and a feature net."""
    torch.set_num_threads(1)
    run = run_config()
    run_dir = tmp_path / "results/test/fmnist-8/ddpm-std/train/seed0"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(run))
    (run_dir / "train_summary.json").write_text(json.dumps({"parameters": 1, "train_seconds": 12.5}))
    spec = DiffusionSpec.from_run_config(run)
    net = ClassOracle(class_images(), make_sampler("ddim", 1000, "linear", "eps", 1).alphas_cumprod)
    for sampler, steps in run["sampling"]:
        x = sample(spec, net, None, N, SHAPE, sampler, steps, seed=0, batch_size=7, num_classes=CLASSES)
        _save_samples(run, sampler, steps, run_dir, x, seconds=0.5)
    y_ref = np.random.default_rng(0).permutation(np.arange(N) % CLASSES)  # another order than the samples'
    reference = tmp_path / "results/test/fmnist-8/reference.npz"
    save_npz(reference, x=model_to_images(class_images()[y_ref]), y=y_ref)
    feature_net = fixed_feature_net(tmp_path / "results/test/fmnist-8/feature-net/model.pt", 1)
    return run_dir, reference, feature_net


def test_model_to_images_maps_minus_one_one_onto_0_255():
    x = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.2])
    out = model_to_images(x)
    assert out.dtype == np.uint8
    assert out.tolist() == [0, 0, 64, 128, 191, 255, 255]  # clamped, (x + 1) / 2 · 255, rounded


def test_images_to_model_maps_0_255_onto_minus_one_one_and_back():
    pixels = np.arange(256, dtype=np.uint8)
    x = images_to_model(pixels)
    assert x.dtype == torch.float32
    assert (x[0].item(), x[255].item()) == (-1.0, 1.0) and x[128].item() == pytest.approx(0.0039216, abs=1e-6)
    assert model_to_images(x.numpy()).tolist() == pixels.tolist()  # what training sees is what was saved


def test_sample_labels_cycle_through_the_classes():
    assert sample_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert sample_labels(5, 0) is None


def test_saved_samples_are_uint8_images_of_the_class_they_were_generated_for(run_folder):
    run_dir, _, _ = run_folder
    expected_uint8 = model_to_images(class_images())
    for name in ("ddim-K1", "ddim-K3"):
        saved = load_npz(samples_dir(run_dir) / f"{name}.npz")
        assert saved["x"].dtype == np.uint8 and saved["x"].shape == (N, *SHAPE)
        assert saved["y"].tolist() == [i % CLASSES for i in range(N)]
        # the oracle's x̂₀ is exact, so each saved image is its label's class image, quantised
        assert np.abs(saved["x"].astype(int) - expected_uint8[saved["y"]].astype(int)).max() <= 1
        assert set(np.unique(saved["x"])) <= {0, 1, 63, 64, 65, 127, 128, 129, 190, 191, 192}


def test_evaluate_run_scores_pipeline_samples_against_the_reference(run_folder, tmp_path):
    """Samples of the right classes, saved and scored as the pipeline does: 1WD and CW-1WD ≈ 0 (quantisation
    only), and the KID row is the NumPy MMD² of the saved images' features with the run's seed."""
    run_dir, reference, feature_net = run_folder
    frame = evaluate_run(run_dir, reference, tmp_path / "metrics.csv", feature_net)
    assert pd.read_csv(tmp_path / "metrics.csv")["value"].tolist() == pytest.approx(frame["value"].tolist())
    values = frame.set_index(["sampler", "steps", "metric"])["value"]
    one_level = 1 / 255 * np.sqrt(np.prod(SHAPE))  # every pixel off by one uint8 level
    for steps in (1, 3):
        assert values[("ddim", steps, "1wd")] < one_level
        assert values[("ddim", steps, "cw1wd")] < one_level
        saved, ref = load_npz(samples_dir(run_dir) / f"ddim-K{steps}.npz"), load_npz(reference)
        net = load_feature_net(feature_net)
        expected, _ = kid_reference(features(net, saved["x"]), features(net, ref["x"]), 15, 4, seed=0)
        assert values[("ddim", steps, "kid")] == pytest.approx(expected, rel=1e-4)
        # the sanity rows: the net's accuracy on the samples (against the class each was drawn for), its ratio to
        # the net's accuracy on real images (0.5 in its summary), and the share outside the data range as saved
        accuracy = classifier_accuracy(str(feature_net), saved["x"], saved["y"], 0)
        assert values[("ddim", steps, "class_accuracy")] == pytest.approx(accuracy)
        assert values[("ddim", steps, "class_accuracy_ratio")] == pytest.approx(accuracy / 0.5)
        assert values[("ddim", steps, "out_of_range")] == pytest.approx(float(saved["out_of_range"]))
    label = "rpd-feature-net (classification, acc 0.500 on fixture images)"
    assert set(frame["extractor"][frame["metric"] == "kid"]) == {label}
    assert (frame["extractor"][frame["metric"] != "kid"] == "").all()


def test_evaluate_run_rows_name_the_run_and_follow_the_resolved_config(run_folder, tmp_path):
    """Every row names its run as config.json does (what collect and the report group by); a resolved config
    passed by the workflow decides which sample files are scored and the names, config_hash stays config.json's."""
    run_dir, reference, feature_net = run_folder
    start = time.perf_counter()
    frame = evaluate_run(run_dir, reference, None, feature_net)
    elapsed = time.perf_counter() - start
    # each (sampler, K)'s scoring time, measured within this call
    assert frame.groupby(["sampler", "steps"])["eval_seconds"].first().between(0, elapsed).all(), elapsed
    ids = frame[["suite", "dataset", "model", "family", "size", "seed", "n", "parameters"]].drop_duplicates()
    assert ids.to_dict("records") == [{"suite": "test", "dataset": DATASET["name"], "model": "ddpm", "family": "ddpm",
                                      "size": "std", "seed": 0, "n": N, "parameters": 1}]
    resolved = run_config() | {"sampling": [["ddim", 3]], "model": {**run_config()["model"], "name": "ddpm_twin"}}
    only = evaluate_run(run_dir, reference, None, feature_net, run=resolved)
    assert set(zip(only["sampler"], only["steps"])) == {("ddim", 3)} and set(only["model"]) == {"ddpm_twin"}
    assert set(only["config_hash"]) == set(frame["config_hash"]) == {config_hash(run_config())}
    # metrics.csv's columns in order; the training and sampling times the run folder records; the extractor on
    # KID rows only
    assert list(frame.columns) == METRIC_COLUMNS + PROVENANCE_COLUMNS
    assert set(frame["train_seconds"]) == {12.5} and set(frame["sample_seconds"]) == {0.5}
    kid_rows = frame["metric"] == "kid"
    assert (frame.loc[~kid_rows, "extractor"] == "").all() and kid_rows.sum() == 2
    assert frame.loc[kid_rows, "extractor"].str.startswith("rpd-feature-net (").all()


def test_a_run_sets_evaluation_numbers_the_rows_of_all_its_seeds_in_one_frame(run_folder, tmp_path):
    run_dir, reference, feature_net = run_folder
    seed1 = run_dir.parent / "seed1"
    shutil.copytree(run_dir, seed1)
    shutil.copytree(samples_dir(run_dir), samples_dir(seed1))
    (seed1 / "config.json").write_text(json.dumps(run_config(seed=1)))
    frame = evaluate_runs([run_dir, seed1], reference, tmp_path / "m.csv", feature_net)
    assert list(frame.index) == list(range(len(frame))) and frame["seed"].tolist() == sorted(frame["seed"])
    assert set(frame["seed"]) == {0, 1} and pd.read_csv(tmp_path / "m.csv")["seed"].tolist() == frame["seed"].tolist()


def test_evaluate_run_with_the_inception_extractor_needs_no_feature_net(run_folder, monkeypatch):
    """KID through torch-fidelity's InceptionV3 (its weights from the config; no download here, so KID itself is
    recorded): no feature net, so no class accuracy; the extractor runs on the device rpd.devices selects."""
    from rpd import devices
    from rpd.metrics import kid as kid_module

    calls, device = [], object()  # stands for the device select_device chose
    monkeypatch.setattr(kid_module, "kid", lambda x, ref, extractor, weights, subset_size, subsets, seed, where:
                        calls.append((extractor, weights, where)) or (0.25, 0.0))
    monkeypatch.setattr(devices, "select_device", lambda requested, env=None: device)
    run_dir, reference, _ = run_folder
    inception = {**KID, "extractor": "inception-v3-compat", "inception_weights": "weights/pt_inception.pth"}
    frame = evaluate_run(run_dir, reference, None, None, run=run_config() | {"kid": inception})
    assert calls == [("inception-v3-compat", "weights/pt_inception.pth", device)] * 2
    kid_rows = frame[frame["metric"] == "kid"]
    assert set(kid_rows["extractor"]) == {"inception-v3-compat"} and set(kid_rows["value"]) == {0.25}
    assert not {"class_accuracy", "class_accuracy_ratio"} & set(frame["metric"])


def test_evaluate_run_sees_labels_shifted_by_one_class(run_folder, tmp_path):
    """If the saved labels were those of class (y + 1) mod C, CW-1WD is the mean distance between the images of
    neighbouring classes, while 1WD (label-blind) does not move."""
    run_dir, reference, feature_net = run_folder
    path = samples_dir(run_dir) / "ddim-K1.npz"
    saved = load_npz(path)
    save_npz(path, x=saved["x"], y=(saved["y"] + 1) % CLASSES, seconds=saved["seconds"])
    values = evaluate_run(run_dir, reference, tmp_path / "m.csv", feature_net).set_index(
        ["sampler", "steps", "metric"])["value"]
    images = model_to_images(class_images()).reshape(CLASSES, -1).astype(float) / 255
    neighbours = np.mean([np.linalg.norm(images[c] - images[(c - 1) % CLASSES]) for c in range(CLASSES)])
    assert values[("ddim", 1, "cw1wd")] == pytest.approx(neighbours, abs=0.05)
    assert values[("ddim", 1, "cw1wd")] > 20 * values[("ddim", 3, "cw1wd")]
    assert values[("ddim", 1, "1wd")] == pytest.approx(values[("ddim", 3, "1wd")], abs=0.05)


# --------------------------------------------------------------------------- CW-1WD on labels that matter


def _two_classes(n_per_class: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Black images (class 0) and white images (class 1), a few pixels jittered, uint8 N×1×4×4."""
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros((n_per_class, 1, 4, 4)), np.full((n_per_class, 1, 4, 4), 255)])
    x = np.clip(x + rng.integers(-3, 4, x.shape), 0, 255).astype(np.uint8)
    return x, np.repeat([0, 1], n_per_class)


def test_classwise_w1_is_zero_for_correct_labels_and_the_class_distance_for_swapped_ones():
    x, y = _two_classes()
    assert classwise_w1(x, y, x, y) == pytest.approx(0, abs=1e-12)
    swapped = classwise_w1(x, 1 - y, x, y)  # every black image labelled white and vice versa
    assert swapped == pytest.approx(np.sqrt(16), abs=0.1)  # black to white: √(C·H·W) in [0, 1] pixels
    assert image_w1(x, x) == pytest.approx(0, abs=1e-12)  # 1WD ignores labels


def test_classwise_w1_grows_with_the_share_of_wrong_labels():
    x, y = _two_classes(10)
    values = []
    for wrong in (0, 2, 5):  # that many images of each class take the other class's label
        y_gen = y.copy()
        y_gen[:wrong], y_gen[10: 10 + wrong] = 1, 0
        values.append(classwise_w1(x, y_gen, x, y))
    assert values[0] == pytest.approx(0, abs=1e-12) and values[0] < values[1] < values[2]
    # a fraction f of each class's images moved to the other class costs about f · √16
    assert values[2] == pytest.approx(0.5 * 4, rel=0.1)


def test_shuffled_labels_are_seen_by_classwise_w1():
    x, y = _two_classes(10)
    shuffled = np.random.default_rng(3).permutation(y)
    assert classwise_w1(x, shuffled, x, y) > 1.0
