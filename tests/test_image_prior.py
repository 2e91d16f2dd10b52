"""The convolutional β-VAE's latent prior p̂(z|y): fitted to the aggregate posterior, sampled per class, saved
with the model, and what makes its samples show the class they were drawn for."""

from __future__ import annotations

import math

import pytest
import torch

from rpd.diffusion import sample_generators, sample_prior
from rpd.priors.conv import ConvBetaVAE


def _prior(num_classes: int = 2, latent_dim: int = 3) -> ConvBetaVAE:
    torch.manual_seed(0)
    return ConvBetaVAE((1, 8, 8), latent_dim=latent_dim, channels=[8, 16], beta=1.0, sigma_floor=0.1,
                       num_classes=num_classes)


def _covariance(prior: ConvBetaVAE) -> torch.Tensor:
    return prior.latent_scale_tril @ prior.latent_scale_tril.transpose(1, 2)


def test_fit_recovers_each_class_mean_and_aggregate_covariance():
    """Synthetic posteriors: class k's means m ~ N(μ_k, C_k) (correlated), every s = 0.5; p̂(z|k) must be
    N(μ_k, C_k + 0.25 I): the mixture's mean and covariance, not only the spread of the means."""
    prior = _prior()
    g = torch.Generator().manual_seed(1)
    n = 6000  # more than fit_latent_prior's chunk, so the chunks are stitched
    y = torch.arange(n) % 2
    centres = torch.tensor([[2.0, -1.0, 0.0], [-3.0, 0.5, 1.0]])
    factors = torch.tensor([[[1.0, 0.0, 0.0], [0.8, 0.3, 0.0], [0.0, -1.0, 1.5]],
                            [[0.4, 0.0, 0.0], [0.0, 1.4, 0.0], [0.5, 0.5, 0.5]]])
    spreads = factors @ factors.transpose(1, 2)
    m = centres[y] + (factors[y] @ torch.randn(n, 3, 1, generator=g))[:, :, 0]
    params = torch.cat([m, torch.full((n, 3), math.log(0.5))], 1)
    prior.posterior_params = lambda x, labels: x  # "images" are their own posterior parameters here
    prior.fit_latent_prior(params, y)
    torch.testing.assert_close(prior.latent_mean, centres, rtol=0, atol=5 * (3.25 / (n / 2)) ** 0.5)
    expected = spreads + 0.25 * torch.eye(3)
    torch.testing.assert_close(_covariance(prior), expected, rtol=0, atol=0.1 * expected.diagonal(0, 1, 2).max())
    # unlabelled data: one Gaussian for the whole set, exactly the sample moments
    single = _prior(num_classes=0)
    single.posterior_params = lambda x, labels: x
    single.fit_latent_prior(params)
    torch.testing.assert_close(single.latent_mean[0], m.mean(0))
    torch.testing.assert_close(_covariance(single)[0], torch.cov(m.T, correction=0) + 0.25 * torch.eye(3))


def test_fit_needs_every_class():
    prior = _prior(num_classes=3)
    with pytest.raises(ValueError, match="class 2 has no training image"):
        prior.fit_latent_prior(torch.randn(6, 1, 8, 8), torch.tensor([0, 1, 0, 1, 0, 1]))


def test_sample_latent_draws_from_the_class_component_per_generator():
    prior = _prior()
    with torch.no_grad():
        prior.latent_mean.copy_(torch.tensor([[5.0, 0.0, -5.0], [-5.0, 1.0, 5.0]]))
        prior.latent_scale_tril.copy_(torch.tensor([[[1.0, 0.0, 0.0], [1.5, 0.5, 0.0], [0.0, 0.0, 0.5]],
                                                    [[0.1, 0.0, 0.0], [0.0, 1.0, 0.0], [-2.0, 1.0, 2.0]]]))
    n = 4000
    y = torch.arange(n) % 2
    z = prior.sample_latent(sample_generators(0, range(n)), y)
    covariance = _covariance(prior)
    for k in (0, 1):
        zk = z[y == k]
        torch.testing.assert_close(zk.mean(0), prior.latent_mean[k], rtol=0, atol=5 * 3 / math.sqrt(n / 2))
        torch.testing.assert_close(torch.cov(zk.T), covariance[k], rtol=0, atol=0.1 * covariance[k].diagonal().max())
    # a sample depends on its own generator and class only, not on the batch it was drawn in
    torch.testing.assert_close(prior.sample_latent(sample_generators(0, range(10, 20)), y[10:20]), z[10:20],
                               rtol=0, atol=0)
    with pytest.raises(ValueError, match="pass the labels y"):
        prior.sample_latent(sample_generators(0, range(3)))


