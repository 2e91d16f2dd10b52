"""The 2D denoiser: an MLP over [x_t, extra inputs] (x_t in data space, SPEC §2), with diffusers' sinusoidal time
embedding."""

from __future__ import annotations

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn


class ResidualBlock(nn.Module):
    """LayerNorm → Linear → SiLU → Linear, with the time (and class) embedding added, plus a skip."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return h + self.fc2(self.act(self.fc1(self.norm(h)) + emb))


class DenoiserMLP(nn.Module):
    """Predicts ε or v (in r-space) for a d-dimensional x_t from x_t, ``num_extra`` extra d-vectors, t and a class."""

    def __init__(self, data_dim: int, num_extra: int, hidden: int, depth: int, num_classes: int = 0) -> None:
        super().__init__()
        self.data_dim = data_dim
        self.time_proj = Timesteps(64, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(64, hidden)
        self.class_embed = nn.Embedding(num_classes, hidden) if num_classes > 0 else None
        self.inp = nn.Linear(data_dim * (1 + num_extra), hidden)
        self.blocks = nn.ModuleList(ResidualBlock(hidden) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, data_dim))

    def forward(
        self, x_t: torch.Tensor, t: torch.Tensor, extra: list[torch.Tensor], class_labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        emb = self.time_embed(self.time_proj(t).to(x_t.dtype))
        if self.class_embed is not None:
            emb = emb + self.class_embed(class_labels)
        h = self.inp(torch.cat([x_t, *extra], dim=1))
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
