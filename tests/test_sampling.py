"""Stage-2 sampling is reproducible and batch-independent; the training loss trains (rpd.diffusion)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rpd.diffusion import DiffusionSpec, denoiser_training, sample, sample_generators, step_noise, training_loss
from rpd.frames import num_extra_inputs
from rpd.nets.mlp import DenoiserMLP
from rpd.priors import VQVAE2D, BetaVAE2D

T = 1000
D = 2

# (family, aux, target, prior kind)
MODELS = {
    "rpd": ("rpd", "omega", "eps", "vqvae"),
    "rpd_v": ("rpd", "omega", "v", "vqvae"),
    "rpd_mu": ("rpd", "mu", "eps", "vqvae"),
    "ddpm": ("ddpm", "omega", "eps", None),
    "diffusevae1": ("diffusevae1", "omega", "eps", "betavae"),
    "diffusevae2": ("diffusevae2", "omega", "eps", "betavae"),
}


def _prior(kind: str | None, seed: int = 0):
    torch.manual_seed(seed)
    if kind is None:
        return None
    if kind == "vqvae":
        prior = VQVAE2D(data_dim=D, codes=4, latent_dim=2, hidden=16, depth=2, commitment=0.25, sigma_floor=0.1)
        with torch.no_grad():  # an untrained codebook is all zeros: spread the codes so z matters
            prior.codebook.copy_(torch.randn(4, 2) * 2)
            prior.code_probs.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    else:
        prior = BetaVAE2D(data_dim=D, latent_dim=2, hidden=16, depth=2, beta=1.0, sigma_floor=0.1)
    prior.eval()
    for p in prior.parameters():
        p.requires_grad_(False)
    return prior


def _setup(model: str, hidden: int = 32, seed: int = 0):
    family, aux, target, kind = MODELS[model]
    spec = DiffusionSpec(family, aux, target, T, "linear")
    prior = _prior(kind, seed)
    torch.manual_seed(seed + 1)
    net = DenoiserMLP(D, num_extra_inputs(family, aux), hidden=hidden, depth=2)
    return spec, net, prior


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("model", ["rpd", "rpd_v", "ddpm", "diffusevae2"])
def test_batch_size_independence(model, sampler):
    spec, net, prior = _setup(model)
    a = sample(spec, net, prior, n=64, data_shape=(D,), sampler=sampler, steps=3, seed=5, batch_size=7)
    b = sample(spec, net, prior, n=64, data_shape=(D,), sampler=sampler, steps=3, seed=5, batch_size=64)
    c = sample(spec, net, prior, n=64, data_shape=(D,), sampler=sampler, steps=3, seed=5, batch_size=30)
    assert a.shape == (64, D) and np.isfinite(a).all()
    # rtol too: with ε-prediction an untrained net's first step r₀ = (r − √(1−ᾱ) ε̂)/√ᾱ, √ᾱ_999 ≈ 0.0064,
    # gives samples of size ~100, where float32 rounding of differently-batched matmuls (~1e-6 relative)
    # exceeds 1e-5 absolute. A batching bug (misaligned generators) would differ by O(1) relative.
    tol = dict(atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(a, b, **tol)
    np.testing.assert_allclose(a, c, **tol)
    # and the first samples of a larger draw are the samples of a smaller one
    d = sample(spec, net, prior, n=20, data_shape=(D,), sampler=sampler, steps=3, seed=5, batch_size=20)
    np.testing.assert_allclose(a[:20], d, **tol)
    # the samples are not all the same point
    assert np.unique(np.round(a, 6), axis=0).shape[0] == 64


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_seed_reproducibility(sampler):
    spec, net, prior = _setup("rpd")
    a = sample(spec, net, prior, n=32, data_shape=(D,), sampler=sampler, steps=3, seed=11, batch_size=16)
    torch.manual_seed(999)  # the global RNG must not matter
    np.random.seed(999)
    b = sample(spec, net, prior, n=32, data_shape=(D,), sampler=sampler, steps=3, seed=11, batch_size=16)
    c = sample(spec, net, prior, n=32, data_shape=(D,), sampler=sampler, steps=3, seed=12, batch_size=16)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert np.all(np.any(np.abs(a - c) > 1e-6, axis=1))  # every sample changes, not just some


def test_sampling_steps_change_samples():
    """Different K give different samples from the same seed (K is actually used)."""
    spec, net, prior = _setup("rpd")
    a = sample(spec, net, prior, n=16, data_shape=(D,), sampler="ddim", steps=1, seed=0, batch_size=16)
    b = sample(spec, net, prior, n=16, data_shape=(D,), sampler="ddim", steps=3, seed=0, batch_size=16)
    assert not np.allclose(a, b)


def _draws(gens, k=8):
    return torch.stack([torch.randn(k, generator=g) for g in gens])


def test_sample_generators():
    a = _draws(sample_generators(0, range(50)))
    b = _draws(sample_generators(0, range(50)))
    torch.testing.assert_close(a, b, rtol=0, atol=0)  # reproducible
    # streams differ across indices
    assert len({tuple(row.tolist()) for row in a}) == 50
    corr = np.corrcoef(a.numpy())
    assert np.abs(corr[~np.eye(50, dtype=bool)]).max() < 0.999
    # a sample's stream depends on its index only, not on the range it is drawn in
    torch.testing.assert_close(_draws(sample_generators(0, range(20, 30))), a[20:30], rtol=0, atol=0)
    # different seeds give different streams, also for the same index, and no shift of indices
    c = _draws(sample_generators(1, range(50)))
    assert not any(torch.equal(c[i], a[j]) for i in range(50) for j in range(50))
    # the streams look standard normal as a whole
    big = _draws(sample_generators(3, range(400)), k=10).flatten()
    assert abs(big.mean().item()) < 5 / math.sqrt(big.numel())
    assert abs(big.std().item() - 1) < 5 / math.sqrt(2 * big.numel())


@pytest.mark.parametrize("block_elements", [1, 6, 2**14])
def test_step_noise_depends_on_the_sample_only(block_elements):
    """Each sample's ancestral noise (drawn in blocks of steps) is the same whatever batch it is drawn in, with
    blocks of 1 step (block_elements = 1), of 3 steps crossing K = 10 (6 elements), and of all K at once."""
    shape, steps = (2,), 10
    whole = torch.stack(list(step_noise(sample_generators(4, range(12)), shape, steps, block_elements)))
    assert whole.shape == (steps, 12, 2)
    part = torch.stack(list(step_noise(sample_generators(4, range(5, 9)), shape, steps, block_elements)))
    torch.testing.assert_close(part, whole[:, 5:9], rtol=0, atol=0)
    # fresh noise at every step and for every sample, standard normal as a whole
    assert len({tuple(v.tolist()) for v in whole.reshape(-1, 2)}) == steps * 12
    big = torch.stack(list(step_noise(sample_generators(5, range(200)), shape, 50, block_elements))).flatten()
    assert abs(big.mean().item()) < 5 / math.sqrt(big.numel())
    assert abs(big.std().item() - 1) < 5 / math.sqrt(2 * big.numel())


@pytest.mark.parametrize("block_elements", [1, 6, 2**14])
def test_a_prior_latents_normals_come_first_from_the_same_generators(block_elements):
    """With lead = L, step_noise first yields b×L normals (drawn in the same call as the first block of noise),
    then the steps' noise; both are the same whatever batch a sample is drawn in."""
    shape, steps, lead = (2,), 10, 3
    whole = list(step_noise(sample_generators(4, range(12)), shape, steps, block_elements, lead=lead))
    part = list(step_noise(sample_generators(4, range(5, 9)), shape, steps, block_elements, lead=lead))
    assert whole[0].shape == (12, lead) and len(whole) == 1 + steps
    for w, p in zip(whole, part, strict=True):
        torch.testing.assert_close(p, w[5:9], rtol=0, atol=0)
    # the lead is fresh normals, not a copy of the noise
    assert not torch.equal(whole[0][:, :2], whole[1])


