"""The variational bound (rpd.elbo) against closed forms, the change of variables, J₂ and the pipeline job.

The all-Gaussian case: r₀ ~ N(m, diag s²) and the exact ε predictor (tests/test_forward_process.py's
GaussianOracle, whose r̂₀ is E[r₀ | r_t]). Then, per dimension, with v_t = ᾱ_t s² + 1 − ᾱ_t and the posterior
variance of r₀ given r_t, P_t = s²(1 − ᾱ_t)/v_t:
  diffusion  Σ_{t≥2} c_t² P_t / (2 β̃_t)      c_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t)
  decoder    ½ log(2π β₁) + P_1 / (2 β₁)
  terminal   ½ [(1 − ᾱ_T) + ᾱ_T (m² + s²) − 1 − log(1 − ᾱ_T)]
and the whole bound is at least the true NLL ½ log(2πe s²). Estimates are checked within 5 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from diffusers.utils.torch_utils import randn_tensor
from torch import nn

from rpd import elbo as elbo_module
from rpd.analysis import elbo_table
from rpd.checkpoint import save_model
from rpd.config import load_config
from rpd.diffusion import DiffusionSpec
from rpd.elbo import (
    BOUND_METRICS,
    TERMS,
    Schedule,
    consistency_j2,
    discretised_gaussian_nll,
    elbo_run,
    variational_bound,
)
from rpd.frames import make_frame
from rpd.io import save_json, save_npz
from rpd.priors import VQVAE2D, BetaVAE2D
from rpd.priors.conv import ConvBetaVAE
from rpd.runs import Run, prior_run_of, run_config
from rpd.schedule import make_sampler, make_training_scheduler
from rpd.stages import build_denoiser, build_prior_for
from test_forward_process import GaussianOracle

T = 1000
M = torch.tensor([1.5, -0.7], dtype=torch.float64)
S = torch.tensor([0.5, 2.0], dtype=torch.float64)


def _spec(family: str, target: str = "eps") -> DiffusionSpec:
    return DiffusionSpec(family, "omega", target, T, "linear")


def _closed_form(m: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
    """The expected terms (nats per datum) for r₀ ~ N(m, s²) and the exact denoiser."""
    sch = Schedule.of(_spec("ddpm"))
    a = sch.abar

    def post_var(i):
        return (s**2 * (1 - a[i, None]) / (a[i, None] * s**2 + 1 - a[i, None])).sum(-1)

    i = torch.arange(1, T)
    b1, aT = sch.decoder_var, a[-1]
    return {
        "diffusion": (sch.posterior_coef_r0(i) ** 2 * post_var(i) / (2 * sch.posterior_var(i))).sum().item(),
        "decoder": (len(m) * 0.5 * torch.log(2 * math.pi * b1) + post_var(torch.tensor([0]))[0] / (2 * b1)).item(),
        "terminal": (0.5 * ((1 - aT) + aT * (m**2 + s**2) - 1 - torch.log(1 - aT))).sum().item(),
        "nll": (0.5 * torch.log(2 * math.pi * math.e * s**2)).sum().item(),
    }


def _within(est: torch.Tensor, expected: float, what: str, k: float = 5.0) -> None:
    se = (est.std() / math.sqrt(len(est))).item()
    assert abs(est.mean().item() - expected) <= k * se + 1e-9, f"{what}: {est.mean().item()} ± {se} vs {expected}"


@pytest.fixture(scope="module")
def gaussian_ddpm():
    x = M + S * torch.randn(2000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return x, variational_bound(_spec("ddpm"), GaussianOracle(M, S), None, x, seed=1)


def test_gaussian_terms_match_closed_forms(gaussian_ddpm):
    _, est = gaussian_ddpm
    expected = _closed_form(M, S)
    assert est.t_draws == T - 1 and est.dims == 2
    torch.testing.assert_close(est.terms["latent"], torch.zeros(2000, dtype=torch.float64))  # DDPM: no latent
    for term in ("diffusion", "decoder", "terminal"):
        _within(est.terms[term], expected[term], term)
    # the estimates are informative: SE well below the values (seen: 10.15 ± 0.04, −6.38 ± 0.02)
    assert (est.terms["diffusion"].std() / math.sqrt(2000)).item() < 0.01 * expected["diffusion"]
    # the bound bounds: total ≥ true NLL (seen 3.76 against 2.84 nats: the fixed β̃ variance is not optimal)
    total = sum(est.terms[t] for t in TERMS)
    assert total.mean().item() >= expected["nll"]
    assert total.mean().item() - expected["nll"] < 1.5
    # the terminal term per datum is exactly the Gaussian KL, no Monte Carlo
    x, _ = gaussian_ddpm
    aT = Schedule.of(_spec("ddpm")).abar[-1]
    exact = torch.distributions.kl_divergence(torch.distributions.Normal(aT.sqrt() * x, (1 - aT).sqrt()),
                                              torch.distributions.Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(est.terms["terminal"], exact)


def test_summary_units_and_se(gaussian_ddpm):
    _, est = gaussian_ddpm
    nats, bits = est.summary("nats"), est.summary("bits/dim")
    assert set(nats) == {"elbo", *(f"elbo_{t}" for t in TERMS)}  # DDPM has no J₂
    total = sum(est.terms[t] for t in TERMS)
    assert nats["elbo"][0] == pytest.approx(total.mean().item())
    assert nats["elbo"][1] == pytest.approx(total.std().item() / math.sqrt(2000))
    assert nats["elbo"][2] == 2000
    assert bits["elbo"][0] == pytest.approx(nats["elbo"][0] / (2 * math.log(2)))
    assert sum(nats[f"elbo_{t}"][0] for t in TERMS) == pytest.approx(nats["elbo"][0])
    with pytest.raises(ValueError, match="unit"):
        est.summary("bits")


def test_sampled_t_is_unbiased(gaussian_ddpm):
    x, full = gaussian_ddpm
    sampled = variational_bound(_spec("ddpm"), GaussianOracle(M, S), None, x[:1000], seed=2, t_draws=50)
    assert sampled.t_draws == 50
    _within(sampled.terms["diffusion"], _closed_form(M, S)["diffusion"], "sampled-t diffusion")
    # noisier than summing every t, as it should be
    assert sampled.terms["diffusion"].std() > full.terms["diffusion"].std()
    with pytest.raises(ValueError, match="t_draws"):
        variational_bound(_spec("ddpm"), GaussianOracle(M, S), None, x[:10], seed=0, t_draws=T)


def test_v_target_gives_the_same_bound():
    """The bound does not depend on how the network parameterises the exact denoiser."""
    x = M + S * torch.randn(300, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    eps = variational_bound(_spec("ddpm", "eps"), GaussianOracle(M, S, "eps"), None, x, seed=4)
    v = variational_bound(_spec("ddpm", "v"), GaussianOracle(M, S, "v"), None, x, seed=4)
    for term in TERMS:
        torch.testing.assert_close(eps.terms[term], v.terms[term], rtol=1e-6, atol=1e-6)


def test_reverse_step_is_diffusers_ddpm_step():
    """p_θ(r_{t−1}|r_t) of the bound is DDPMScheduler's ancestral step at K = T: same mean and variance."""
    sched = Schedule.of(_spec("ddpm"))
    ddpm = make_sampler("ddpm", T, "linear", "eps", T)
    g = torch.Generator().manual_seed(5)
    r_t, pred = torch.randn(64, 2, generator=g, dtype=torch.float64), torch.randn(64, 2, generator=g, dtype=torch.float64)
    for i in (1, 2, 300, 999):
        a, ap = sched.abar[i], sched.abar[i - 1]
        r0_hat = (r_t - (1 - a).sqrt() * pred) / a.sqrt()
        coef_rt = (1 - sched.betas[i]).sqrt() * (1 - ap) / (1 - a)
        mean = sched.posterior_coef_r0(torch.tensor(i)) * r0_hat + coef_rt * r_t
        var = sched.posterior_var(torch.tensor(i))
        prev = ddpm.step(pred, i, r_t, generator=torch.Generator().manual_seed(i)).prev_sample
        noise = randn_tensor(r_t.shape, generator=torch.Generator().manual_seed(i), dtype=r_t.dtype)
        assert ddpm._get_variance(i).item() == pytest.approx(var.item(), rel=1e-4)
        torch.testing.assert_close(prev, mean + var.sqrt() * noise, rtol=1e-4, atol=1e-5)
    # the posterior variance at t = 1 is 0: the decoder uses β₁ instead (stated in Methods)
    assert sched.posterior_var(torch.tensor(0)).item() == 0.0
    assert sched.decoder_var.item() == pytest.approx(1e-4)


