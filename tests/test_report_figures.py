"""What the report's figures show, checked on the decoded PNG (pixels) or on the plotted data, not on file names."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from rpd.report import figures as F

SIDE = 4  # pixels per image side: small, so every input pixel is a block of many PNG pixels


def decoded(path: Path) -> np.ndarray:
    """The PNG as uint8 H×W×3."""
    img = mpimg.imread(path)
    return np.round(img[..., :3] * 255).astype(np.uint8) if img.dtype != np.uint8 else img[..., :3]


def distinct_images(count: int, channels: int, seed: int) -> np.ndarray:
    """``count`` uint8 C×SIDE×SIDE images whose pixels all have different colours (no white, no black)."""
    rng = np.random.default_rng(seed)
    n = count * SIDE * SIDE
    if channels == 1:  # grey levels 20, 26, 32, …: distinct and far from the white gap and black text
        levels = 20 + 6 * rng.permutation(n)
        return levels.reshape(count, 1, SIDE, SIDE).astype(np.uint8)
    colours = set()
    while len(colours) < n:  # saturated colours: text anti-aliasing is grey, so it never matches one
        c = tuple(int(v) for v in rng.integers(20, 236, 3))
        if max(c) - min(c) > 60:
            colours.add(c)
    return np.array(sorted(colours, key=lambda _: rng.random()), dtype=np.uint8).reshape(
        count, SIDE, SIDE, 3).transpose(0, 3, 1, 2)


def shown_cells(png: np.ndarray, images: np.ndarray) -> np.ndarray:
    """The colour drawn at the centre of every input pixel's cell, located through the PNG itself.

    Each input pixel has its own colour, so the PNG pixels of exactly that colour mark where it was drawn;
    the median of their positions gives the cell. Returns an array shaped like ``images`` (N×C×H×W).
    """
    rgb = images if images.shape[1] == 3 else np.repeat(images, 3, axis=1)
    out = np.zeros_like(rgb)
    for i in range(len(images)):
        corners = {}
        for r, c in ((0, 0), (SIDE - 1, SIDE - 1)):
            hits = np.argwhere((png == rgb[i, :, r, c]).all(axis=-1))
            assert len(hits) >= 4, f"image {i} pixel ({r}, {c}) colour {rgb[i, :, r, c]} is not drawn"
            corners[(r, c)] = np.median(hits, axis=0)
        (y0, x0), (y1, x1) = corners[(0, 0)], corners[(SIDE - 1, SIDE - 1)]
        for r in range(SIDE):
            for c in range(SIDE):
                y = int(round(y0 + (y1 - y0) * r / (SIDE - 1)))
                x = int(round(x0 + (x1 - x0) * c / (SIDE - 1)))
                out[i, :, r, c] = png[y, x]
    return out if images.shape[1] == 3 else out[:, :1]


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
def test_gallery_shows_the_true_pixel_values(tmp_path: Path, channels: int) -> None:
    """uint8 images as the pipeline stores them: every pixel is drawn with its own grey level or colour."""
    images = distinct_images(6, channels, seed=channels)
    path = tmp_path / "gallery.png"
    F.image_grid(path, [list(images[:3]), list(images[3:])], ["class 0", "class 1"], "a gallery")
    png = decoded(path)
    shown = shown_cells(png, images)
    np.testing.assert_array_equal(shown, images)
    # and the images sit in gallery order: image 1 right of image 0, row 2 below row 1
    centre = [np.argwhere((png == (images[i, :, 1, 1] if channels == 3 else images[i, 0, 1, 1])).all(-1)
                          ).mean(0) for i in range(6)]
    assert centre[0][1] < centre[1][1] < centre[2][1] and centre[0][0] < centre[3][0]


def test_gallery_takes_floats_in_the_unit_interval(tmp_path: Path) -> None:
    """A float image in [0, 1] (any path that produces floats) shows as the same uint8 image ×255."""
    images = distinct_images(2, 1, seed=5)
    path = tmp_path / "float.png"
    F.image_grid(path, [list(images.astype(np.float32) / 255)], ["row"])
    np.testing.assert_array_equal(shown_cells(decoded(path), images), images)


def test_unit_interval_conversion() -> None:
    x = np.array([[[0, 128, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(F.to_unit_interval(x), [[[0, 128 / 255, 1]]])
    np.testing.assert_allclose(F.to_unit_interval(np.array([-0.5, 0.25, 2.0])), [0, 0.25, 1])
