"""The convolutional β-VAE prior for images (SPEC §2), class-conditional when the data has labels.

Same interface as the 2D priors (:mod:`rpd.priors.vae2d`), with the class label ``y`` (or None) passed
through: ``loss(x, y)``, ``posterior_sample(x, y)``, ``sample_latent(generators)``, ``decode(z, y)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rpd.priors.vae2d import gaussian_nll


def _conv_stack(c_in: int, channels: list[int]) -> nn.Sequential:
    """Stride-2 3×3 convolutions, one per level: H → H / 2^levels."""
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.GroupNorm(8, c_out), nn.SiLU()]
        c_in = c_out
    return nn.Sequential(*layers)


def _deconv_stack(channels: list[int], c_out: int) -> nn.Sequential:
    """Mirror of :func:`_conv_stack`: H / 2^levels → H, ending in a 3×3 convolution to ``c_out`` channels."""
    layers: list[nn.Module] = []
    rev = list(reversed(channels))
    for c_in, c_next in zip(rev, rev[1:] + [rev[-1]]):
        layers += [nn.ConvTranspose2d(c_in, c_next, 4, stride=2, padding=1), nn.GroupNorm(8, c_next), nn.SiLU()]
    layers.append(nn.Conv2d(rev[-1], c_out, 3, padding=1))
    return nn.Sequential(*layers)


class ConvBetaVAE(nn.Module):
    """q(z|x, y) = N(m, diag s²), p(z) = N(0, I), decoder N(μ̂(z, y), σ̂(z, y)²) with σ̂ = softplus + floor."""

    kind = "betavae"

    def __init__(self, data_shape: tuple[int, int, int], latent_dim: int, channels: list[int], beta: float,
                 sigma_floor: float, num_classes: int = 0) -> None:
        super().__init__()
        c, h, w = data_shape
        self.data_shape = tuple(data_shape)
        self.latent_dim, self.beta, self.sigma_floor = latent_dim, beta, sigma_floor
        self.num_classes = num_classes
        self.low = (channels[-1], h // 2 ** len(channels), w // 2 ** len(channels))
        flat = self.low[0] * self.low[1] * self.low[2]
        self.encoder = _conv_stack(c + num_classes, channels)
        self.to_posterior = nn.Linear(flat, 2 * latent_dim)
        self.from_latent = nn.Linear(latent_dim + num_classes, flat)
        self.decoder = _deconv_stack(channels, 2 * c)

    def _one_hot(self, y: torch.Tensor | None, n: int) -> torch.Tensor:
        if self.num_classes == 0:
            return torch.zeros(n, 0)
        return F.one_hot(y, self.num_classes).float()

    def _posterior(self, x: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        onehot = self._one_hot(y, len(x))[:, :, None, None].expand(-1, -1, *x.shape[2:])
        m, log_s = self.to_posterior(self.encoder(torch.cat([x, onehot], 1)).flatten(1)).chunk(2, dim=1)
        return m, log_s.clamp(-10, 5)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.from_latent(torch.cat([z, self._one_hot(y, len(z))], 1)).view(len(z), *self.low)
        mu, raw = self.decoder(F.silu(h)).chunk(2, dim=1)
        return mu, F.softplus(raw) + self.sigma_floor

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        m, log_s = self._posterior(x, y)
        z = m + log_s.exp() * torch.randn_like(m)
        mu, sigma = self.decode(z, y)
        nll = gaussian_nll(x, mu, sigma).mean()
        kl = 0.5 * (m**2 + (2 * log_s).exp() - 1 - 2 * log_s).sum(1).mean()
        return nll + self.beta * kl, {"nll": nll.item(), "kl": kl.item()}

    def posterior_sample(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.posterior_from_params(self.posterior_params(x, y))

    def posterior_params(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """[m, log s] of q(z|x, y): deterministic in (x, y), so a training set's can be computed once."""
        return torch.cat(self._posterior(x, y), 1)

    def posterior_from_params(self, params: torch.Tensor) -> torch.Tensor:
        """z ~ N(m, diag s²), drawn from torch's global generator."""
        m, log_s = params.chunk(2, dim=1)
        return m + log_s.exp() * torch.randn_like(m)

    def posterior_and_kl(self, x: torch.Tensor, y: torch.Tensor | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z ~ q(z|x, y) and the latent term of the variational bound, KL(q(z|x, y) ‖ N(0, I)) per sample, in nats."""
        m, log_s = self._posterior(x, y)
        kl = 0.5 * (m**2 + (2 * log_s).exp() - 1 - 2 * log_s).sum(1)
        return m + log_s.exp() * torch.randn(m.shape, generator=generator, dtype=m.dtype), kl

    def sample_latent(self, generators: list[torch.Generator]) -> torch.Tensor:
        return torch.stack([torch.randn(self.latent_dim, generator=g) for g in generators])

    @torch.no_grad()
    def fit_latent_prior(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """p(z) is fixed to N(0, I): nothing to fit."""
