"""Image data, networks and metrics (rpd.data, rpd.nets.unet, rpd.metrics): Fashion-MNIST facts, loaders' errors, CW-1WD, KID equality."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rpd.data import fmnist
from rpd.data.errors import CorruptDataError, MissingDataError
from rpd.data.fmnist import DEBIAN_DIR, load_fmnist, locate_fmnist, read_idx
from rpd.data.imagefolder import load_butterflies, load_image_folder
from rpd.data.images import balanced_subset, make_fmnist, resize_area
from rpd.data.synthetic import write_synthetic_folder
from rpd.metrics.images import classwise_w1, image_w1
from suite import CI_SUITE

HAVE_FMNIST = (DEBIAN_DIR / "train-images-idx3-ubyte.gz").exists()
needs_fmnist = pytest.mark.skipif(not HAVE_FMNIST, reason="apt-get install dataset-fashion-mnist (make setup does)")


# --------------------------------------------------------------------------- Fashion-MNIST


@needs_fmnist
def test_fmnist_known_facts():
    x, y = load_fmnist("train")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [6000] * 10
    assert x.mean() / 255 == pytest.approx(0.2860, abs=5e-4)  # the published training-set pixel mean
    xt, yt = load_fmnist("test")
    assert xt.shape == (10000, 28, 28) and np.bincount(yt).tolist() == [1000] * 10


@needs_fmnist
def test_fmnist_dataset_is_balanced_resized_and_seeded():
    spec = {"folder": None, "n_train": 1000, "data_seed": 3, "resolution": 14}
    train, ref = make_fmnist(spec, 105)
    assert train["x"].shape == (1000, 1, 14, 14) and ref["x"].shape == (105, 1, 14, 14)
    assert np.bincount(train["y"]).tolist() == [100] * 10
    assert np.bincount(ref["y"]).tolist() == [11] * 5 + [10] * 5  # the first N mod 10 classes get one more
    again, _ = make_fmnist(spec, 105)
    assert np.array_equal(train["x"], again["x"])


def test_area_resize_averages_blocks():
    img = np.zeros((1, 4, 4), np.uint8)
    img[0, :2, :2] = 200  # one 2×2 block
    out = resize_area(img, 2)
    assert out.shape == (1, 1, 2, 2) and out[0, 0].tolist() == [[200, 0], [0, 0]]


def test_balanced_subset_refuses_too_few():
    with pytest.raises(CorruptDataError, match="class 1 has 1 items"):
        balanced_subset(np.array([0, 0, 0, 1]), 4, np.random.default_rng(0))


def _write_idx(path: Path, array: np.ndarray, magic: int, truncate: int = 0) -> None:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    body = array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(header + body[: len(body) - truncate]))


def test_idx_reader_round_trip_and_errors(tmp_path):
    images = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    _write_idx(tmp_path / "ok.gz", images, 0x0803)
    assert np.array_equal(read_idx(tmp_path / "ok.gz", 3), images)
    _write_idx(tmp_path / "magic.gz", images, 0x0801)
    with pytest.raises(CorruptDataError, match=r"magic.gz: magic number 0x0801, expected 0x0803"):
        read_idx(tmp_path / "magic.gz", 3)
    _write_idx(tmp_path / "short.gz", images, 0x0803, truncate=5)
    with pytest.raises(CorruptDataError, match=r"short.gz: header says \[2, 3, 3\] = 18 bytes, file holds 13"):
        read_idx(tmp_path / "short.gz", 3)
    (tmp_path / "notgz.gz").write_bytes(b"not gzip at all")
    with pytest.raises(CorruptDataError, match="notgz.gz: cannot read"):
        read_idx(tmp_path / "notgz.gz", 3)


def test_missing_fmnist_names_every_source_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fmnist, "DOWNLOAD_DIR", tmp_path / "cache")

    def offline(split):
        raise OSError("network unreachable")

    monkeypatch.setattr(fmnist, "_download", offline)
    with pytest.raises(MissingDataError) as info:
        locate_fmnist("train", str(tmp_path / "mine"))
    msg = str(info.value)
    for needle in ("configured folder", str(tmp_path / "mine"), "Debian package", "no-debian",
                   "torchvision download: OSError: network unreachable", "apt-get install dataset-fashion-mnist",
                   "`folder:`", "train-images-idx3-ubyte.gz"):
        assert needle in msg, needle


def test_configured_folder_is_used_first(tmp_path, monkeypatch):
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "no-debian")
    for name in fmnist.FILES["train"]:
        (tmp_path / name).write_bytes(b"")  # uncompressed names are accepted too
    assert locate_fmnist("train", str(tmp_path)) == tuple(tmp_path / n for n in fmnist.FILES["train"])


# --------------------------------------------------------------------------- image folders


def test_image_folder_loader_crops_resizes_and_orders(tmp_path):
    write_synthetic_folder(tmp_path / "imgs", n=5, size=30, seed=1)
    x = load_image_folder(tmp_path / "imgs", 8)
    assert x.shape == (5, 3, 8, 8) and x.dtype == np.uint8
    # A wide image keeps its centre square.
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, 10:20] = 255
    Image.fromarray(wide).save(tmp_path / "imgs" / "zz_wide.png")
    x = load_image_folder(tmp_path / "imgs", 10)
    assert x.shape[0] == 6 and (x[-1] == 255).all()


def test_butterflies_reference_images_are_held_out_from_training(tmp_path):
    from rpd.data.images import make_butterflies

    write_synthetic_folder(tmp_path / "imgs", n=20, size=12, seed=3)
    spec = {"kind": "butterflies", "folder": str(tmp_path / "imgs"), "resolution": 8, "data_seed": 5}
    train, reference = make_butterflies(spec, 8)
    assert len(reference["x"]) == 8 and len(train["x"]) == 12  # N held out, the rest trains
    seen = {x.tobytes() for x in train["x"]}
    assert not any(x.tobytes() in seen for x in reference["x"])  # disjoint: no reference image is trained on
    with pytest.raises(CorruptDataError, match="20 images cannot hold a reference set of N = 11"):
        make_butterflies(spec, 11)


def test_image_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(MissingDataError, match="does not exist"):
        load_image_folder(tmp_path / "absent", 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingDataError, match="holds no images"):
        load_image_folder(tmp_path / "empty", 8)
    write_synthetic_folder(tmp_path / "bad", n=2, size=20, seed=0)
    (tmp_path / "bad" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(CorruptDataError, match=r"broken.png: not a readable image"):
        load_image_folder(tmp_path / "bad", 8)


def test_missing_butterflies_says_how_to_get_them():
    with pytest.raises(MissingDataError) as info:
        load_butterflies(None, 8)  # no folder, and no `datasets` package / network here
    msg = str(info.value)
    assert "no `folder:` configured" in msg and "huggan/smithsonian_butterflies_subset" in msg


# --------------------------------------------------------------------------- metrics


def test_image_w1_of_shifted_images_is_the_shift_norm():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 200, (20, 1, 4, 4)).astype(np.uint8)
    assert image_w1(x, x) == pytest.approx(0, abs=1e-12)
    shifted = x + np.uint8(10)  # every pixel +10/255: each image moves by 10/255 · √16
    assert image_w1(shifted, x) == pytest.approx(10 / 255 * 4, rel=1e-9)


def test_classwise_w1_hand_built():
    ref = np.zeros((4, 1, 1, 2), np.uint8)
    y_ref = np.array([0, 0, 1, 1])
    gen = ref.copy()
    gen[2:, 0, 0, 0] = 51  # class 1 moved by 0.2 along one pixel; class 0 exact
    y_gen = np.array([0, 0, 1, 1])
    assert classwise_w1(gen, y_gen, ref, y_ref) == pytest.approx((0 + 0.2) / 2)
    # Swapping the labels of generated samples across classes is seen by CW-1WD but not by 1WD.
    gen2 = np.concatenate([np.full((2, 1, 1, 2), 255, np.uint8), np.zeros((2, 1, 1, 2), np.uint8)])
    ref2 = gen2[::-1].copy()
    assert image_w1(gen2, ref2) == pytest.approx(0)
    assert classwise_w1(gen2, y_gen, ref2, y_ref) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match=r"no generated samples for classes \[1\]"):
        classwise_w1(gen, np.zeros(4, int), ref, y_ref)


@pytest.fixture(scope="module")
def feature_net(tmp_path_factory):
    from rpd.metrics.kid import save_feature_net, train_feature_net

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (256, 1, 8, 8)).astype(np.uint8)
    y = rng.integers(0, 3, 256)
    x[y == 1, :, :4] //= 4  # classes with different structure
    x[y == 2, :, :, :4] //= 4
    net, summary = train_feature_net(x, y, x[:64], y[:64], steps=30, seed=0)
    path = tmp_path_factory.mktemp("fnet") / "model.pt"
    save_feature_net(path, net, summary)
    return path, x


def test_kid_through_registered_extractor_equals_torch_fidelity_on_saved_images(feature_net, tmp_path):
    import torch_fidelity

    from rpd.metrics.kid import FEATURE_NET, kid

    path, x = feature_net
    a, b = x[:100], x[100:200]
    ours, _ = kid(a, b, "feature-net", str(path), subset_size=50, subsets=20, seed=3)
    for name, images in (("a", a), ("b", b)):  # the same samples saved as PNG files
        (tmp_path / name).mkdir()
        for i, img in enumerate(images):
            Image.fromarray(img[0]).save(tmp_path / name / f"{i:03d}.png")
    theirs = torch_fidelity.calculate_metrics(
        input1=str(tmp_path / "a"), input2=str(tmp_path / "b"), kid=True, feature_extractor=FEATURE_NET,
        feature_extractor_weights_path=str(path), kid_subset_size=50, kid_subsets=20, rng_seed=3, cuda=False,
        verbose=False, cache=False)
    assert ours == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5, abs=1e-7)


def test_kid_separates_same_from_different(feature_net):
    from rpd.metrics.kid import kid

    path, x = feature_net
    same, _ = kid(x[:100], x[100:200], "feature-net", str(path), None, 20, 0)
    noise = np.random.default_rng(1).integers(0, 255, (100, 1, 8, 8)).astype(np.uint8) // 8
    different, _ = kid(noise, x[100:200], "feature-net", str(path), None, 20, 0)
    assert abs(same) < different / 10


# --------------------------------------------------------------------------- networks and priors


def test_unet_and_conv_prior_shapes_and_class_conditioning():
    from rpd.nets.unet import DenoiserUNet
    from rpd.priors.conv import ConvBetaVAE

    torch.manual_seed(0)
    prior = ConvBetaVAE((1, 8, 8), latent_dim=4, channels=[8, 16], beta=1.0, sigma_floor=0.1, num_classes=3)
    x, y = torch.rand(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    mu, sigma = prior.decode(prior.posterior_sample(x, y), y)
    assert mu.shape == sigma.shape == (5, 1, 8, 8) and (sigma >= 0.1).all()
    z = torch.zeros(2, 4)
    mu0, _ = prior.decode(z, torch.tensor([0, 1]))
    assert not torch.allclose(mu0[0], mu0[1])  # the class reaches the decoder
    net = DenoiserUNet((1, 8, 8), num_extra=2, channels=[8, 16], num_classes=3)
    out = net(x, torch.full((5,), 10), [x, x], y)
    assert out.shape == (5, 1, 8, 8)
    out2 = net(x, torch.full((5,), 10), [x, x], (y + 1) % 3)
    assert not torch.allclose(out, out2)  # and the class reaches the UNet
    small = DenoiserUNet((1, 8, 8), num_extra=2, channels=[8, 8], num_classes=3)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(small) < count(net) / 2


def test_image_sampling_is_batch_independent_and_class_balanced():
    from rpd.diffusion import DiffusionSpec, sample, sample_labels
    from rpd.nets.unet import DenoiserUNet
    from rpd.priors.conv import ConvBetaVAE

    torch.manual_seed(0)
    prior = ConvBetaVAE((1, 8, 8), 4, [8, 16], 1.0, 0.1, num_classes=3).eval()
    net = DenoiserUNet((1, 8, 8), num_extra=2, channels=[8, 16], num_classes=3)
    spec = DiffusionSpec("rpd", "omega", "eps", 1000, "linear")
    a = sample(spec, net, prior, 7, (1, 8, 8), "ddpm", 2, seed=4, batch_size=7, num_classes=3)
    b = sample(spec, net, prior, 7, (1, 8, 8), "ddpm", 2, seed=4, batch_size=3, num_classes=3)
    # Equal up to float rounding: convolution kernels sum in a batch-size dependent order.
    assert a.shape == (7, 1, 8, 8) and np.allclose(a, b, rtol=1e-4, atol=1e-4)
    assert sample_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]


# --------------------------------------------------------------------------- image config checks


@pytest.fixture
def ci_raw() -> dict:
    import yaml

    with open(CI_SUITE) as f:
        return yaml.safe_load(f)


def _config_error(raw: dict) -> str:
    from rpd.config import ConfigError, validate_config

    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    return str(info.value)


def test_image_keys_required_when_images_are_used(ci_raw):
    del ci_raw["image_networks"]
    msg = _config_error(ci_raw)
    assert "['image_networks']" in msg and "butterflies" in msg and "fmnist" in msg


def test_vqvae_prior_refused_on_images(ci_raw):
    ci_raw["models"]["rpd"]["image_prior"] = "vqvae"
    msg = _config_error(ci_raw)
    assert "models.rpd.image_prior" in msg and "image priors must be betavae" in msg


def test_two_names_of_one_image_network_are_refused(ci_raw):
    ci_raw["image_networks"]["small"] = dict(ci_raw["image_networks"]["std"])
    assert "image_networks.small" in _config_error(ci_raw)


def test_resolution_must_suit_the_unet_depth(ci_raw):
    ci_raw["datasets"]["fmnist-8"]["resolution"] = 9
    assert "datasets.fmnist-8.resolution': 9 is not divisible by 2^1" in _config_error(ci_raw)


def test_kid_subset_larger_than_n_is_refused(ci_raw):
    ci_raw["kid"]["subset_size"] = 1000
    msg = _config_error(ci_raw)
    assert "kid.subset_size" in msg and "exceeds N = 100" in msg


def test_unknown_fmnist_key_and_bad_channels(ci_raw):
    ci_raw["datasets"]["fmnist-8"]["scale"] = 0.1
    ci_raw["image_networks"]["std"]["channels"] = [12, 16]
    msg = _config_error(ci_raw)
    assert "datasets.fmnist-8.scale': unknown key" in msg
    assert "image_networks.std.channels.0" in msg and "12" in msg


def test_dataset_seeds_restrict_runs(ci_raw):
    from rpd.config import validate_config
    from rpd.runs import diffusion_runs

    ci_raw["seeds"] = [0, 1]
    ci_raw["datasets"]["fmnist-8"]["seeds"] = [1]
    for experiment in ci_raw["experiments"].values():  # an experiment's own seeds would override both
        experiment.pop("seeds", None)
    runs = diffusion_runs(validate_config(ci_raw))
    assert {r.seed for r in runs if r.dataset == "fmnist-8"} == {1}
    assert {r.seed for r in runs if r.dataset == "dino-grid-0.1"} == {0, 1}


def test_image_runs_use_the_image_prior_and_image_settings(ci_raw):
    from rpd.config import validate_config
    from rpd.runs import Run, prior_run_of, run_config

    cfg = validate_config(ci_raw)
    image = run_config(cfg, Run("model", "fmnist-8", "rpd", "std", 0))
    assert image["network"] == cfg["image_networks"]["std"] and image["training"] == cfg["image_training"]
    assert image["prior_run"]["prior"]["name"] == "betavae_img" and image["n_eval"] == 100 and "kid" in image
    points = run_config(cfg, Run("model", "dino-grid-0.1", "rpd", "std", 0))
    assert points["prior_run"]["prior"]["name"] == "vqvae" and "kid" not in points
    assert prior_run_of(cfg, Run("model", "fmnist-8", "rpd_ps", "std", 0)).size == "small"