# ---------------------------------------------------------------- RPD with an exact prior


class ExactMixturePrior(nn.Module):
    """A two-code VQ prior that is exact for its mixture data: x | k ~ N(μ_k, σ_k²), codes by the sign of x₁."""

    kind = "vqvae"
    means = torch.tensor([[-6.0, 0.0], [6.0, 1.0]], dtype=torch.float64)
    sds = torch.tensor([[0.2, 0.5], [1.0, 0.3]], dtype=torch.float64)
    probs = torch.tensor([0.3, 0.7], dtype=torch.float64)

    def data(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        k = torch.multinomial(self.probs, n, replacement=True, generator=g)
        return self.means[k] + self.sds[k] * torch.randn(n, 2, generator=g, dtype=torch.float64), k

    def posterior_and_kl(self, x, y=None, generator=None):
        k = (x[:, 0] > 0).long()
        return k[:, None].double(), -self.probs[k].log()

    def decode(self, z, y=None):
        k = z[:, 0].long()
        return self.means[k], self.sds[k]


@pytest.fixture(scope="module")
def rpd_exact():
    prior = ExactMixturePrior()
    x, k = prior.data(1500, seed=6)
    # with an exact prior r₀ = (x − μ̂)/σ̂ ~ N(0, I): the exact denoiser is the oracle for N(0, I)
    oracle = GaussianOracle(torch.zeros(2).double(), torch.ones(2).double(), family="rpd")
    est = variational_bound(_spec("rpd"), oracle, prior, x, seed=7)
    return prior, x, k, est


def test_rpd_exact_prior_terms(rpd_exact):
    prior, x, k, est = rpd_exact
    std = _closed_form(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    log_sigma = prior.sds[k].log().sum(1)
    # latent: −log p̂(code), exactly, per datum; its mean is the code entropy
    torch.testing.assert_close(est.terms["latent"], -prior.probs[k].log())
    entropy = -(prior.probs * prior.probs.log()).sum().item()
    _within(est.terms["latent"], entropy, "latent")
    _within(est.terms["diffusion"], std["diffusion"], "diffusion")
    _within(est.terms["terminal"], std["terminal"], "terminal")
    # the decoder is a density in x: the r-space term plus Σ log σ̂ (Jacobian of x = μ̂ + σ̂ r)
    _within(est.terms["decoder"] - log_sigma, std["decoder"], "decoder in r")
    # whole bound ≥ the mixture's true NLL (components are > 5 sd apart, so −log p(x) = −log p_k − log N_k)
    nll = -(prior.probs[k].log() + torch.distributions.Normal(prior.means[k], prior.sds[k]).log_prob(x).sum(1))
    total = sum(est.terms[t] for t in TERMS)
    assert total.mean() >= nll.mean()
    assert (total.mean() - nll.mean()).item() == pytest.approx(std["diffusion"] + std["decoder"] + std["terminal"]
                                                               - std["nll"], abs=0.2)


def test_change_of_variables():
    """RPD on x = c + s·y with a fixed prior (c, s) scores exactly DDPM's bound on y plus Σ log s."""
    g = torch.Generator().manual_seed(8)
    y = M + S * torch.randn(200, 2, generator=g, dtype=torch.float64)
    c, s = torch.tensor([3.0, -2.0], dtype=torch.float64), torch.tensor([0.25, 4.0], dtype=torch.float64)

    class Fixed(nn.Module):
        kind = "vqvae"

        def posterior_and_kl(self, x, y=None, generator=None):
            return torch.zeros(len(x), 1, dtype=x.dtype), torch.zeros(len(x), dtype=torch.float64)

        def decode(self, z, y=None):
            return c.expand(len(z), -1), s.expand(len(z), -1)

    ddpm = variational_bound(_spec("ddpm"), GaussianOracle(M, S), None, y, seed=9)
    rpd = variational_bound(_spec("rpd"), GaussianOracle(M, S, family="rpd"), Fixed(), c + s * y, seed=9)
    for term in ("latent", "diffusion", "terminal"):
        torch.testing.assert_close(rpd.terms[term], ddpm.terms[term], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(rpd.terms["decoder"], ddpm.terms["decoder"] + s.log().sum(), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- J₂


def test_rpd_j2_is_zero_by_construction(rpd_exact):
    """RPD's reverse start is p̂(x_T|z) itself: J₂ equals the terminal term and is ≈ ½ ᾱ_T E|r₀|² ≈ 4e-5."""
    _, _, _, est = rpd_exact
    j2 = est.extra["j2"]
    torch.testing.assert_close(j2, est.terms["terminal"], rtol=1e-9, atol=1e-12)
    assert 0 < j2.mean().item() < 1e-4
    assert est.summary()["j2"][0] == pytest.approx(j2.mean().item())


def test_diffusevae_j2_by_hand():
    """One datum, one dimension: x₀ = 1, μ̂ = 0.3, σ̂ = 0.5, ᾱ_T = 4.0358e-5 (linear schedule, T = 1000).

    form 1: q = N(√ᾱ_T·1, 1 − ᾱ_T) = N(0.006353, 0.99996); KL to N(0.3, 0.25)
            = log(0.5) − ½ log(1 − ᾱ_T) + (0.99996 + (0.006353 − 0.3)²)/(2·0.25) − ½
            = −0.693147 + 0.000020 + (0.99996 + 0.086229)/0.5 − 0.5 = 0.979251
    form 2: q = N(0.3 + √ᾱ_T·0.7, 1 − ᾱ_T); mean gap 0.004447
            = −0.693147 + 0.000020 + (0.99996 + 0.0000198)/0.5 − 0.5 = 0.806833
    RPD:    q = N(0.3 + 0.5·√ᾱ_T·1.4, 0.25 (1 − ᾱ_T)), r₀ = 1.4; ½[−ᾱ_T + ᾱ_T r₀² − log(1 − ᾱ_T)]
            = ½ ᾱ_T r₀² + O(ᾱ_T²) = ½ · 4.0358e-5 · 1.96 = 0.0000396
    """
    aT = Schedule.of(_spec("ddpm")).abar[-1]
    assert aT.item() == pytest.approx(4.0358e-5, rel=1e-3)
    x0, mu, sigma = (torch.tensor([[v]], dtype=torch.float64) for v in (1.0, 0.3, 0.5))
    by_hand = {"diffusevae1": 0.979251, "diffusevae2": 0.806833, "rpd": 0.0000396}
    for family, expected in by_hand.items():
        frame = make_frame(family, x0, mu, sigma)
        j2 = consistency_j2(x0, frame, mu, sigma, aT).item()
        assert j2 == pytest.approx(expected, rel=2e-3, abs=2e-6), family
        c, s = frame.centre, frame.scale
        q = torch.distributions.Normal(c + s * aT.sqrt() * (x0 - c) / s, s * (1 - aT).sqrt())
        assert j2 == pytest.approx(torch.distributions.kl_divergence(q, torch.distributions.Normal(mu, sigma)).item())


@pytest.mark.parametrize("family", ["diffusevae1", "diffusevae2"])
def test_diffusevae_j2_far_from_zero_while_terminal_small(family):
    """DiffuseVAE's own terminal term is small (it starts where its forward process ends), J₂ is not."""
    prior = ExactMixturePrior()
    x, _ = prior.data(200, seed=10)
    oracle = GaussianOracle(torch.zeros(2).double(), torch.ones(2).double(), family=family)
    est = variational_bound(_spec(family), oracle, prior, x, seed=11)
    assert est.extra["j2"].mean() > 1.0
    assert est.terms["terminal"].mean() < 0.01


# ---------------------------------------------------------------- real priors, discretised decoder


def test_prior_latent_terms():
    torch.manual_seed(0)
    x = torch.randn(64, 2)
    beta = BetaVAE2D(data_dim=2, latent_dim=3, hidden=16, depth=2, beta=1.0, sigma_floor=0.1)
    z, kl = beta.posterior_and_kl(x, generator=torch.Generator().manual_seed(1))
    m, log_s = beta._posterior(x)
    q = torch.distributions.Normal(m, log_s.exp())
    torch.testing.assert_close(kl, torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1))
    z2, _ = beta.posterior_and_kl(x, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(z, z2)  # the generator decides z
    assert not torch.allclose(z, m)
    vq = VQVAE2D(data_dim=2, codes=4, latent_dim=2, hidden=16, depth=2, commitment=0.25, sigma_floor=0.1)
    with torch.no_grad():
        vq.codebook.copy_(torch.randn(4, 2) * 2)
        vq.code_probs.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
    z, kl = vq.posterior_and_kl(x)
    codes = vq.codes_of(x)
    torch.testing.assert_close(z, vq.codebook[codes])
    torch.testing.assert_close(kl, -torch.tensor([0.1, 0.2, 0.3, 0.4])[codes].log())
    # the image prior (class-conditional): the Gaussian KL to the prior it samples from, p̂(z|y) of the label's class
    conv = ConvBetaVAE((1, 8, 8), latent_dim=4, channels=[8, 16], beta=1.0, sigma_floor=0.1, num_classes=3)
    var = torch.rand(3, 4) + 0.5
    with torch.no_grad():  # diagonal p̂ here, so the per-coordinate KL of independent Normals is the reference
        conv.latent_mean.copy_(torch.randn(3, 4))
        conv.latent_scale_tril.copy_(torch.diag_embed(var.sqrt()))
    images, labels = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    z, kl = conv.posterior_and_kl(images, labels, generator=torch.Generator().manual_seed(2))
    m, log_s = conv._posterior(images, labels)
    q = torch.distributions.Normal(m, log_s.exp())
    p_y = torch.distributions.Normal(conv.latent_mean[labels], var[labels].sqrt())
    torch.testing.assert_close(kl, torch.distributions.kl_divergence(q, p_y).sum(1))
    assert z.shape == (5, 4)


def test_image_prior_latent_term_by_hand():
    """q = N((1, 0), diag(1/4, 1)) against p̂(z|1) = N(0, Σ), Σ = [[1, ½], [½, 1]]: Σ⁻¹ = (4/3)[[1, −½], [−½, 1]],
    KL = ½(tr Σ⁻¹ diag v + mᵀΣ⁻¹m − 2 + ln|Σ| − Σ ln v) = ½(5/3 + 4/3 − 2 + ln ¾ − ln ¼) = ½(1 + ln 3); against
    class 0's N(0, I), ½(ln 4 + 1/4 + 1 − 1). The bound's latent term is that KL."""
    conv = ConvBetaVAE((1, 8, 8), latent_dim=2, channels=[8, 16], beta=1.0, sigma_floor=0.1, num_classes=2)
    with torch.no_grad():
        conv.latent_scale_tril[1] = torch.linalg.cholesky(torch.tensor([[1.0, 0.5], [0.5, 1.0]]))
    conv._posterior = lambda x, y: (torch.tensor([[1.0, 0.0]]).expand(len(x), 2),
                                    torch.tensor([[math.log(0.5), 0.0]]).expand(len(x), 2))
    _, kl = conv.posterior_and_kl(torch.zeros(2, 1, 8, 8), torch.tensor([1, 0]))
    torch.testing.assert_close(kl, torch.tensor([0.5 * (1 + math.log(3)), 0.5 * (math.log(4) + 0.25)]))

    class Zero(nn.Module):
        def forward(self, x_t, t, extra, class_labels=None):
            return torch.zeros_like(x_t)

    est = variational_bound(_spec("rpd"), Zero(), conv, torch.zeros(2, 1, 8, 8), seed=0, t_draws=2,
                            labels=torch.tensor([1, 0]))
    torch.testing.assert_close(est.terms["latent"], kl.double())


def test_discretised_decoder_is_a_distribution():
    levels, low, high = 8, -1.0, 1.0
    values = torch.linspace(low, high, levels, dtype=torch.float64)[:, None]
    mean, sd = torch.full_like(values, 0.3), torch.full_like(values, 0.4)
    probs = (-discretised_gaussian_nll(values, mean, sd, low, high, levels)).exp()
    assert probs.sum().item() == pytest.approx(1.0, abs=1e-12)
    # an inner bin is the CDF difference over its width
    half = 1 / 7
    normal = torch.distributions.Normal(0.3, 0.4)
    inner = normal.cdf(torch.tensor(values[3, 0].item() + half)) - normal.cdf(torch.tensor(values[3, 0].item() - half))
    assert probs[3].item() == pytest.approx(inner.item(), rel=1e-6)


# ---------------------------------------------------------------- the pipeline job


def test_elbo_run_writes_tidy_rows(tmp_path):
    cfg = load_config("benchmarks/ci.yaml")
    cfg["experiments"]["e8"] = {"datasets": ["dino-grid-0.1"], "models": ["rpd", "ddpm"], "sizes": ["std"]}
    reference = tmp_path / "reference.npz"
    save_npz(reference, x=np.random.default_rng(0).normal(size=(24, 2)).astype(np.float32))
    frames = []
    for name in ("rpd", "ddpm"):
        run = run_config(cfg, Run("model", "dino-grid-0.1", name, "std", 0))
        run_dir = tmp_path / name
        torch.manual_seed(0)
        save_model(run_dir / "model.pt", build_denoiser(run), run)
        save_json(run_dir / "config.json", run)
        save_json(run_dir / "train_summary.json", {"parameters": 123, "train_seconds": 1.5})
        prior_path = None
        if name == "rpd":
            prior_run = run_config(cfg, prior_run_of(cfg, Run("model", "dino-grid-0.1", name, "std", 0)))
            prior_path = tmp_path / "prior.pt"
            save_model(prior_path, build_prior_for(prior_run), prior_run)
        frame = elbo_run(run_dir, reference, prior_path, run_dir / "elbo.csv")
        again = pd.read_csv(run_dir / "elbo.csv")
        assert len(again) == len(frame)
        assert set(frame["metric"]) == set(BOUND_METRICS) - ({"j2"} if name == "ddpm" else set())
        assert (frame["sampler"] == "bound").all() and (frame["steps"] == T).all() and (frame["n"] == 24).all()
        assert (frame["unit"] == "nats").all() and (frame["t_draws"] == T - 1).all()
        assert np.isfinite(frame["value"]).all() and (frame["se"] >= 0).all()
        assert rows_se(frame, "elbo") > 0
        rows = frame.set_index("metric")["value"]
        assert rows["elbo"] == pytest.approx(sum(rows[f"elbo_{t}"] for t in TERMS))
        frames.append(frame)
    # reproducible: the same run gives the same numbers
    again = elbo_run(tmp_path / "ddpm", reference, None, tmp_path / "again.csv")
    np.testing.assert_array_equal(again["value"].to_numpy(), frames[1]["value"].to_numpy())
    assert make_training_scheduler(T, "linear", "eps").alphas_cumprod[-1].item() < 5e-5


def rows_se(frame: pd.DataFrame, metric: str) -> float:
    return float(frame.loc[frame["metric"] == metric, "se"].iloc[0])


def test_elbo_table_pools_seeds():
    rows = []
    for seed, (v, se) in enumerate([(3.0, 0.1), (3.4, 0.2)]):
        for metric in ("j2", "elbo"):
            rows.append({"dataset": "d", "model": "rpd", "family": "rpd", "size": "std", "seed": seed,
                         "sampler": "bound", "steps": T, "metric": metric, "value": v, "se": se, "unit": "nats"})
    rows.append({"dataset": "d", "model": "rpd", "family": "rpd", "size": "std", "seed": 0, "sampler": "ddim",
                 "steps": 10, "metric": "rw1wd", "value": 9.0, "se": np.nan, "unit": np.nan})
    table = elbo_table(pd.DataFrame(rows))
    assert table["metric"].tolist() == ["elbo", "j2"]  # bound rows only, in report order
    row = table.iloc[0]
    assert row["mean"] == pytest.approx(3.2) and row["seeds"] == 2 and row["unit"] == "nats"
    assert row["se"] == pytest.approx(math.sqrt(0.1**2 + 0.2**2) / 2)
    assert row["sd_seeds"] == pytest.approx(np.std([3.0, 3.4], ddof=1))
    with pytest.raises(ValueError, match="e8"):
        elbo_table(pd.DataFrame(rows[-1:]))
    # a seed without its se (or a table without the column) leaves the pooled se unknown, not 0
    rows[0]["se"] = np.nan
    assert np.isnan(elbo_table(pd.DataFrame(rows)).set_index("metric").loc["j2", "se"])
    assert elbo_table(pd.DataFrame(rows)).set_index("metric").loc["elbo", "se"] > 0
    no_se = pd.DataFrame(rows).drop(columns="se").assign(se=np.nan)
    assert elbo_table(no_se)["se"].isna().all()


def test_shape_generic_images_and_discrete_decoder(monkeypatch):
    """Image-shaped data (N, C, H, W) give the same per-datum terms as the flattened vectors; bits/dim for images."""
    # the same chunks of (datum, t) rows, so that both draw the same t and ε
    monkeypatch.setattr(elbo_module, "IMAGE_ROWS_PER_CALL", elbo_module.ROWS_PER_CALL)
    m4, s4 = torch.tensor([0.2, -0.1, 0.3, 0.0]).double(), torch.tensor([0.3, 0.2, 0.5, 0.4]).double()
    flat_oracle = GaussianOracle(m4, s4)

    class ImageOracle(nn.Module):
        def forward(self, r_t, t, extra, class_labels=None):
            return flat_oracle(r_t.flatten(1), t, extra).reshape(r_t.shape)

    g = torch.Generator().manual_seed(12)
    x = (m4 + s4 * torch.randn(300, 4, generator=g, dtype=torch.float64)).clamp(-1, 1)
    x = torch.round((x + 1) * 127.5) / 127.5 - 1  # 256 levels in [−1, 1]
    flat = variational_bound(_spec("ddpm"), flat_oracle, None, x, seed=13, t_draws=20, discrete=(-1.0, 1.0, 256))
    image = variational_bound(_spec("ddpm"), ImageOracle(), None, x.reshape(300, 1, 2, 2), seed=13, t_draws=20,
                              discrete=(-1.0, 1.0, 256))
    for term in TERMS:
        torch.testing.assert_close(image.terms[term], flat.terms[term], rtol=1e-9, atol=1e-9)
    assert image.dims == 4
    # a discrete NLL is non-negative per pixel; the continuous density of the same data is lower (it can be < 0)
    assert (image.terms["decoder"] >= 0).all()
    continuous = variational_bound(_spec("ddpm"), flat_oracle, None, x, seed=13, t_draws=20)
    assert (continuous.terms["decoder"] < flat.terms["decoder"]).all()
    bits = image.summary("bits/dim")["elbo"][0]
    assert bits == pytest.approx(image.summary("nats")["elbo"][0] / (4 * math.log(2)))
