"""Closed forms for diagonal Gaussians shared by the priors and the variational bound (:mod:`rpd.elbo`).

A module of its own (torch only), so that a prior's training job does not import the bound's evaluation code.
"""

from __future__ import annotations

import torch


def gaussian_kl(m_q: torch.Tensor, v_q: torch.Tensor, m_p: torch.Tensor, v_p: torch.Tensor) -> torch.Tensor:
    """KL(N(m_q, v_q) ‖ N(m_p, v_p)) for diagonal Gaussians, summed over all but the batch dimension."""
    return (0.5 * (torch.log(v_p / v_q) + (v_q + (m_q - m_p) ** 2) / v_p - 1)).flatten(1).sum(1)


def standard_normal_kl(m: torch.Tensor, log_s: torch.Tensor) -> torch.Tensor:
    """KL(N(m, diag s²) ‖ N(0, I)) per sample (summed over dimension 1), from the mean and the log-sd.

    :func:`gaussian_kl` with m_p = 0, v_p = 1, written in the log-sd so that no variance is divided or logged.
    """
    return 0.5 * (m**2 + (2 * log_s).exp() - 1 - 2 * log_s).sum(1)
