"""The β-VAE loss (rpd.priors.vae2d.beta_vae_loss), shared by the 2D and the image β-VAE, on known answers."""

import math

import pytest
import torch

from rpd.priors.conv import ConvBetaVAE
from rpd.priors.vae2d import BetaVAE2D, beta_vae_loss


def test_beta_vae_loss_is_the_gaussian_nll_plus_beta_times_the_closed_form_kl():
    x = torch.tensor([[1.0, -1.0], [0.0, 2.0]])
    m, log_s = torch.ones(2, 3), torch.full((2, 3), math.log(2.0))  # KL per dimension: (1 + 4 - 1 - 2 log 2) / 2
    mu, sigma = torch.zeros(2, 2), torch.full((2, 2), 2.0)
    loss, parts = beta_vae_loss(x, m, log_s, 0.5, lambda z: (mu, sigma))
    nll = [2 * (0.5 * math.log(2 * math.pi) + math.log(2.0)) + 0.5 * (v / 4) for v in (2.0, 4.0)]  # Σ x² per row
    kl = 3 * (4 - 2 * math.log(2.0)) / 2
    assert parts["nll"] == pytest.approx(sum(nll) / 2)
    assert parts["kl"] == pytest.approx(kl)
    assert loss.item() == pytest.approx(sum(nll) / 2 + 0.5 * kl)


def test_beta_vae_loss_decodes_a_reparametrised_draw_of_the_posterior():
    torch.manual_seed(0)
    m = torch.tensor([[3.0, -2.0]]).expand(20000, 2).clone().requires_grad_(True)
    log_s = torch.full((20000, 2), math.log(0.5))
    seen = {}

    def decode(z):
        seen["z"] = z
        return z, torch.ones_like(z)

    beta_vae_loss(torch.zeros(20000, 2), m, log_s, 1.0, decode)
    z = seen["z"]
    assert z.mean(0).tolist() == pytest.approx([3.0, -2.0], abs=0.02)
    assert z.std(0).tolist() == pytest.approx([0.5, 0.5], abs=0.02)
    assert z.requires_grad  # the draw is m + s·ε, so the loss trains the encoder through it


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_both_beta_vaes_weight_their_kl_by_beta(beta):
    x2d, ximg = torch.randn(16, 2), torch.rand(16, 1, 8, 8) * 2 - 1
    for prior, x in ((BetaVAE2D(2, 2, 16, 1, beta=beta, sigma_floor=0.1), x2d),
                     (ConvBetaVAE((1, 8, 8), 4, [8, 8], beta=beta, sigma_floor=0.1), ximg)):
        torch.manual_seed(1)
        loss, parts = prior.loss(x)
        assert loss.item() == pytest.approx(parts["nll"] + beta * parts["kl"], rel=1e-5)
