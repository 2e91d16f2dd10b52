"""Denoising networks: an MLP for 2D data (images use diffusers' UNet2DModel)."""
