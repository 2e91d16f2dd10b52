"""KID (rpd.metrics.kid) against an independent computation: the unbiased polynomial-kernel MMD² in NumPy on the
features of a feature net with fixed weights, compared with what rpd.metrics.kid and the evaluation glue
(rpd.evaluate.image_metrics) get through torch-fidelity."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from mmd_reference import features, fixed_feature_net, kid_reference, poly_mmd2_unbiased
from rpd.evaluate import image_metrics
from rpd.metrics.kid import kid, load_feature_net


def _images(seed: int, n: int, channels: int, top: int) -> np.ndarray:
    """uint8 N×C×8×8 images, uniform pixels in [0, top] (two values of top: two distributions)."""
    return np.random.default_rng(seed).integers(0, top + 1, (n, channels, 8, 8)).astype(np.uint8)


@pytest.fixture(scope="module", params=[1, 3], ids=["grey", "rgb"])
def fixed_net(request, tmp_path_factory):
    torch.set_num_threads(1)
    path = fixed_feature_net(tmp_path_factory.mktemp(f"fnet{request.param}") / "model.pt", request.param)
    return path, load_feature_net(path), request.param


def test_poly_mmd2_reference_is_zero_in_expectation_and_positive_for_a_shift():
    """The reference itself: unbiased MMD² of two draws of one distribution is ≈ 0 (either sign), a mean shift
    makes it clearly positive."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
    assert abs(poly_mmd2_unbiased(a, b)) < 0.02
    assert poly_mmd2_unbiased(a, b + 1.0) > 0.5


@pytest.mark.parametrize("subset_size, subsets, seed", [(20, 7, 3), (30, 4, 11)])
def test_kid_equals_numpy_mmd2_over_the_same_subsets(fixed_net, subset_size, subsets, seed):
    path, net, channels = fixed_net
    a, b = _images(1, 40, channels, 255), _images(2, 40, channels, 160)
    mean, sd = kid(a, b, "feature-net", str(path), subset_size, subsets, seed)
    ref_mean, ref_sd = kid_reference(features(net, a), features(net, b), subset_size, subsets, seed)
    assert ref_mean > 5 * ref_sd > 0  # different distributions, so a mix-up of the sets or subsets shows
    assert mean == pytest.approx(ref_mean, rel=1e-4)
    assert sd == pytest.approx(ref_sd, rel=1e-3)


def test_kid_on_whole_sets_is_the_mmd2_of_the_sets_whatever_the_seed(fixed_net):
    """Subsets of size N are permutations of the sets: every seed gives the full-set MMD², with sd 0."""
    path, net, channels = fixed_net
    a, b = _images(3, 30, channels, 255), _images(4, 30, channels, 200)
    expected = poly_mmd2_unbiased(features(net, a), features(net, b))
    for seed in (0, 9):
        mean, sd = kid(a, b, "feature-net", str(path), None, 3, seed)  # None: min(1000, N) = N
        assert mean == pytest.approx(expected, rel=1e-4)
        assert sd < 1e-4 * abs(expected)  # float32 rounding only
    assert kid(b, a, "feature-net", str(path), None, 1, 0)[0] == pytest.approx(expected, rel=1e-4)  # symmetric


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_difference(fixed_net):
    path, _, channels = fixed_net
    ref = _images(5, 60, channels, 255)
    values = [kid(_images(6, 60, channels, top), ref, "feature-net", str(path), 30, 10, 0)[0]
              for top in (255, 160, 60)]
    assert abs(values[0]) < values[1] / 5 and values[1] < values[2]


def test_image_metrics_kid_uses_the_configured_subsets_and_the_run_seed(fixed_net):
    """The evaluation glue passes kid.subset_size, kid.subsets and the run's seed on to torch-fidelity."""
    path, net, channels = fixed_net
    if channels != 1:
        pytest.skip("fmnist-shaped run: one channel")
    n, classes = 40, 10
    a, b = _images(7, n, 1, 255), _images(8, n, 1, 120)
    y = np.arange(n) % classes
    kid_cfg = {"extractor": "feature-net", "subset_size": 25, "subsets": 6, "inception_weights": None}
    dataset = {"name": "fmnist-8", "kind": "fmnist", "resolution": 8}
    values = image_metrics({"x": a, "y": y}, {"x": b, "y": y}, dataset, kid_cfg, str(path), seed=5)
    expected, _ = kid_reference(features(net, a), features(net, b), 25, 6, 5)
    other_seed, _ = kid_reference(features(net, a), features(net, b), 25, 6, 0)
    assert abs(expected - other_seed) > 1e-3 * abs(expected)  # the seed matters at this subset size
    assert values["kid"] == pytest.approx(expected, rel=1e-4)