def test_vq_latents_follow_the_code_frequencies():
    """VQVAE2D.sample_latent draws code k with probability p̂(k), never a code of probability 0, one per generator."""
    prior = _prior("vqvae")
    with torch.no_grad():
        prior.code_probs.copy_(torch.tensor([0.1, 0.0, 0.6, 0.3]))
    z = prior.sample_latent(sample_generators(0, range(6000)))
    codes = torch.cdist(z, prior.codebook).argmin(1)
    freq = torch.bincount(codes, minlength=4).double() / len(codes)
    assert freq[1] == 0
    torch.testing.assert_close(freq, prior.code_probs.double(), rtol=0, atol=0.025)
    torch.testing.assert_close(prior.sample_latent(sample_generators(0, range(10, 20))), z[10:20], rtol=0, atol=0)


@pytest.mark.parametrize("model", ["rpd", "diffusevae1", "ddpm"])
def test_cached_posterior_gives_the_same_loss(model):
    """denoiser_training's cached posterior parameters give the loss of the per-step encoder (same global RNG
    draws: z, then t and ε), and the cache is skipped when training would see only part of the set."""
    spec, net, prior = _setup(model)
    x = _toy_data(300)
    loss, data = denoiser_training(spec, net, prior, x, draws=300)
    if prior is None:
        assert data is x
    else:
        assert isinstance(data, tuple) and len(data) == 2 and len(data[1]) == 300
    for seed in range(3):
        idx = torch.randint(0, 300, (64,), generator=torch.Generator().manual_seed(seed))
        torch.manual_seed(seed)
        cached = loss(data[idx] if prior is None else tuple(d[idx] for d in data))
        torch.manual_seed(seed)
        direct = training_loss(spec, net, prior, x[idx])
        torch.testing.assert_close(cached, direct, rtol=1e-5, atol=1e-6)
    assert denoiser_training(spec, net, prior, x, draws=299)[1] is x


def _toy_data(n=2000, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    return centres[torch.randint(0, 4, (n,), generator=g)] + 0.1 * torch.randn(n, 2, generator=g)


def _eval_loss(spec, net, prior, x, seed=123, reps=8):
    """Mean loss over ``reps`` batches with a fixed global seed: the same t, ε and z before and after."""
    torch.manual_seed(seed)
    with torch.no_grad():
        return float(np.mean([training_loss(spec, net, prior, x).item() for _ in range(reps)]))


@pytest.mark.parametrize("model", list(MODELS))
def test_training_loss_decreases(model):
    spec, net, prior = _setup(model, hidden=32)
    x = _toy_data()
    before = _eval_loss(spec, net, prior, x[:1024])
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    torch.manual_seed(7)
    g = torch.Generator().manual_seed(8)
    for _ in range(200):
        batch = x[torch.randint(0, len(x), (128,), generator=g)]
        loss = training_loss(spec, net, prior, batch)
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = _eval_loss(spec, net, prior, x[:1024])
    assert math.isfinite(before) and math.isfinite(after)
    assert after < 0.9 * before, (before, after)  # seen: 0.17–0.81 of the initial loss
    # the prior stays frozen: stage 2 never gives it a gradient
    if prior is not None:
        assert all(p.grad is None for p in prior.parameters())
