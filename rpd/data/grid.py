"""The `<shape>-grid` 2D dataset (SPEC §3): a Datasaurus shape copied to the centres of a G×G grid."""

from __future__ import annotations

import csv
import functools
import io
import math
from importlib import resources

import numpy as np

SHAPES: tuple[str, ...] = (
    "away",
    "bullseye",
    "circle",
    "dino",
    "dots",
    "h_lines",
    "high_lines",
    "slant_down",
    "slant_up",
    "star",
    "v_lines",
    "wide_lines",
    "x_shape",
)


@functools.cache
def _shapes_table() -> dict[str, np.ndarray]:
    """Parse the packaged csv once; callers get copies so the cache cannot be mutated."""
    text = resources.files("rpd.data").joinpath("datasaurus.csv").read_text(encoding="utf-8")
    rows: dict[str, list[tuple[float, float]]] = {}
    for record in csv.DictReader(io.StringIO(text)):
        rows.setdefault(record["dataset"], []).append((float(record["x"]), float(record["y"])))
    return {name: np.asarray(points, dtype=np.float64) for name, points in rows.items()}


def load_shape(name: str) -> np.ndarray:
    """Return the raw 142×2 float64 coordinates of Datasaurus shape `name`."""
    if name not in SHAPES:
        raise ValueError(f"unknown shape {name!r}; allowed shapes: {', '.join(SHAPES)}")
    return _shapes_table()[name].copy()


def normalise_shape(points: np.ndarray) -> np.ndarray:
    """Centre `points` at their bounding-box centre and scale the longer side to 1 (fits [-0.5, 0.5]²)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"points must be a non-empty (n, d) array, got shape {points.shape}")
    low, high = points.min(axis=0), points.max(axis=0)
    extent = high - low
    size = float(extent.max())
    if not size > 0:
        raise ValueError("points must not all coincide (bounding box has zero size)")
    # Shift by `low` first: on the longer axis the extremes become exactly 0 and size/size = 1, so
    # after subtracting 0.5 they land exactly on ±0.5 (p − centre would round to just past ±0.5).
    return (points - low) / size - extent / (2 * size)


def grid_centres(grid: int) -> np.ndarray:
    """Return the G²×2 centres (i − (G−1)/2), 1 apart and centred on the origin.

    Row-major: index k = row·G + col has x = col − (G−1)/2 and y = row − (G−1)/2.
    """
    _check_int("grid", grid, 1)
    coords = np.arange(grid, dtype=np.float64) - (grid - 1) / 2
    ys, xs = np.meshgrid(coords, coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def make_grid_dataset(shape: str, grid: int, scale: float, jitter: float, n: int, seed: int) -> np.ndarray:
    """Draw `n` points (n×2 float32): uniform cell, uniform shape point, x = c + scale·p + jitter·scale·ε."""
    _check_int("grid", grid, 1)
    _check_int("n", n, 1)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if not (math.isfinite(jitter) and jitter >= 0):
        raise ValueError(f"jitter must be a finite number >= 0, got {jitter!r}")
    points = normalise_shape(load_shape(shape))
    centres = grid_centres(grid)
    rng = np.random.default_rng(seed)
    cells = rng.integers(len(centres), size=n)
    picks = rng.integers(len(points), size=n)
    noise = rng.standard_normal((n, 2))
    x = centres[cells] + scale * points[picks] + jitter * scale * noise
    return x.astype(np.float32)


def assign_regions(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Return, for each row of `x`, the index of its nearest centre (its Voronoi cell)."""
    x = np.asarray(x, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if x.ndim != 2 or centres.ndim != 2 or x.shape[1] != centres.shape[1] or len(centres) == 0:
        raise ValueError(
            f"x must be (n, d) and centres a non-empty (k, d) array, got shapes {x.shape} and {centres.shape}"
        )
    sq_dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return sq_dist.argmin(axis=1)


def _check_int(name: str, value: int, minimum: int) -> None:
    # bool is an int subclass, but grid=True is surely a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
