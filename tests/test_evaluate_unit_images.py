"""rpd.evaluate's image scoring refuses sample files it cannot compare with the reference (before any metric), and
names a KID extractor other than the feature net as configured."""

from __future__ import annotations

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