def test_feature_net_summary_states_its_task_size_and_accuracy(tmp_path):
    """The feature net's summary (shown in the report beside KID) names its task, its parameter count and what its
    accuracy was measured on, and a saved net loads back with the same outputs."""
    from rpd.metrics.kid import save_feature_net, train_feature_net

    torch.set_num_threads(1)
    x = _images(0, 40, 1, 255)
    started = time.perf_counter()
    net, summary = train_feature_net(x, None, x[:8], None, steps=2, seed=0, batch_size=8)
    assert 0.0 < summary["train_seconds"] <= time.perf_counter() - started  # the training's own wall time
    assert summary["task"] == "rotation" and summary["num_outputs"] == 4 and summary["in_channels"] == 1
    assert summary["parameters"] == sum(p.numel() for p in net.parameters()) > 0
    assert summary["accuracy_on"] == "8 reference images" and 0.0 <= summary["accuracy"] <= 1.0
    save_feature_net(tmp_path / "model.pt", net, summary)
    loaded = load_feature_net(tmp_path / "model.pt")
    probe = torch.from_numpy(x[:4]).float() / 127.5 - 1
    assert torch.allclose(loaded.features(probe), net.eval().features(probe))


@pytest.mark.parametrize(("steps", "logged"), [(7, [1, 2, 3, 4, 5, 6, 7]), (10, [2, 4, 6, 8, 10])])
def test_feature_net_training_logs_each_fifth_of_its_steps_and_records_its_settings(capsys, steps, logged):
    """The KID job's progress: a line on stderr every fifth of the steps (every step below 10) and at the last; the
    summary records the steps, the batch size (default 128) and the classes the head tells apart."""
    from rpd.metrics.kid import train_feature_net

    torch.set_num_threads(1)
    x, y = _images(0, 24, 1, 255), np.arange(24) % 3
    _, summary = train_feature_net(x, y, x[:6], y[:6], steps=steps, seed=0)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" loss ")[0] for line in err] == [f"[feature-net] step {k}/{steps}" for k in logged]
    assert all(np.isfinite(float(line.split(" loss ")[1])) for line in err)
    assert (summary["steps"], summary["batch_size"], summary["num_outputs"]) == (steps, 128, 3)
    assert summary["task"] == "classification" and summary["in_channels"] == 1


def test_rotation_task_turns_each_image_by_its_own_number_of_quarter_turns():
    # the feature net of an unlabelled dataset learns to tell these four rotations apart (rpd.metrics.kid)
    from rpd.metrics.kid import _rotated

    x = torch.arange(2 * 1 * 3 * 3, dtype=torch.float32).reshape(2, 1, 3, 3)
    turned = _rotated(torch.cat([x, x]), torch.tensor([0, 1, 2, 3]))
    for i, q in enumerate([0, 1, 2, 3]):
        expected = np.rot90(torch.cat([x, x])[i].numpy(), q, axes=(1, 2))
        np.testing.assert_array_equal(turned[i].numpy(), expected)


def test_rotation_batches_draw_all_four_turns_from_the_training_generator_alone():
    """Unlabelled images: each is turned 0-3 quarter turns, its target the number; the draw follows the training
    run's own generator (seeded by the data seed), not torch's global state."""
    from rpd.metrics.kid import _rotated, _task_batch

    x = torch.arange(64 * 9, dtype=torch.float32).reshape(64, 1, 3, 3)
    inputs, k = _task_batch(x, None, torch.Generator().manual_seed(0))
    assert set(k.tolist()) == {0, 1, 2, 3} and torch.equal(inputs, _rotated(x, k))
    torch.manual_seed(123)  # another global state
    assert torch.equal(_task_batch(x, None, torch.Generator().manual_seed(0))[1], k)
    labels = torch.arange(64) % 10
    assert _task_batch(x, labels, torch.Generator())[1] is labels  # labelled: the classes themselves


