"""Stage-1 priors: coarse latent-variable models with a Gaussian decoder N(μ̂(z), diag σ̂(z)²)."""

from rpd.priors.vae2d import VQVAE2D, BetaVAE2D, build_prior

__all__ = ["BetaVAE2D", "VQVAE2D", "build_prior"]
