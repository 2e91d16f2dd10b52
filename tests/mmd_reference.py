"""An independent KID: the unbiased polynomial-kernel MMD² (Binkowski et al. 2018) written out in NumPy, on
features computed by calling the feature net's layers directly, and a feature net with fixed random weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from rpd.metrics.kid import FeatureNet, save_feature_net


def fixed_feature_net(path: Path, in_channels: int, num_outputs: int = 10) -> Path:
    """A :class:`FeatureNet` with seeded random weights (no training: its features are a fixed function),
    saved with the summary the pipeline's feature-net job writes next to it."""
    torch.manual_seed(123)
    net = FeatureNet(in_channels, num_outputs).eval()
    summary = {"task": "classification", "accuracy": 0.5, "accuracy_on": "fixture images", "steps": 0,
               "batch_size": 0, "parameters": 0, "train_seconds": 0.0, "in_channels": in_channels,
               "num_outputs": num_outputs}
    save_feature_net(path, net, summary)
    (path.parent / "summary.json").write_text(json.dumps(summary))
    return path


def features(net: FeatureNet, images: np.ndarray) -> np.ndarray:
    """The 128 features of uint8 N×C×H×W images, through the net's body on pixels mapped to [−1, 1]."""
    with torch.no_grad():
        x = torch.from_numpy(images.astype(np.float32)) / 127.5 - 1
        return net.body(x).double().numpy()


def poly_mmd2_unbiased(a: np.ndarray, b: np.ndarray) -> float:
    """MMD² with k(u, v) = (u·v / d + 1)³, unbiased within-set terms (diagonal left out), mean cross term."""
    m, d = a.shape
    k_aa, k_bb, k_ab = ((u @ v.T / d + 1) ** 3 for u, v in ((a, a), (b, b), (a, b)))
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within - 2 * k_ab.mean())


def kid_reference(fa: np.ndarray, fb: np.ndarray, subset_size: int, subsets: int, seed: int) -> tuple[float, float]:
    """(mean, population sd) of the MMD² over ``subsets`` random subsets, drawn as torch-fidelity documents:
    one ``RandomState(seed)``, for each subset first the rows of the first set, then those of the second."""
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(subsets):
        ia = rng.choice(len(fa), subset_size, replace=False)
        ib = rng.choice(len(fb), subset_size, replace=False)
        values.append(poly_mmd2_unbiased(fa[ia], fb[ib]))
    return float(np.mean(values)), float(np.std(values))
