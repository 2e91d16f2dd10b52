"""Model files: weights plus the run config, saved atomically and loaded with ``weights_only=True``."""

from __future__ import annotations

import os

import torch
from torch import nn

from rpd.io import write_atomic


def save_model(path: str | os.PathLike, module: nn.Module, run_config: dict) -> None:
    """Save ``module``'s state dict with the run config that built it."""
    payload = {"state_dict": module.state_dict(), "run_config": run_config}
    write_atomic(path, lambda p: torch.save(payload, p))


def load_state(path: str | os.PathLike) -> dict:
    """Load a file written by :func:`save_model` without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)
