"""β-VAE and VQ-VAE priors for low-dimensional data, both with a Gaussian decoder (SPEC §2).

Common interface (what stage 2 needs from a frozen prior):
``loss(x, y)`` for training, ``posterior_sample(x, y)`` for z ~ q(z|x₀) (= ``posterior_from_params`` of the
deterministic ``posterior_params(x, y)``, which training caches), ``sample_latent(generators, y)`` for
z ~ p̂(z) with one generator per sample (``latent_from_normals(normals, y)`` of ``latent_normals`` standard
normals per sample: the sampling loop draws them with the sample's noise), and ``decode(z, y) -> (μ̂, σ̂)`` with σ̂ = softplus(·) + floor.
``y`` is the class label of conditional data; the 2D data here is unconditional, so these priors ignore it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from rpd.gaussians import standard_normal_kl

PRIOR_KINDS = ("vqvae", "betavae")


def mlp(inp: int, hidden: int, depth: int, out: int) -> nn.Sequential:
    """``depth`` hidden SiLU layers of width ``hidden``."""
    layers: list[nn.Module] = []
    width = inp
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers)


def gaussian_nll(x: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """−log N(x; μ, diag σ²), summed over dimensions, per sample."""
    return (0.5 * math.log(2 * math.pi) + sigma.log() + 0.5 * ((x - mu) / sigma) ** 2).flatten(1).sum(1)


def beta_vae_loss(x: torch.Tensor, m: torch.Tensor, log_s: torch.Tensor, beta: float,
                  decode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, dict[str, float]]:
    """β-VAE loss: −log N(x; μ̂(z), σ̂(z)²) + β KL(N(m, s²) ‖ N(0, I)), z = m + s·ε (reparametrised), batch means."""
    z = m + log_s.exp() * torch.randn_like(m)
    mu, sigma = decode(z)
    nll = gaussian_nll(x, mu, sigma).mean()
    kl = standard_normal_kl(m, log_s).mean()
    return nll + beta * kl, {"nll": nll.item(), "kl": kl.item()}


class GaussianDecoder(nn.Module):
    """z ↦ (μ̂(z), σ̂(z)) with σ̂ = softplus(·) + floor, so residuals (x − μ̂)/σ̂ stay bounded."""

    def __init__(self, latent_dim: int, data_dim: int, hidden: int, depth: int, sigma_floor: float) -> None:
        super().__init__()
        self.net = mlp(latent_dim, hidden, depth, 2 * data_dim)
        self.sigma_floor = sigma_floor

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.net(z).chunk(2, dim=1)
        return mu, F.softplus(raw) + self.sigma_floor


class BetaVAE2D(nn.Module):
    """q(z|x) = N(m(x), diag s(x)²), p(z) = N(0, I); loss = Gaussian NLL + β·KL."""

    kind = "betavae"

    def __init__(self, data_dim: int, latent_dim: int, hidden: int, depth: int, beta: float, sigma_floor: float) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.beta = beta
        self.encoder = mlp(data_dim, hidden, depth, 2 * latent_dim)
        self.decoder = GaussianDecoder(latent_dim, data_dim, hidden, depth, sigma_floor)

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m, log_s = self.encoder(x).chunk(2, dim=1)
        return m, log_s.clamp(-10, 5)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        return beta_vae_loss(x, *self._posterior(x), self.beta, self.decoder)

    def posterior_sample(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.posterior_from_params(self.posterior_params(x, y))

    def posterior_params(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """[m, log s] of q(z|x): deterministic in x, so a training set's can be computed once."""
        return torch.cat(self._posterior(x), 1)

    def posterior_from_params(self, params: torch.Tensor) -> torch.Tensor:
        """z ~ N(m, diag s²), drawn from torch's global generator."""
        m, log_s = params.chunk(2, dim=1)
        return m + log_s.exp() * torch.randn_like(m)

    def posterior_and_kl(self, x: torch.Tensor, y: torch.Tensor | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z ~ q(z|x) and the latent term of the variational bound, KL(q(z|x) ‖ N(0, I)) per sample, in nats."""
        m, log_s = self._posterior(x)
        kl = standard_normal_kl(m, log_s)
        return m + log_s.exp() * torch.randn(m.shape, generator=generator, dtype=m.dtype), kl

    @property
    def latent_normals(self) -> int:
        """How many standard normals one latent is made from (:meth:`latent_from_normals`)."""
        return self.latent_dim

    def latent_from_normals(self, normals: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z ~ p̂(z) = N(0, I) from each row's ``latent_normals`` standard normals."""
        return normals

    def sample_latent(self, generators: list[torch.Generator], y: torch.Tensor | None = None) -> torch.Tensor:
        return self.latent_from_normals(torch.stack([torch.randn(self.latent_dim, generator=g) for g in generators]))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(z)

    @torch.no_grad()
    def fit_latent_prior(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """p(z) is fixed to N(0, I): nothing to fit."""


class SkipEncoder(nn.Module):
    """z = W x + MLP(x) with W = I (padded) and the MLP's last layer zero at initialisation.

    At initialisation the encodings are the data themselves, so the k-means seeding of the codebook sees
    the real cluster geometry; a random MLP alone can fold the plane and merge clusters (seen: codes that
    each covered a whole grid column).
    """

    def __init__(self, data_dim: int, hidden: int, depth: int, latent_dim: int) -> None:
        super().__init__()
        self.skip = nn.Linear(data_dim, latent_dim, bias=False)
        self.mlp = mlp(data_dim, hidden, depth, latent_dim)
        with torch.no_grad():
            self.skip.weight.copy_(torch.eye(latent_dim, data_dim))
            self.mlp[-1].weight.zero_()
            self.mlp[-1].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.mlp(x)


class VQVAE2D(nn.Module):
    """K-code VQ-VAE with a Gaussian decoder; p̂(z) = empirical code frequencies on the training set.

    The codebook is initialised by k-means on the first batch's encodings and unused codes are restarted
    at random encodings, because a collapsed codebook would make the prior miss grid cells entirely.
    """

    kind = "vqvae"

    def __init__(
        self, data_dim: int, codes: int, latent_dim: int, hidden: int, depth: int, commitment: float, sigma_floor: float
    ) -> None:
        super().__init__()
        self.encoder = SkipEncoder(data_dim, hidden, depth, latent_dim)
        self.codebook = nn.Parameter(torch.zeros(codes, latent_dim))
        self.decoder = GaussianDecoder(latent_dim, data_dim, hidden, depth, sigma_floor)
        self.commitment = commitment
        self.register_buffer("code_probs", torch.full((codes,), 1.0 / codes))
        self.register_buffer("initialised", torch.tensor(False))
        self.register_buffer("usage", torch.zeros(codes))

    def codes_of(self, x: torch.Tensor) -> torch.Tensor:
        """The index of the nearest code to each encoding: z for x (the VQ posterior is deterministic)."""
        return torch.cdist(self.encoder(x), self.codebook).argmin(1)

    @torch.no_grad()
    def init_codebook(self, x: torch.Tensor, restarts: int = 5, iters: int = 25) -> None:
        """k-means on the encodings of ``x``: k-means++ seeding, Lloyd iterations, best of ``restarts``.

        Random seeding often puts two codes in one grid cell, and a single k-means++ run sometimes too.
        """
        z_e = self.encoder(x)
        k = self.codebook.shape[0]
        best, best_inertia = None, float("inf")
        for _ in range(restarts):
            centres = [z_e[torch.randint(len(z_e), (1,))].squeeze(0)]
            for _ in range(1, k):
                d2 = torch.cdist(z_e, torch.stack(centres)).min(1).values ** 2
                centres.append(z_e[torch.multinomial(d2 / d2.sum(), 1)].squeeze(0))
            centres = torch.stack(centres)
            for _ in range(iters):
                assign = torch.cdist(z_e, centres).argmin(1)
                for j in range(k):
                    members = z_e[assign == j]
                    if len(members):
                        centres[j] = members.mean(0)
            inertia = (torch.cdist(z_e, centres).min(1).values ** 2).sum().item()
            if inertia < best_inertia:
                best, best_inertia = centres, inertia
        self.codebook.copy_(best)
        self.initialised.fill_(True)

    @torch.no_grad()
    def restart_dead_codes(self, x: torch.Tensor) -> int:
        """Move codes (almost) unused since the last call onto encodings of ``x`` far from every code.

        A code is dead when it served under a tenth of the mean usage (a code that serves a sliver of a
        cell is as bad as none). Encodings are picked with probability ∝ squared distance to their nearest
        code (as in k-means++), so a dead code lands where one live code is covering two clusters.
        Returns how many codes moved.
        """
        dead = (self.usage < 0.1 * self.usage.mean()).nonzero().flatten()
        for j in dead:
            z_e = self.encoder(x)
            d2 = torch.cdist(z_e, self.codebook).min(1).values ** 2
            self.codebook[j] = z_e[torch.multinomial(d2 / d2.sum(), 1)].squeeze(0)
        self.usage.zero_()
        return len(dead)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        z_e = self.encoder(x)
        if not bool(self.initialised):
            self.init_codebook(x)
        idx = torch.cdist(z_e, self.codebook).argmin(1)
        self.usage += torch.bincount(idx, minlength=len(self.usage)).to(self.usage)
        z_q = self.codebook[idx]
        codebook_loss = F.mse_loss(z_q, z_e.detach()) + self.commitment * F.mse_loss(z_e, z_q.detach())
        mu, sigma = self.decoder(z_e + (z_q - z_e).detach())  # straight-through estimator
        nll = gaussian_nll(x, mu, sigma).mean()
        return nll + codebook_loss, {"nll": nll.item(), "vq": codebook_loss.item()}

    def posterior_sample(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.codebook[self.codes_of(x)]

    def posterior_params(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The code of x: q(z|x) is a point mass."""
        return self.posterior_sample(x, y)

    def posterior_from_params(self, params: torch.Tensor) -> torch.Tensor:
        return params

    def posterior_and_kl(self, x: torch.Tensor, y: torch.Tensor | None = None,
                         generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """z = the code of x and the latent term of the variational bound, in nats.

        The encoder is deterministic, q(z|x) = δ(code(x)), so KL(q(z|x) ‖ p̂) = −log p̂(code(x)) (+∞ for a code
        that no training point used).
        """
        idx = self.codes_of(x)
        return self.codebook[idx], -self.code_probs[idx].log()

    latent_normals = 1  # one standard normal per code drawn (:meth:`latent_from_normals`)

    def latent_from_normals(self, normals: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """One code per row, k ~ p̂ by inverse CDF over the used codes at Φ(n), n the row's standard normal (a
        normal rather than a uniform, so the sampling loop draws it in the same call as the sample's noise;
        torch.multinomial per sample cost 0.1 ms each). n is compared with the thresholds Φ⁻¹(CDF) instead of
        computing Φ(n) per row, whose vectorised and scalar kernels may differ in the last bit (and a code
        would then depend on the batch)."""
        used = self.code_probs.nonzero().flatten()
        cdf = self.code_probs[used].double().cumsum(0)
        thresholds = torch.special.ndtri(cdf / cdf[-1])
        k = torch.searchsorted(thresholds, normals[:, 0].double().contiguous(), right=True)
        return self.codebook[used[k.clamp(max=len(used) - 1)]]

    def sample_latent(self, generators: list[torch.Generator], y: torch.Tensor | None = None) -> torch.Tensor:
        """One code per generator (:meth:`latent_from_normals` of one normal each)."""
        return self.latent_from_normals(torch.stack([torch.randn(1, generator=g) for g in generators]))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decoder(z)

    @torch.no_grad()
    def fit_latent_prior(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """Set p̂(z) to the code frequencies of the training set."""
        counts = torch.bincount(self.codes_of(x), minlength=len(self.code_probs)).to(self.code_probs)
        self.code_probs.copy_(counts / counts.sum())


def build_prior(spec: dict, size: dict, data_dim: int) -> nn.Module:
    """A prior from its config entry (``kind`` and hyper-parameters) and size entry (``hidden``, ``depth``)."""
    kind = spec["kind"]
    common = dict(data_dim=data_dim, hidden=size["hidden"], depth=size["depth"], sigma_floor=spec["sigma_floor"])
    if kind == "vqvae":
        return VQVAE2D(codes=spec["codes"], latent_dim=spec["latent_dim"], commitment=spec["commitment"], **common)
    if kind == "betavae":
        return BetaVAE2D(latent_dim=spec["latent_dim"], beta=spec["beta"], **common)
    raise ValueError(f"prior kind={kind!r}; allowed: {list(PRIOR_KINDS)}")
