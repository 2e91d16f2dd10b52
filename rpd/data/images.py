"""Image datasets as arrays (SPEC §3): uint8 N×C×H×W images plus int64 labels for class-conditional data.

``fmnist``: a class-balanced subset of the 60k training split, and as reference a class-balanced subset of
size N of the 10k test split. ``butterflies``: every image of the source for training; the reference set is
a seeded subset of size N of the same images (the data set has no test split; unconditional image
benchmarks compare against the training distribution).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from rpd.data.errors import CorruptDataError
from rpd.data.fmnist import load_fmnist
from rpd.data.imagefolder import butterflies_shortfall, load_butterflies


def resize_area(images: np.ndarray, resolution: int) -> np.ndarray:
    """Grey uint8 N×H×W images resized by area averaging (PIL's BOX filter) to N×1×r×r."""
    if images.shape[1] == resolution:
        return images[:, None].copy()
    out = [np.asarray(Image.fromarray(im).resize((resolution, resolution), Image.Resampling.BOX)) for im in images]
    return np.stack(out)[:, None]


def balanced_subset(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` items with classes as equal as possible (the first n mod C classes get one more)."""
    classes = np.unique(labels)
    picks = []
    for i, c in enumerate(classes):
        members = np.flatnonzero(labels == c)
        want = n // len(classes) + (i < n % len(classes))
        if want > len(members):
            raise CorruptDataError(f"class {c} has {len(members)} items, {want} are needed for a balanced {n}")
        picks.append(rng.choice(members, want, replace=False))
    return np.sort(np.concatenate(picks))


def make_fmnist(spec: dict, n_eval: int) -> tuple[dict, dict]:
    """(train, reference) dicts with ``x`` (uint8 N×1×r×r) and ``y`` (labels)."""
    x, y = load_fmnist("train", spec["folder"])
    keep = balanced_subset(y, spec["n_train"], np.random.default_rng(spec["data_seed"]))
    x_ref, y_ref = load_fmnist("test", spec["folder"])
    ref = balanced_subset(y_ref, n_eval, np.random.default_rng(spec["data_seed"] + 1))
    res = spec["resolution"]
    return ({"x": resize_area(x[keep], res), "y": y[keep]},
            {"x": resize_area(x_ref[ref], res), "y": y_ref[ref]})


def make_butterflies(spec: dict, n_eval: int) -> tuple[dict, dict]:
    """(train, reference) dicts with ``x`` (uint8 N×3×r×r); no labels (unconditional)."""
    x = load_butterflies(spec["folder"], spec["resolution"])
    shortfall = butterflies_shortfall(len(x), n_eval)
    if shortfall:
        raise CorruptDataError(f"the butterflies source: {shortfall}")
    # the reference images are held out: KID and 1WD against training images would reward memorisation
    held_out = np.zeros(len(x), dtype=bool)
    held_out[np.random.default_rng(spec["data_seed"] + 1).choice(len(x), n_eval, replace=False)] = True
    return {"x": x[~held_out]}, {"x": x[held_out]}


IMAGE_DATASETS = {"fmnist": make_fmnist, "butterflies": make_butterflies}
