"""rpd.evaluate: the sanity share of raw values outside the data range, and the metrics of 2D samples."""

import numpy as np
import pytest

from rpd.config import load_config
from rpd.evaluate import (
    IMAGE_RANGE,
    RANGE_MARGIN,
    SampleError,
    check_reference,
    check_samples,
    grid_metrics,
    out_of_range_share,
)
from rpd.io import load_npz
from rpd.metrics.wasserstein import w1
from rpd.stages import make_dataset
from suite import REPO


def test_out_of_range_counts_values_beyond_the_widened_range_only():
    lo, hi = IMAGE_RANGE
    pad = RANGE_MARGIN * (hi - lo)
    inside = np.array([lo, hi, lo - 0.99 * pad, hi + 0.99 * pad])  # overshoot within the margin: not counted
    outside = np.array([lo - 1.01 * pad, hi + 1.01 * pad, 15.0, -30.0])  # a diverging sampler's values
    assert out_of_range_share(inside, lo, hi) == 0.0
    assert out_of_range_share(np.concatenate([inside, outside]), lo, hi) == 0.5


def test_out_of_range_leaves_the_widened_bounds_themselves_in_and_no_value_is_none_out():
    lo, hi = 0.0, 4.0  # pad = 0.25 · 4 = 1, exact in floating point
    assert out_of_range_share(np.array([-1.0, 5.0, 2.0, 5.5]), lo, hi, margin=0.25) == 0.25
    assert out_of_range_share(np.array([], dtype=np.uint8), lo, hi) == 0.0


def test_out_of_range_is_per_coordinate_on_2d_boxes():
    lo, hi = np.array([0.0, -1.0]), np.array([1.0, 1.0])  # the reference set's bounding box, per coordinate
    x = np.array([[1.5, 0.0], [0.5, 1.4]])  # 1.5 is beyond 1 + 0.25 · 1; 1.4 is within 1 + 0.25 · 2
    assert out_of_range_share(x, lo, hi) == 0.25


def test_grid_metrics_count_coordinates_beyond_the_reference_box_on_either_side(tmp_path):
    dataset = load_config(REPO / "benchmarks" / "ci.yaml")["datasets"]["dino-grid-0.1"]
    make_dataset(dataset, 128, tmp_path / "train.npz", tmp_path / "reference.npz")
    reference = load_npz(tmp_path / "reference.npz")["x"]
    x = reference.copy()
    x[:12, 0] = reference[:, 0].min() - 10  # 12 of the 256 coordinates below the box
    x[12:16, 1] = reference[:, 1].max() + 10  # 4 above it
    # 4 just beyond the widened box, each on its own coordinate
    spread = np.ptp(reference, axis=0)
    x[16:18, 0] = reference[:, 0].max() + RANGE_MARGIN * spread[0] + 1e-3
    x[18:20, 1] = reference[:, 1].min() - RANGE_MARGIN * spread[1] - 1e-3
    values = grid_metrics(x, reference, dataset)
    assert set(values) == {"1wd", "rw1wd", "mass_error", "out_of_range"}  # the metric names of metrics.csv
    assert values["out_of_range"] == 20 / x.size
    assert values["1wd"] == pytest.approx(w1(x, reference))
    assert grid_metrics(reference, reference, dataset)["out_of_range"] == 0.0
    x[0, 0], x[1, 1] = np.nan, np.inf  # a direct caller (the floor, the API) gets the same refusal as a job
    with pytest.raises(ValueError, match=r"^samples contain 2 non-finite values; refusing to score them$"):
        grid_metrics(x, reference, dataset)


@pytest.mark.parametrize("x, bad", [
    (np.array([[0.0, np.nan], [np.inf, 1.0], [3.0, 2.0]]), "2"),  # counted
    (np.array([[0.0, None], [1.0, 2.0], [3.0, 4.0]], dtype=object), "all"),  # not numbers: none can be scored
])
def test_samples_with_values_that_are_not_finite_numbers_are_refused_with_how_many(x, bad):
    with pytest.raises(SampleError, match=rf"^s\.npz: {bad} non-finite values \(NaN or inf\) among the samples; "
                                          r"metrics on them are refused, not averaged; the model or sampler produced "
                                          r"it; fix the cause, delete the samples folder and rerun$"):
        check_samples(x, np.zeros((3, 2)), "s.npz")


def test_a_reference_set_with_non_finite_values_is_refused_with_how_many():
    reference = np.array([[0.0, np.nan], [np.inf, 1.0], [3.0, 2.0]])
    with pytest.raises(SampleError, match=r"^r\.npz: the reference set has 2 non-finite values; delete it and rerun the "
                                          r"workflow \(the dataset job recreates it\)$"):
        check_reference(reference, "r.npz")


def test_import_metric_libraries_imports_kid_only_for_image_runs(monkeypatch):
    # the evaluate job imports these before its log opens, so the logged start-up counts them (test_job_imports
    # checks that in a job's own process); here: which modules each kind of run asks for
    import builtins

    import rpd.metrics.images  # noqa: F401  (loaded before: only the statements of the function are recorded)
    import rpd.metrics.kid  # noqa: F401
    import rpd.metrics.wasserstein  # noqa: F401
    from rpd.evaluate import import_metric_libraries

    asked = []
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: asked.append(name) or real_import(name, *a, **k))
    import_metric_libraries({"dataset": {"kind": "grid"}})
    assert asked == ["rpd.metrics.wasserstein"]
    asked.clear()
    import_metric_libraries({"dataset": {"kind": "fmnist", "resolution": 16}})
    assert asked == ["rpd.metrics.wasserstein", "rpd.metrics.images", "rpd.metrics.kid"]
