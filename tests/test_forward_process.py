"""The maths of SPEC §2: the RPD forward process, the ε / v / x₀ conversions, ω, frames, samplers.

Statistical checks use a fixed seed and a tolerance of about five standard errors, so they are
deterministic and would only fail on a real discrepancy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.utils.torch_utils import randn_tensor
from scipy import stats
from torch import nn

from rpd.diffusion import DiffusionSpec, sample
from rpd.families import AUX_INPUTS, FAMILIES
from rpd.frames import extra_inputs, make_frame, num_extra_inputs, omega
from rpd.schedule import (
    alphas_cumprod,
    eps_from_v,
    make_sampler,
    make_training_scheduler,
    x0_from_eps,
    x0_from_v,
)

T = 1000
N = 20000
TIMES = (10, 200, 999)
MU = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
SIGMA = torch.tensor([0.3, 1.5, 0.8], dtype=torch.float64)
X0 = torch.tensor([1.2, 0.4, -0.7], dtype=torch.float64)


def _closed_form_moments(t: int, abar: torch.Tensor):
    a = abar[t].double()
    mean = a.sqrt() * X0 + (1 - a.sqrt()) * MU
    var = (1 - a) * SIGMA**2
    return mean, var


def _assert_moments(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, extra_mean_tol=0.0, what=""):
    """Sample mean and variance of x (N, d) against (mean, var), within 5 standard errors."""
    n = x.shape[0]
    se_mean = (var / n).sqrt()
    se_var = var * math.sqrt(2 / (n - 1))
    m, v = x.mean(0), x.var(0)
    assert torch.all((m - mean).abs() <= 5 * se_mean + extra_mean_tol), f"{what}: mean {m} vs {mean}"
    assert torch.all((v - var).abs() <= 5 * se_var), f"{what}: var {v} vs {var}"


@pytest.fixture(scope="module")
def scheduler():
    return make_training_scheduler(T, "linear", "eps")


@pytest.fixture(scope="module")
def chain_samples(scheduler):
    """x_t of the step-by-step chain x_t = √α_t x_{t−1} + (1 − √α_t) μ̂ + √β_t σ̂ ε at t in TIMES."""
    rng = np.random.default_rng(0)  # numpy: an independent noise source, and much faster than per-step torch.randn
    betas = scheduler.betas.double().numpy()
    mu, sigma = MU.numpy(), SIGMA.numpy()
    x = np.tile(X0.numpy(), (N, 1))
    out = {}
    for s in range(T):
        a = 1 - betas[s]
        x = np.sqrt(a) * x + (1 - np.sqrt(a)) * mu + np.sqrt(betas[s]) * sigma * rng.standard_normal(x.shape)
        if s in TIMES:
            out[s] = torch.from_numpy(x.copy())
    return out


def test_schedule_is_the_spec_linear_schedule(scheduler):
    betas = scheduler.betas.double()
    assert betas[0].item() == pytest.approx(1e-4)
    assert betas[-1].item() == pytest.approx(0.02)
    abar = torch.cumprod(1 - betas, 0)
    # diffusers' 0-based index: alphas_cumprod[t] = ∏_{s ≤ t} α_s
    torch.testing.assert_close(scheduler.alphas_cumprod.double(), abar, rtol=1e-4, atol=0)
    torch.testing.assert_close(alphas_cumprod(T, "linear"), scheduler.alphas_cumprod)
    assert 3e-5 < abar[-1].item() < 5e-5  # ᾱ_T ≈ 4e-5


@pytest.mark.parametrize("t", TIMES)
def test_chain_matches_closed_form(chain_samples, scheduler, t):
    mean, var = _closed_form_moments(t, scheduler.alphas_cumprod)
    _assert_moments(chain_samples[t], mean, var, what=f"chain t={t}")


@pytest.mark.parametrize("t", TIMES)
def test_implementation_path_matches_closed_form_and_chain(chain_samples, scheduler, t):
    g = torch.Generator().manual_seed(1 + t)
    x0 = X0.expand(N, -1).clone()
    mu, sigma = MU.expand(N, -1), SIGMA.expand(N, -1)
    frame = make_frame("rpd", x0, mu, sigma)
    r0 = frame.to_residual(x0)
    eps = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    r_t = scheduler.add_noise(r0, eps, torch.full((N,), t, dtype=torch.long))
    x_t = frame.to_data(r_t)

    # path-wise: exactly the closed form with the same ε
    a = scheduler.alphas_cumprod[t].double()
    closed = a.sqrt() * x0 + (1 - a.sqrt()) * mu + (1 - a).sqrt() * sigma * eps
    torch.testing.assert_close(x_t, closed, rtol=1e-10, atol=1e-10)

    # moments: closed form, and the chain (two-sample: difference of means, ratio of variances)
    mean, var = _closed_form_moments(t, scheduler.alphas_cumprod)
    _assert_moments(x_t, mean, var, what=f"implementation t={t}")
    chain = chain_samples[t]
    se_diff = (2 * var / N).sqrt()
    assert torch.all((x_t.mean(0) - chain.mean(0)).abs() <= 5 * se_diff)
    assert torch.all((x_t.var(0) - chain.var(0)).abs() <= 5 * var * math.sqrt(4 / N))


def test_terminal_distribution_is_the_prior(chain_samples, scheduler):
    """x_T → N(μ̂, σ̂²): where the reverse process starts."""
    a = scheduler.alphas_cumprod[-1].double()
    x_T = chain_samples[T - 1]
    # the bias √ᾱ_T (x₀ − μ̂) is < 1 % of |x₀ − μ̂|
    _assert_moments(x_T, MU, SIGMA**2, extra_mean_tol=(a.sqrt() * (X0 - MU).abs()).max().item(), what="x_T")
    z = ((x_T - MU) / SIGMA).numpy()
    for j in range(z.shape[1]):
        assert stats.kstest(z[:, j], "norm").pvalue > 1e-4
    # and a 1-step chain started elsewhere is *not* N(μ̂, σ̂²) (the check has power)
    x_10 = ((chain_samples[10] - MU) / SIGMA).numpy()
    assert stats.kstest(x_10[:, 0], "norm").pvalue < 1e-6


# ---------------------------------------------------------------- ε / v / x₀ conversions


@pytest.mark.parametrize("target", ["eps", "v"])
@pytest.mark.parametrize("shape", [(512, 2), (64, 3, 4, 4)])
def test_conversions_round_trip(target, shape):
    sch = make_training_scheduler(T, "linear", target)
    g = torch.Generator().manual_seed(2)
    r0 = torch.randn(shape, generator=g, dtype=torch.float64)
    eps = torch.randn(shape, generator=g, dtype=torch.float64)
    t = torch.randint(0, T, (shape[0],), generator=g)
    t[:2] = torch.tensor([0, T - 1])
    r_t = sch.add_noise(r0, eps, t)
    v = sch.get_velocity(r0, eps, t)
    abar = sch.alphas_cumprod[t]
    a = abar.double().reshape(-1, *([1] * (len(shape) - 1)))
    # the SPEC's definitions coincide with diffusers'
    torch.testing.assert_close(r_t, a.sqrt() * r0 + (1 - a).sqrt() * eps, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(v, a.sqrt() * eps - (1 - a).sqrt() * r0, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(eps_from_v(v, r_t, abar), eps, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(x0_from_eps(eps, r_t, abar), r0, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(x0_from_v(v, r_t, abar), r0, rtol=1e-9, atol=1e-9)


def test_conversions_float32():
    sch = make_training_scheduler(T, "linear", "v")
    g = torch.Generator().manual_seed(3)
    r0, eps = torch.randn(256, 2, generator=g), torch.randn(256, 2, generator=g)
    t = torch.randint(0, 900, (256,), generator=g)
    r_t, v, abar = sch.add_noise(r0, eps, t), sch.get_velocity(r0, eps, t), sch.alphas_cumprod[t]
    assert eps_from_v(v, r_t, abar).dtype == torch.float32
    torch.testing.assert_close(eps_from_v(v, r_t, abar), eps, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(x0_from_v(v, r_t, abar), r0, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(x0_from_eps(eps, r_t, abar), r0, rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------- ω and Prop. 2


def test_omega_identities():
    sch = make_training_scheduler(T, "linear", "eps")
    g = torch.Generator().manual_seed(4)
    r_t = torch.randn(300, 2, generator=g, dtype=torch.float64)
    t = torch.randint(0, T, (300,), generator=g)
    abar = sch.alphas_cumprod[t]
    a = abar.double()[:, None]
    w_eps = omega(r_t, abar, "eps")
    torch.testing.assert_close(w_eps, r_t / (1 - a).sqrt(), rtol=1e-12, atol=0)
    torch.testing.assert_close(omega(r_t, abar, "v"), a.sqrt() * w_eps, rtol=1e-12, atol=0)
    with pytest.raises(ValueError):
        omega(r_t, abar, "x0")


def test_prop2_pathwise():
    """ε − ω_ε = −√(ᾱ_t/(1 − ᾱ_t)) r₀ for each sample, with r_t from the implementation path."""
    sch = make_training_scheduler(T, "linear", "eps")
    g = torch.Generator().manual_seed(5)
    n = 1000
    x0 = torch.randn(n, 3, generator=g, dtype=torch.float64)
    mu = torch.randn(n, 3, generator=g, dtype=torch.float64)
    sigma = 0.2 + torch.rand(n, 3, generator=g, dtype=torch.float64)
    frame = make_frame("rpd", x0, mu, sigma)
    r0 = frame.to_residual(x0)
    eps = torch.randn(n, 3, generator=g, dtype=torch.float64)
    t = torch.randint(0, T, (n,), generator=g)
    abar = sch.alphas_cumprod[t]
    r_t = sch.add_noise(r0, eps, t)
    a = abar.double()[:, None]
    torch.testing.assert_close(eps - omega(r_t, abar, "eps"), -(a / (1 - a)).sqrt() * r0, rtol=1e-9, atol=1e-9)
    # ω_ε is the ε target implied by x₀ = μ̂: exact when x₀ really is μ̂
    r_t_at_mu = sch.add_noise(frame.to_residual(mu), eps, t)
    torch.testing.assert_close(omega(r_t_at_mu, abar, "eps"), eps, rtol=1e-9, atol=1e-9)


def test_prop2_error_proportional_to_prior_error():
    """E‖ε − ω_ε‖² ∝ ‖x₀ − μ̂‖² at fixed t (isotropic σ̂), with constant ᾱ/((1 − ᾱ) σ̂²)."""
    sch = make_training_scheduler(T, "linear", "eps")
    t, n, s = 300, 5000, 0.7
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    sigma = torch.full((3,), s, dtype=torch.float64)
    a = sch.alphas_cumprod[t].double()
    ratios = []
    for k, x0 in enumerate([torch.tensor([0.6, -1.2, 2.1]), torch.tensor([3.0, 1.0, -2.0])]):
        x0 = x0.double().expand(n, -1)
        frame = make_frame("rpd", x0, mu.expand(n, -1), sigma.expand(n, -1))
        eps = torch.randn(n, 3, generator=torch.Generator().manual_seed(10 + k), dtype=torch.float64)
        tt = torch.full((n,), t, dtype=torch.long)
        r_t = sch.add_noise(frame.to_residual(x0), eps, tt)
        err = ((eps - omega(r_t, sch.alphas_cumprod[tt], "eps")) ** 2).sum(1).mean()
        ratios.append((err / ((x0[0] - mu) ** 2).sum()).item())
    assert ratios[0] == pytest.approx(ratios[1], rel=1e-9)
    assert ratios[0] == pytest.approx((a / ((1 - a) * s**2)).item(), rel=1e-9)


# ---------------------------------------------------------------- frames


def _prior_outputs(n=50, d=2, seed=6):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    mu = torch.randn(n, d, generator=g)
    sigma = 0.1 + torch.rand(n, d, generator=g)
    return x, mu, sigma


def test_frame_centres_and_scales():
    x, mu, sigma = _prior_outputs()
    expected = {
        "rpd": (mu, sigma),
        "ddpm": (torch.zeros_like(x), torch.ones_like(x)),
        "diffusevae1": (torch.zeros_like(x), torch.ones_like(x)),
        "diffusevae2": (mu, torch.ones_like(x)),
    }
    assert set(expected) == set(FAMILIES)
    for family, (c, s) in expected.items():
        frame = make_frame(family, x, mu, sigma)
        torch.testing.assert_close(frame.centre, c, rtol=0, atol=0)
        torch.testing.assert_close(frame.scale, s, rtol=0, atol=0)
        torch.testing.assert_close(frame.to_residual(x), (x - c) / s)
    # families without a prior do not need one
    for family in ("ddpm", "diffusevae1"):
        assert torch.equal(make_frame(family, x, None, None).centre, torch.zeros_like(x))
    with pytest.raises(ValueError):
        make_frame("vae", x, mu, sigma)


@pytest.mark.parametrize("family", FAMILIES)
def test_frame_round_trip_and_forward_formula(family):
    x, mu, sigma = _prior_outputs()
    frame = make_frame(family, x, mu, sigma)
    torch.testing.assert_close(frame.to_data(frame.to_residual(x)), x, rtol=1e-5, atol=1e-5)
    # x_t = √ᾱ x₀ + (1 − √ᾱ) c + √(1 − ᾱ) s ε for every family (frames.py docstring)
    sch = make_training_scheduler(T, "linear", "eps")
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    t = torch.randint(0, T, (x.shape[0],), generator=torch.Generator().manual_seed(8))
    a = sch.alphas_cumprod[t][:, None]
    x_t = frame.to_data(sch.add_noise(frame.to_residual(x), eps, t))
    expected = a.sqrt() * x + (1 - a.sqrt()) * frame.centre + (1 - a).sqrt() * frame.scale * eps
    torch.testing.assert_close(x_t, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("family,aux,target", list(itertools.product(FAMILIES, AUX_INPUTS, ["eps", "v"])))
def test_extra_inputs(family, aux, target):
    x, mu, _ = _prior_outputs()
    abar = alphas_cumprod(T, "linear")[torch.arange(x.shape[0]) * 7]
    got = extra_inputs(family, aux, target, x, abar, mu)
    assert num_extra_inputs(family, aux) == len(got)
    if family == "ddpm":
        expected = []
    elif family in ("diffusevae1", "diffusevae2"):
        expected = [mu]
    else:
        expected = {"omega": [omega(x, abar, target), mu], "mu": [mu], "none": []}[aux]
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.shape == x.shape
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# ---------------------------------------------------------------- samplers


def _trailing(K):
    return (np.round(np.arange(T, 0, -T / K)) - 1).astype(np.int64)


@pytest.mark.parametrize("name", ["ddpm", "ddim"])
def test_sampler_timesteps(name):
    assert make_sampler(name, T, "linear", "eps", 1).timesteps.tolist() == [T - 1]
    ts3 = make_sampler(name, T, "linear", "eps", 3).timesteps.numpy()
    assert len(ts3) == 3 and ts3[0] == T - 1 and np.all(np.diff(ts3) < 0) and ts3[-1] >= 0
    np.testing.assert_array_equal(ts3, _trailing(3))
    ts50 = make_sampler(name, T, "linear", "eps", 50).timesteps.numpy()
    assert len(ts50) == 50 and ts50[0] == T - 1
    np.testing.assert_array_equal(make_sampler(name, T, "linear", "eps", T).timesteps.numpy(), np.arange(T - 1, -1, -1))
    for bad in (0, T + 1, -3):
        with pytest.raises(ValueError):
            make_sampler(name, T, "linear", "eps", bad)


def test_sampler_options():
    for name, target in itertools.product(["ddpm", "ddim"], ["eps", "v"]):
        s = make_sampler(name, T, "linear", target, 10)
        assert s.config.clip_sample is False
        assert s.config.timestep_spacing == "trailing"
        assert s.config.prediction_type == {"eps": "epsilon", "v": "v_prediction"}[target]
        assert s.config.num_train_timesteps == T
    assert isinstance(make_sampler("ddpm", T, "linear", "eps", 10), DDPMScheduler)
    assert isinstance(make_sampler("ddim", T, "linear", "eps", 10), DDIMScheduler)
    with pytest.raises(ValueError):
        make_sampler("euler", T, "linear", "eps", 10)
    with pytest.raises(ValueError):
        make_sampler("ddim", T, "quadratic", "eps", 10)
    with pytest.raises(ValueError):
        make_sampler("ddim", T, "linear", "x0", 10)
    # the cosine schedule is available too
    assert make_sampler("ddim", T, "cosine", "eps", 10).config.beta_schedule == "squaredcos_cap_v2"


def test_ddim_step_is_deterministic():
    g = torch.Generator().manual_seed(9)
    r, pred = torch.randn(32, 2, generator=g), torch.randn(32, 2, generator=g)
    outs = []
    for seed in (0, 1):
        s = make_sampler("ddim", T, "linear", "eps", 10)
        torch.manual_seed(seed)  # the global RNG must not matter: η = 0
        outs.append(s.step(pred, s.timesteps[3], r).prev_sample)
    assert torch.equal(outs[0], outs[1])
    # K = 1 jumps straight to the x₀ prediction at t = T − 1 (set_alpha_to_one)
    s = make_sampler("ddim", T, "linear", "eps", 1)
    out = s.step(pred, s.timesteps[0], r).prev_sample
    torch.testing.assert_close(out, x0_from_eps(pred, r, s.alphas_cumprod[T - 1].expand(32)), rtol=1e-5, atol=1e-5)
    # while the DDPM step is stochastic
    s = make_sampler("ddpm", T, "linear", "eps", 10)
    a = s.step(pred, s.timesteps[3], r, generator=torch.Generator().manual_seed(0)).prev_sample
    b = s.step(pred, s.timesteps[3], r, generator=torch.Generator().manual_seed(1)).prev_sample
    assert not torch.allclose(a, b)


# ---------------------------------------------------------------- sampling with an oracle denoiser

M = torch.tensor([1.5, -0.7])
S = torch.tensor([0.5, 2.0])


class GaussianOracle(nn.Module):
    """The exact ε (or v) predictor for r₀ ~ N(m, diag s²): E[ε | r_t] = √(1−ᾱ)(r_t − √ᾱ m)/(ᾱ s² + 1 − ᾱ).

    The network sees x_t in data space (SPEC §2), so the oracle first recovers r_t from its inputs as the
    ``family`` defines them (RPD with aux ``omega``: from ω, whose target is the oracle's).
    """

    def __init__(self, m, s, target="eps", family="ddpm"):
        super().__init__()
        self.m, self.s, self.target, self.family = m, s, target, family
        self.abar = alphas_cumprod(T, "linear")
        self.calls = 0

    def residual(self, x_t, extra, a):
        """r_t from x_t = c + s·r_t and the extra inputs of :func:`rpd.frames.extra_inputs`."""
        if self.family in ("ddpm", "diffusevae1"):  # c = 0, s = 1
            return x_t
        if self.family == "diffusevae2":  # c = x̂ (the extra input), s = 1
            return x_t - extra[0]
        omega_eps = extra[0] / a.sqrt() if self.target == "v" else extra[0]  # ω_v = √ᾱ ω_ε
        return omega_eps * (1 - a).sqrt()  # ω_ε = r_t / √(1 − ᾱ)

    def forward(self, x_t, t, extra, class_labels=None):
        self.calls += 1
        a = self.abar[t][:, None].to(x_t.dtype)
        r_t = self.residual(x_t, extra, a)
        var_t = a * self.s**2 + 1 - a
        eps = (1 - a).sqrt() * (r_t - a.sqrt() * self.m) / var_t
        if self.target == "eps":
            return eps
        r0 = self.m + a.sqrt() * self.s**2 * (r_t - a.sqrt() * self.m) / var_t
        return a.sqrt() * eps - (1 - a).sqrt() * r0


class FixedPrior(nn.Module):
    """A prior whose decoder ignores z: μ̂ and σ̂ are fixed vectors."""

    def __init__(self, mu, sigma):
        super().__init__()
        self.mu, self.sigma = mu, sigma

    latent_normals = 1

    def latent_from_normals(self, normals, y=None):
        return torch.zeros(len(normals), 1)

    def decode(self, z, y=None):
        return self.mu.expand(len(z), -1), self.sigma.expand(len(z), -1)


def _check_gaussian(x: np.ndarray, mean, sd, slack=0.0):
    n = len(x)
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * sd / math.sqrt(n) + slack), (x.mean(0), mean)
    assert np.all(np.abs(x.std(0) - sd) <= 5 * sd / math.sqrt(2 * n) + slack * sd), (x.std(0), sd)


class InputRecorder(nn.Module):
    """Records what the network is given; predicts zeros."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))  # a parameter, so callers find the network's device
        self.seen = []

    def forward(self, x_t, t, extra, class_labels=None):
        self.seen.append((x_t.detach().clone(), t.clone(), [e.detach().clone() for e in extra]))
        return torch.zeros_like(x_t) + 0 * self.weight


@pytest.mark.parametrize("target", ["eps", "v"])
def test_network_main_input_is_x_t_in_data_space(target):
    """Training, sampling and the bound all give the network x_t = μ̂ + σ̂ r_t (SPEC §2), not r_t; RPD's ω
    carries r_t / √(1 − ᾱ_t) (times √ᾱ_t for v)."""
    from rpd.diffusion import training_loss
    from rpd.elbo import variational_bound

    mu, sigma = torch.tensor([3.0, -2.0]), torch.tensor([0.25, 4.0])
    prior = FixedPrior(mu, sigma)
    prior.posterior_sample = lambda x, y=None: torch.zeros(len(x), 1)
    prior.posterior_and_kl = lambda x, y=None, generator=None: (torch.zeros(len(x), 1), torch.zeros(len(x)))
    spec = DiffusionSpec("rpd", "omega", target, T, "linear")
    abar = alphas_cumprod(T, "linear")
    x0 = mu + sigma * torch.randn(64, 2, generator=torch.Generator().manual_seed(3))
    net = InputRecorder()
    training_loss(spec, net, prior, x0)
    sample(spec, net, prior, n=16, data_shape=(2,), sampler="ddim", steps=3, seed=0, batch_size=16)
    variational_bound(spec, net, prior, x0[:8], seed=0, t_draws=2)
    assert len(net.seen) == 1 + 3 + 2  # one training call, three sampling steps, the bound's two calls
    for x_in, t, (w, mu_in) in net.seen:
        a = abar[t][:, None].to(x_in.dtype)
        r_t = (w / a.sqrt() if target == "v" else w) * (1 - a).sqrt()
        torch.testing.assert_close(mu_in, mu.expand_as(mu_in).to(mu_in.dtype))
        torch.testing.assert_close(x_in, (mu + sigma * r_t).to(x_in.dtype), rtol=1e-4, atol=1e-4)
        # not r_t itself: the data-space input differs from the residual by far more than rounding
        assert (x_in - r_t).abs().max() > 1.0


@pytest.mark.parametrize("sampler,steps,target", [("ddpm", 1000, "eps"), ("ddim", 50, "eps"), ("ddim", 50, "v")])
def test_oracle_sampling_recovers_gaussian(sampler, steps, target):
    # DDPM draws fresh noise from one generator per sample at each of the 1000 steps: keep n small
    n = 4000 if sampler == "ddim" else 800
    spec = DiffusionSpec("ddpm", "omega", target, T, "linear")
    net = GaussianOracle(M, S, target)
    x = sample(spec, net, None, n=n, data_shape=(2,), sampler=sampler, steps=steps, seed=0, batch_size=n)
    assert x.shape == (n, 2) and np.isfinite(x).all()
    assert net.calls == steps
    # slack: r_T ~ N(0, I) is not exactly the t = T − 1 marginal, and DDIM ends on E[r₀ | r_t] at t = 19
    _check_gaussian(x, M.numpy(), S.numpy(), slack=0.02)


def test_oracle_sampling_rpd_maps_back_to_data():
    """RPD samples in r-space and returns x = μ̂ + σ̂ r₀: x ~ N(μ̂ + σ̂ m, (σ̂ s)²)."""
    n = 4000
    mu, sigma = torch.tensor([3.0, -2.0]), torch.tensor([0.25, 4.0])
    spec = DiffusionSpec("rpd", "omega", "eps", T, "linear")
    x = sample(spec, GaussianOracle(M, S, family="rpd"), FixedPrior(mu, sigma), n=n, data_shape=(2,), sampler="ddim",
               steps=50,
               seed=1, batch_size=1000)
    _check_gaussian(x, (mu + sigma * M).numpy(), (sigma * S).numpy(), slack=0.02 * sigma.max().item())
    # a wrong prior would be detected: the sample is nowhere near N(m, s²)
    assert abs(x[:, 0].mean() - M[0].item()) > 1.0


@pytest.mark.parametrize("target", ["eps", "v"])
@pytest.mark.parametrize("steps", [3, 10, T])
def test_ancestral_step_with_given_noise_is_diffusers_ddpm_step(target, steps):
    """make_sampler("ddpm").step(..., variance_noise=z) is DDPMScheduler.step drawing that same z itself.

    diffusers runs in float64 here (its ᾱ table cast): in float32, 1 − ᾱ_t/ᾱ_prev near t = 0 and x₀ =
    (r − √(1 − ᾱ) ε)/√ᾱ near t = T − 1 lose up to 1e-4 to rounding, which our coefficients, computed in
    double from the same float32 table, do not."""
    ours = make_sampler("ddpm", T, "linear", target, steps)
    theirs = DDPMScheduler(**{k: v for k, v in ours.config.items() if not k.startswith("_")})
    theirs.set_timesteps(steps)
    theirs.alphas_cumprod, theirs.one = theirs.alphas_cumprod.double(), theirs.one.double()
    g = torch.Generator().manual_seed(7)
    r, pred = torch.randn(16, 2, generator=g), torch.randn(16, 2, generator=g)
    for i, t in enumerate(ours.timesteps):
        z = randn_tensor(r.shape, generator=torch.Generator().manual_seed(i), dtype=torch.float64)
        got = ours.step(pred, t, r, variance_noise=z.float()).prev_sample
        want = theirs.step(pred.double(), t, r.double(), generator=torch.Generator().manual_seed(i)).prev_sample
        assert want.dtype == torch.float64
        torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=2e-6)
