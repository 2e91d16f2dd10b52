"""Pixel-space optimal-transport metrics for images (SPEC §4): 1WD and class-wise CW-1WD, pixels in [0, 1]."""

from __future__ import annotations

import numpy as np

from rpd.metrics.wasserstein import w1


def pixels(images: np.ndarray) -> np.ndarray:
    """uint8 N×C×H×W images as N×(C·H·W) float64 points in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def image_w1(x: np.ndarray, reference: np.ndarray) -> float:
    """1WD: exact W1 (Euclidean cost) between the flattened images of two equal-size sets."""
    return w1(pixels(x), pixels(reference))


def classwise_w1(x: np.ndarray, y: np.ndarray, reference: np.ndarray, y_ref: np.ndarray) -> float:
    """CW-1WD: the mean over classes c of W1(generated images of class c, reference images of class c)."""
    classes = np.unique(y_ref)
    missing = sorted(set(classes.tolist()) - set(np.unique(y).tolist()))
    if missing:
        raise ValueError(f"no generated samples for classes {missing}; CW-1WD needs every reference class")
    return float(np.mean([w1(pixels(x[y == c]), pixels(reference[y_ref == c])) for c in classes]))
