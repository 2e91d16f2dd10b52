"""rpd.gaussians: closed-form KLs of diagonal Gaussians, against hand-computed values."""

from __future__ import annotations

import math

import torch

from rpd.gaussians import gaussian_kl, standard_normal_kl


def test_standard_normal_kl_known_answer() -> None:
    # KL(N(1, 2²) ‖ N(0, 1)) = ½(1 + 4 − 1 − ln 4) = 2 − ln 2 per dimension; two dimensions summed
    m, log_s = torch.ones(1, 2, dtype=torch.float64), torch.full((1, 2), math.log(2), dtype=torch.float64)
    assert torch.allclose(standard_normal_kl(m, log_s), torch.tensor([2 * (2 - math.log(2))], dtype=torch.float64))


def test_gaussian_kl_known_answer() -> None:
    # KL(N(0, 1) ‖ N(1, 2)) = ½(ln 2 + (1 + 1)/2 − 1) = ½ ln 2
    one = torch.ones(1, 1, dtype=torch.float64)
    assert torch.allclose(gaussian_kl(0 * one, one, one, 2 * one), torch.tensor([0.5 * math.log(2)],
                                                                                dtype=torch.float64))


def test_standard_normal_kl_is_gaussian_kl_to_the_standard_normal() -> None:
    g = torch.Generator().manual_seed(0)
    m, log_s = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    expected = gaussian_kl(m, (2 * log_s).exp(), torch.zeros_like(m), torch.ones_like(m))
    assert torch.allclose(standard_normal_kl(m, log_s), expected)
