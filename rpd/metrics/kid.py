"""KID through torch-fidelity (SPEC §4), with an offline feature extractor the pipeline trains itself.

Extractors:
- ``feature-net`` (offline default): :class:`FeatureNet`, a small CNN trained on the dataset's training
  set — a classifier where labels exist (its test accuracy is reported), else a rotation predictor
  (which of 0/90/180/270° an image was turned by: a label-free task that needs shape features).
  It is registered with ``torch_fidelity.register_feature_extractor`` as :data:`FEATURE_NET`.
- ``inception-v3-compat``: torch-fidelity's own InceptionV3 (weights from a file or downloaded).

KID values from different extractors are not comparable: every KID row names its extractor.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch_fidelity
from torch import nn
from torch.utils.data import Dataset
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from rpd.checkpoint import load_state, save_model

FEATURE_NET = "rpd-feature-net"
FEATURE_DIM = 128


class FeatureNet(nn.Module):
    """Three stride-2 3×3 conv levels (32, 64, 128 channels) → global average pool → 128 features → linear head."""

    def __init__(self, in_channels: int, num_outputs: int) -> None:
        super().__init__()
        layers, c = [], in_channels
        for width in (32, 64, FEATURE_DIM):
            layers += [nn.Conv2d(c, width, 3, stride=2, padding=1), nn.GroupNorm(8, width), nn.SiLU()]
            c = width
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(FEATURE_DIM, num_outputs)
        self.in_channels = in_channels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of images in [−1, 1]."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _to_input(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 N×C'×H×W (C' = 3 for torch-fidelity's grey-repeated images) → float in [−1, 1] with C channels."""
    return images[:, :channels].float() / 127.5 - 1


def _rotated(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.rot90(img, int(q), dims=(1, 2)) for img, q in zip(x, k)])


