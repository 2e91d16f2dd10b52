"""Closed forms for diagonal Gaussians shared by the priors and the variational bound (:mod:`rpd.elbo`).

A module of its own (torch only), so that a prior's training job does not import the bound's evaluation code.
"""

from __future__ import annotations

import torch


def gaussian_kl(m_q: torch.Tensor, v_q: torch.Tensor, m_p: torch.Tensor, v_p: torch.Tensor) -> torch.Tensor:
    """KL(N(m_q, v_q) ‖ N(m_p, v_p)) for diagonal Gaussians, summed over all but the batch dimension."""
    return (0.5 * (torch.log(v_p / v_q) + (v_q + (m_q - m_p) ** 2) / v_p - 1)).flatten(1).sum(1)
