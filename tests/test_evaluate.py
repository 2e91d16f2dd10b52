"""rpd.evaluate: the sanity share of raw values outside the data range."""

import numpy as np

from rpd.evaluate import IMAGE_RANGE, RANGE_MARGIN, out_of_range_share


def test_out_of_range_counts_values_beyond_the_widened_range_only():
    lo, hi = IMAGE_RANGE
    pad = RANGE_MARGIN * (hi - lo)
    inside = np.array([lo, hi, lo - 0.99 * pad, hi + 0.99 * pad])  # overshoot within the margin: not counted
    outside = np.array([lo - 1.01 * pad, hi + 1.01 * pad, 15.0, -30.0])  # a diverging sampler's values
    assert out_of_range_share(inside, lo, hi) == 0.0
    assert out_of_range_share(np.concatenate([inside, outside]), lo, hi) == 0.5


def test_out_of_range_is_per_coordinate_on_2d_boxes():
    lo, hi = np.array([0.0, -1.0]), np.array([1.0, 1.0])  # the reference set's bounding box, per coordinate
    x = np.array([[1.5, 0.0], [0.5, 1.4]])  # 1.5 is beyond 1 + 0.25 · 1; 1.4 is within 1 + 0.25 · 2
    assert out_of_range_share(x, lo, hi) == 0.25


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