def _task_batch(x: torch.Tensor, y: torch.Tensor | None, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets): the class where labels exist, else a random rotation and its index."""
    if y is not None:
        return x, y
    k = torch.randint(0, 4, (len(x),), generator=gen)
    return _rotated(x, k), k


def train_feature_net(
    train_x: np.ndarray, train_y: np.ndarray | None, test_x: np.ndarray, test_y: np.ndarray | None,
    steps: int, seed: int, batch_size: int = 128, lr: float = 2e-3, device: torch.device | str = "cpu",
) -> tuple[FeatureNet, dict]:
    """Train a :class:`FeatureNet` on uint8 images; returns it (on the CPU) and a summary with its accuracy on
    the test images. Batches are drawn on the CPU and trained on ``device``."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x = _to_input(torch.from_numpy(train_x), train_x.shape[1])
    y = None if train_y is None else torch.from_numpy(train_y)
    task = "classification" if y is not None else "rotation"
    net = FeatureNet(train_x.shape[1], int(y.max()) + 1 if y is not None else 4).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x), (batch_size,), generator=gen)
        inputs, targets = _task_batch(x[idx], None if y is None else y[idx], gen)
        loss = F.cross_entropy(net(inputs.to(device)), targets.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % max(1, steps // 5) == 0 or step == steps:
            print(f"[feature-net] step {step}/{steps} loss {loss.item():.4f}", file=sys.stderr, flush=True)
    net.eval()
    accuracy = _accuracy(net, test_x, test_y, seed, device)
    net.to("cpu")
    summary = {"task": task, "accuracy": accuracy, "accuracy_on": f"{len(test_x)} reference images",
               "steps": steps, "batch_size": batch_size, "parameters": sum(p.numel() for p in net.parameters()),
               "train_seconds": time.perf_counter() - start, "in_channels": train_x.shape[1],
               "num_outputs": net.head.out_features}
    return net, summary


@torch.no_grad()
def _accuracy(net: FeatureNet, x: np.ndarray, y: np.ndarray | None, seed: int,
              device: torch.device | str = "cpu") -> float:
    """Accuracy of the net's own task on (x, y) (class, or rotation with one random rotation per image)."""
    inputs, targets = _task_batch(_to_input(torch.from_numpy(x), x.shape[1]), None if y is None else torch.from_numpy(y),
                                  torch.Generator().manual_seed(seed + 1))
    return float((net(inputs.to(device)).argmax(1).cpu() == targets).float().mean())


def classifier_accuracy(weights: str | os.PathLike, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """Accuracy of the trained classifier feature net in file ``weights`` on uint8 images ``x`` with labels ``y``."""
    return _accuracy(load_feature_net(weights), x, y, seed)


def save_feature_net(path: str | os.PathLike, net: FeatureNet, summary: dict) -> None:
    save_model(path, net, summary)


def load_feature_net(path: str | os.PathLike) -> FeatureNet:
    state = load_state(path)
    summary = state["run_config"]
    net = FeatureNet(summary["in_channels"], summary["num_outputs"])
    net.load_state_dict(state["state_dict"])
    return net.eval().requires_grad_(False)


class FeatureNetExtractor(FeatureExtractorBase):
    """torch-fidelity's view of a trained :class:`FeatureNet` (uint8 3×H×W in, 128 features out)."""

    def __init__(self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
                 **kwargs) -> None:
        super().__init__(name, features_list)
        if feature_extractor_weights_path is None:
            raise ValueError(f"{name} needs feature_extractor_weights_path (the trained feature net's model.pt)")
        self.net = load_feature_net(feature_extractor_weights_path)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.net.features(_to_input(x, self.net.in_channels)),)

    @staticmethod
    def get_provided_features_list() -> tuple[str]:
        return ("features",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "features"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, 16, 16, dtype=torch.uint8)


def register_feature_net() -> None:
    """Register :class:`FeatureNetExtractor` with torch-fidelity (once per process)."""
    if FEATURE_NET not in FEATURE_EXTRACTORS_REGISTRY:
        torch_fidelity.register_feature_extractor(FEATURE_NET, FeatureNetExtractor)


class UInt8Images(Dataset):
    """uint8 N×C×H×W images as torch-fidelity wants them: 3×H×W uint8 (grey repeated to RGB)."""

    def __init__(self, images: np.ndarray) -> None:
        x = torch.from_numpy(np.ascontiguousarray(images))
        self.images = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def fidelity_kwargs(extractor: str, weights: str | None, n: int, subset_size: int | None, subsets: int,
                    seed: int, device: torch.device | str = "cpu") -> dict:
    """The torch-fidelity arguments for KID with the configured extractor (subset size min(1000, N) by default).

    torch-fidelity runs the extractor on the default CUDA device when ``cuda`` is true
    (:func:`rpd.devices.select_device` makes the job's GPU the default one).
    """
    name = FEATURE_NET if extractor == "feature-net" else extractor
    if name == FEATURE_NET:
        register_feature_net()
    cuda = torch.device(device).type == "cuda"
    return dict(kid=True, feature_extractor=name, feature_extractor_weights_path=weights, cuda=cuda,
                kid_subset_size=min(1000, n) if subset_size is None else subset_size, kid_subsets=subsets,
                rng_seed=seed, verbose=False, cache=False, save_cpu_ram=True, batch_size=250)


def kid(samples: np.ndarray, reference: np.ndarray, extractor: str, weights: str | None,
        subset_size: int | None, subsets: int, seed: int, device: torch.device | str = "cpu") -> tuple[float, float]:
    """(KID mean, KID std over subsets) between two uint8 image sets, through torch-fidelity, features on ``device``."""
    kwargs = fidelity_kwargs(extractor, weights, len(reference), subset_size, subsets, seed, device)
    out = torch_fidelity.calculate_metrics(input1=UInt8Images(samples), input2=UInt8Images(reference), **kwargs)
    mean, std = out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]
    if not (math.isfinite(mean) and math.isfinite(std)):
        raise ValueError(f"KID is not finite ({mean}, {std})")
    return float(mean), float(std)