def test_unfitted_prior_is_the_standard_normal():
    """Before fit_latent_prior, p̂ = N(0, I): the same draws as torch.randn from each generator."""
    prior = _prior()
    z = prior.sample_latent(sample_generators(3, range(5)), torch.tensor([0, 1, 0, 1, 1]))
    expected = torch.stack([torch.randn(3, generator=g) for g in sample_generators(3, range(5))])
    torch.testing.assert_close(z, expected, rtol=0, atol=0)


def test_state_dict_carries_the_latent_prior():
    prior = _prior()
    with torch.no_grad():
        prior.latent_mean.fill_(2.0)
        prior.latent_scale_tril.mul_(3.0)
    state = prior.state_dict()
    fresh = _prior()
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.latent_mean, prior.latent_mean)
    torch.testing.assert_close(fresh.latent_scale_tril, prior.latent_scale_tril)
    old = {k: v for k, v in state.items() if not k.startswith("latent_")}
    with pytest.raises(ValueError, match="retrain the prior"):
        fresh.load_state_dict(old)


def _two_class_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """8×8 images in [−1, 1]: class 0 a bright left half, class 1 a bright right half, with noise and a random
    brightness, so the image (and hence z) reveals the class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.full((n, 1, 8, 8), -1.0)
    bright = 0.5 + 0.5 * torch.rand(n, generator=g)
    for k, cols in ((0, slice(0, 4)), (1, slice(4, 8))):
        x[y == k, :, :, cols] = bright[y == k, None, None, None]
    return (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(-1, 1), y


def _class_of(images: torch.Tensor) -> torch.Tensor:
    """0 where the left half is brighter than the right, else 1."""
    return (images[..., 4:].mean((1, 2, 3)) > images[..., :4].mean((1, 2, 3))).long()


def _class_blind_decoder(prior: ConvBetaVAE) -> None:
    """Zero the decoder's weights on the class input and keep them zero: the decoder reads the class from z
    alone, the extreme of what quick's fmnist prior learned (its samples from z ~ N(0, I) showed class y for 26%
    against 87% for real images). With the class input live, this toy's decoder takes the class from y and any
    p(z) passes."""
    d = prior.latent_dim
    with torch.no_grad():
        prior.from_latent.weight[:, d:] = 0
    prior.from_latent.weight.register_hook(lambda grad: torch.cat([grad[:, :d], torch.zeros_like(grad[:, d:])], 1))


def _class_accuracy(prior: ConvBetaVAE, n: int = 400) -> float:
    samples = torch.from_numpy(sample_prior(prior, n, seed=0, batch_size=100, num_classes=2))
    drawn_for = torch.arange(n) % 2  # rpd.diffusion.sample_labels: sample i is drawn for class i mod C
    return (_class_of(samples) == drawn_for).double().mean().item()


def test_prior_samples_show_their_class():
    """A tiny β-VAE trained on two visually distinct classes: its own samples (z ~ p̂(z|y), x ~ decoder(z, y))
    show class y; z ~ N(0, I), drawn without regard to y (the prior before fit_latent_prior), does not."""
    x, y = _two_class_images(1024, seed=0)
    prior = _prior(latent_dim=4)
    _class_blind_decoder(prior)
    opt = torch.optim.Adam(prior.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        idx = torch.randint(len(x), (64,), generator=g)
        loss, _ = prior.loss(x[idx], y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    prior.eval().requires_grad_(False)
    assert _class_accuracy(prior) < 0.75  # N(0, I): measured 0.49 (chance)
    prior.fit_latent_prior(x, y)
    assert _class_accuracy(prior) > 0.9  # p̂(z|y): measured 1.0