def test_the_kid_extractor_needs_the_feature_net_and_sees_grey_images_as_rgb():
    from rpd.metrics.kid import FeatureNetExtractor, UInt8Images

    with pytest.raises(ValueError, match=r"^rpd-feature-net needs feature_extractor_weights_path \(the trained "
                                         r"feature net's model.pt\)$"):
        FeatureNetExtractor("rpd-feature-net", ["features"])
    grey = np.arange(2 * 16, dtype=np.uint8).reshape(2, 1, 4, 4)
    item = UInt8Images(grey)[1]
    assert item.shape == (3, 4, 4) and all(torch.equal(item[c], torch.from_numpy(grey[1, 0])) for c in range(3))
    rgb = np.arange(2 * 48, dtype=np.uint8).reshape(2, 3, 4, 4)
    assert torch.equal(UInt8Images(rgb)[0], torch.from_numpy(rgb[0])) and len(UInt8Images(rgb)) == 2


def test_the_feature_net_is_three_halving_3x3_levels_pooled_to_128_features(tmp_path):
    """FeatureNet's docstring: stride-2 3×3 convolutions (32, 64, 128 channels), global average pool; loaded for
    KID it is frozen."""
    from rpd.metrics.kid import FEATURE_DIM, FeatureNet, load_feature_net, save_feature_net

    net = FeatureNet(1, 10)
    convs = [m for m in net.body if isinstance(m, torch.nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3)]
    assert all(c.stride == (2, 2) and c.padding == (1, 1) for c in convs)
    for side in (8, 28):  # any size: pooled to one vector of FEATURE_DIM
        assert net.features(torch.zeros(2, 1, side, side)).shape == (2, FEATURE_DIM)
    save_feature_net(tmp_path / "model.pt", net, {"in_channels": 1, "num_outputs": 10})
    loaded = load_feature_net(tmp_path / "model.pt")
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())


def test_every_option_rpd_gives_torch_fidelity_is_one_it_reads():
    """torch-fidelity takes **kwargs: a misspelt option would be ignored without a word."""
    import torch_fidelity.defaults

    from rpd.metrics.kid import FEATURE_NET, fidelity_kwargs

    for extractor, name in (("feature-net", FEATURE_NET), ("inception-v3-compat", "inception-v3-compat")):
        kwargs = fidelity_kwargs(extractor, "w.pt", 10, None, 2, 0)
        assert set(kwargs) <= set(torch_fidelity.defaults.DEFAULTS) and kwargs["feature_extractor"] == name
        assert (kwargs["verbose"], kwargs["cache"], kwargs["save_cpu_ram"], kwargs["batch_size"]) == (False, False,
                                                                                                      True, 250)


def test_kid_runs_the_extractor_on_the_device_and_refuses_a_non_finite_result(monkeypatch):
    import torch_fidelity

    seen = {}

    def calculate_metrics(input1, input2, **kwargs):
        seen.update(kwargs)
        return {"kernel_inception_distance_mean": 0.1, "kernel_inception_distance_std": std}

    monkeypatch.setattr(torch_fidelity, "calculate_metrics", calculate_metrics)
    images = _images(0, 4, 1, 255)
    std = 0.01
    assert kid(images, images, "feature-net", "w.pt", 2, 3, 7, torch.device("cuda", 0)) == (0.1, 0.01)
    assert seen["cuda"] is True and seen["rng_seed"] == 7 and seen["kid_subsets"] == 3
    std = float("nan")  # torch-fidelity's std of one subset
    with pytest.raises(ValueError, match=r"^KID is not finite \(0\.1, nan\)$"):
        kid(images, images, "feature-net", "w.pt", 2, 1, 7)


def test_fidelity_kwargs_subset_defaults_to_min_1000_n_and_device_to_the_cpu():
    """torch-fidelity's subset size is min(1000, N) unless the suite sets one; features on the CPU by default."""
    from rpd.metrics.kid import fidelity_kwargs

    sizes = {n: fidelity_kwargs("feature-net", "w.pt", n, None, 3, 7)["kid_subset_size"] for n in (999, 1000, 5000)}
    assert sizes == {999: 999, 1000: 1000, 5000: 1000}
    chosen = fidelity_kwargs("feature-net", "w.pt", 5000, 250, 3, 7)
    assert chosen["kid_subset_size"] == 250 and chosen["kid_subsets"] == 3 and chosen["rng_seed"] == 7
    assert chosen["cuda"] is False and chosen["feature_extractor_weights_path"] == "w.pt"
