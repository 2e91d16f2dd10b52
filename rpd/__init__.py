"""rpd-bench: Residual Prior Diffusion (RPD) against DDPM and DiffuseVAE, as a reproducible benchmark suite."""

__version__ = "0.1.0"
