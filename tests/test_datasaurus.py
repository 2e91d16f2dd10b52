"""The shipped Datasaurus points are the real ones, and the `<shape>-grid` generator behaves as SPEC §3 says."""

import math

import numpy as np
import pytest

from rpd.data.grid import (
    SHAPES,
    assign_regions,
    grid_centres,
    load_shape,
    make_grid_dataset,
    normalise_shape,
)

# Published statistics (Matejka & Fitzmaurice 2017), in hundredths. The paper truncates to two
# decimals: rounding would give e.g. sd x = 16.77 for most shapes, so compare truncated values.
PUBLISHED = {"mean_x": 5426, "mean_y": 4783, "sd_x": 1676, "sd_y": 2693, "corr": -6}


def test_thirteen_shapes_sorted() -> None:
    assert len(SHAPES) == 13
    assert list(SHAPES) == sorted(SHAPES)
    assert "dino" in SHAPES


@pytest.mark.parametrize("name", SHAPES)
def test_shape_has_published_summary_statistics(name: str) -> None:
    points = load_shape(name)
    assert points.shape == (142, 2)
    assert points.dtype == np.float64
    x, y = points[:, 0], points[:, 1]
    stats = {
        "mean_x": x.mean(),
        "mean_y": y.mean(),
        "sd_x": x.std(ddof=1),
        "sd_y": y.std(ddof=1),
        "corr": np.corrcoef(x, y)[0, 1],
    }
    truncated = {key: math.trunc(value * 100) for key, value in stats.items()}
    assert truncated == PUBLISHED


def test_shapes_are_distinct() -> None:
    dino = load_shape("dino")
    assert all(not np.allclose(load_shape(name), dino) for name in SHAPES if name != "dino")


def test_dino_first_point_at_full_precision() -> None:
    assert load_shape("dino")[0].tolist() == [55.3846, 97.1795]


def test_load_shape_returns_a_copy() -> None:
    load_shape("dino")[0] = 0.0
    assert load_shape("dino")[0, 0] == 55.3846


def test_unknown_shape_names_shape_and_allowed() -> None:
    with pytest.raises(ValueError, match=r"'trex'.*dino.*x_shape"):
        load_shape("trex")


@pytest.mark.parametrize("name", ["dino", "h_lines", "circle"])
def test_normalise_shape_fits_unit_box(name: str) -> None:
    points = normalise_shape(load_shape(name))
    low, high = points.min(axis=0), points.max(axis=0)
    assert np.all(low >= -0.5) and np.all(high <= 0.5)
    np.testing.assert_allclose(low + high, 0.0, atol=1e-12)  # bounding box centred
    assert (high - low).max() == 1.0
    assert (high - low).min() < 1.0


def test_grid_centres_spacing_and_centring() -> None:
    centres = grid_centres(4)
    assert centres.shape == (16, 2)
    np.testing.assert_array_equal(centres.mean(axis=0), [0.0, 0.0])
    np.testing.assert_array_equal(np.unique(centres[:, 0]), [-1.5, -0.5, 0.5, 1.5])
    np.testing.assert_array_equal(np.unique(centres[:, 1]), [-1.5, -0.5, 0.5, 1.5])
    np.testing.assert_array_equal(centres[:2], [[-1.5, -1.5], [-0.5, -1.5]])  # row-major: x fastest
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2)
    assert gaps[gaps > 0].min() == 1.0


def test_grid_centres_single_cell() -> None:
    np.testing.assert_array_equal(grid_centres(1), [[0.0, 0.0]])


def test_make_grid_dataset_deterministic_per_seed() -> None:
    a = make_grid_dataset("dino", grid=4, scale=0.1, jitter=0.05, n=500, seed=3)
    b = make_grid_dataset("dino", grid=4, scale=0.1, jitter=0.05, n=500, seed=3)
    c = make_grid_dataset("dino", grid=4, scale=0.1, jitter=0.05, n=500, seed=4)
    assert a.shape == (500, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_points_stay_in_their_cell_and_cells_are_uniform() -> None:
    scale, jitter, n = 0.1, 0.01, 16_000
    x = make_grid_dataset("dino", grid=4, scale=scale, jitter=jitter, n=n, seed=0)
    centres = grid_centres(4)
    region = assign_regions(x, centres)
    # The shape spans at most scale/2 per axis from the centre; jitter·scale·ε adds < 6 sd.
    offset = np.abs(x - centres[region])
    assert offset.max() <= scale / 2 + 6 * jitter * scale
    counts = np.bincount(region, minlength=16)
    expected = n / 16
    sd = math.sqrt(n * (1 / 16) * (15 / 16))
    assert np.all(np.abs(counts - expected) < 5 * sd)


def test_jitter_free_points_are_shape_points() -> None:
    scale = 0.1
    x = make_grid_dataset("star", grid=3, scale=scale, jitter=0.0, n=300, seed=1)
    centres = grid_centres(3)
    local = (x - centres[assign_regions(x, centres)]) / scale
    shape = normalise_shape(load_shape("star"))
    nearest = np.linalg.norm(local[:, None] - shape[None], axis=2).min(axis=1)
    assert nearest.max() < 1e-5  # float32 rounding only


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid": 0}, "grid must be an integer >= 1"),
        ({"grid": 2.5}, "grid must be an integer >= 1"),
        ({"scale": 0.0}, "scale must be a finite number > 0"),
        ({"scale": -1.0}, "scale must be a finite number > 0"),
        ({"jitter": -0.1}, "jitter must be a finite number >= 0"),
        ({"n": 0}, "n must be an integer >= 1"),
        ({"shape": "trex"}, "unknown shape 'trex'"),
    ],
)
def test_make_grid_dataset_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    args = {"shape": "dino", "grid": 4, "scale": 0.1, "jitter": 0.05, "n": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=f"^{message}"):
        make_grid_dataset(**args)
