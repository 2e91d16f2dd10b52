"""rpd.evaluate's image scoring refuses sample files it cannot compare with the reference (before any metric), and
names a KID extractor other than the feature net as configured."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rpd.evaluate import image_metrics, kid_extractor_label

REFERENCE = {"x": np.zeros((4, 1, 8, 8), dtype=np.uint8)}
KID = {"extractor": "inception-v3-compat", "inception_weights": None, "subset_size": 2, "subsets": 2}


@pytest.mark.parametrize("x, said", [
    (np.zeros((4, 1, 8, 8), dtype=np.float32), r"samples are float32 \(1, 8, 8\), reference uint8 \(1, 8, 8\)"),
    (np.zeros((4, 1, 4, 4), dtype=np.uint8), r"samples are uint8 \(1, 4, 4\), reference uint8 \(1, 8, 8\)"),
])
def test_samples_of_another_type_or_shape_are_refused(x: np.ndarray, said: str) -> None:
    with pytest.raises(ValueError, match=f"^{said}$"):
        image_metrics({"x": x}, REFERENCE, {"kind": "folder"}, KID, None, seed=0)


def test_a_kid_row_names_its_extractor() -> None:
    assert kid_extractor_label(KID, None) == "inception-v3-compat"
    summary = {"task": "classification", "accuracy": 0.8744, "accuracy_on": "500 reference images"}
    assert kid_extractor_label({**KID, "extractor": "feature-net"}, summary) == (
        "rpd-feature-net (classification, acc 0.874 on 500 reference images)")


@pytest.fixture
def kid_calls(monkeypatch) -> list[tuple]:
    """rpd.metrics.kid's KID (tested against an independent computation in test_metrics_images.py) recorded, and
    the feature net's accuracy on the samples fixed at 0.6."""
    from rpd.metrics import kid as kid_module

    calls: list[tuple] = []

    def kid(x, ref, extractor, weights, subset_size, subsets, seed, device):
        calls.append((extractor, weights, subset_size, subsets, seed, device))
        return 0.5, 0.1

    monkeypatch.setattr(kid_module, "kid", kid)
    monkeypatch.setattr(kid_module, "classifier_accuracy", lambda net, x, y, seed: 0.6)
    return calls


@pytest.mark.parametrize("real, ratio", [(0.8, 0.75), (0.0, None)])
def test_image_metrics_call_kid_as_configured_and_score_the_samples_classes(tmp_path, kid_calls, real, ratio):
    (tmp_path / "summary.json").write_text(json.dumps({"accuracy": real}))
    net = str(tmp_path / "model.pt")
    x, y = np.zeros((4, 1, 8, 8), dtype=np.uint8), np.array([0, 1, 0, 1])
    feature_net = {**KID, "extractor": "feature-net", "inception_weights": "inception.pt", "subsets": 3}
    values = image_metrics({"x": x, "y": y}, {"x": x, "y": y}, {"kind": "fmnist"}, feature_net, net, 5, "dev")
    assert kid_calls == [("feature-net", net, 2, 3, 5, "dev")]
    assert values["kid"] == 0.5 and values["class_accuracy"] == 0.6
    # the ratio to the net's accuracy on real images; a net that recognises none gives no ratio
    assert values["class_accuracy_ratio"] == pytest.approx(ratio) if ratio else np.isnan(values["class_accuracy_ratio"])
    # the Inception extractor reads its own weights; the feature net's class accuracy needs the feature net
    inception = {**feature_net, "extractor": "inception-v3-compat"}
    assert "class_accuracy" not in image_metrics({"x": x, "y": y}, {"x": x, "y": y}, {"kind": "fmnist"}, inception,
                                                  net, 5, "dev")
    assert kid_calls[-1][:2] == ("inception-v3-compat", "inception.pt")
    assert "class_accuracy" not in image_metrics({"x": x, "y": y}, {"x": x, "y": y}, {"kind": "fmnist"}, feature_net,
                                                  None, 5)
    assert kid_calls[-1][-1] == "cpu"
    # unlabelled images: neither CW-1WD nor a class accuracy
    assert set(image_metrics({"x": x}, {"x": x}, {"kind": "butterflies"}, feature_net, net, 5)) == {"1wd", "kid"}
