"""The variational bound (negative ELBO) of every model family, term by term, and the consistency term J₂.

Each family is a latent-variable model with a standard DDPM in its frame r = (x − c(z)) / s(z)
(:mod:`rpd.frames`). With diffusers' 0-based index i = t − 1 (ᾱ[i] = ᾱ_t), the bound on −log p(x₀) is

    latent     KL(q(z|x₀) ‖ p(z))                     β-VAE: Gaussian KL (images: p = p̂(z|y)); VQ-VAE: −log p̂(code(x₀)); DDPM: 0
    diffusion  Σ_{t=2..T} KL(q(x_{t−1}|x_t,x₀,z) ‖ p_θ(x_{t−1}|x_t,z))
    terminal   KL(q(x_T|x₀,z) ‖ p(x_T|z))              p(x_T|z) = N(c, s²): the model's own reverse start
    decoder    −log p_θ(x₀|x₁,z)                       N(c + s·r̂₀(r₁), s²β₁), a density in x

KL divergences are invariant under the shared affine map x = c + s·r, so they are computed in r-space;
the decoder density is not: −log p(x₀|x₁,z) = −log p(r₀|r₁,z) + Σ log s (the Jacobian of r ↦ x).
p_θ(x_{t−1}|x_t,z) is DDPMScheduler's ancestral step at K = T (mean from r̂₀, variance β̃_t = posterior
variance, "fixed_small"), so the bound is that of the model the ``ddpm`` sampler draws from at K = T.
The derivation is in ``rpd/report/elbo_methods.md`` (:func:`rpd.analysis.elbo_methods_markdown`).

Tensors have the batch first; every term sums over all other dimensions, so images work unchanged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from rpd.batching import IMAGE_ROWS_PER_CALL, IMAGE_T_DRAWS, ROWS_PER_CALL
from rpd.checkpoint import load_state
from rpd.config import config_hash
from rpd.data.specs import is_image_dataset
from rpd.devices import describe, select_device
from rpd.diffusion import DiffusionSpec, predict
from rpd.evaluate import METRIC_COLUMNS, PROVENANCE_COLUMNS
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import Frame, make_frame
from rpd.gaussians import gaussian_kl
from rpd.io import load_json, save_csv
from rpd.logs import say
from rpd.provenance import training_provenance
from rpd.schedule import make_training_scheduler, x0_from_eps, x0_from_v
from rpd.stages import build_denoiser, load_prior, load_training_data

TERMS = ("latent", "diffusion", "terminal", "decoder")
BOUND_METRICS = {"elbo": "total", **{f"elbo_{t}": t for t in TERMS}, "j2": "j2"}
IMAGE_LEVELS = (-1.0, 1.0, 256)  # images are 8-bit, seen by the models in [−1, 1] (rpd.stages.images_to_model)


@dataclass
class BoundEstimate:
    """Per-datum terms of the bound, in nats (float64 tensors of length N), and how they were estimated."""

    terms: dict[str, torch.Tensor]
    dims: int  # data dimensions per datum (for bits per dimension)
    t_draws: int  # diffusion time steps per datum: T − 1 means every t = 2 … T
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # j2, when the family has a prior

    def summary(self, unit: str = "nats") -> dict[str, tuple[float, float, int]]:
        """(mean, standard error over data, N) of each metric in :data:`BOUND_METRICS`, in ``unit``.

        ``nats``: per datum; ``bits/dim``: divided by dims · ln 2.
        """
        scale = {"nats": 1.0, "bits/dim": 1.0 / (self.dims * math.log(2))}.get(unit)
        if scale is None:
            raise ValueError(f"unit={unit!r}; allowed: ['nats', 'bits/dim']")
        per_datum = {**self.terms, "total": sum(self.terms[t] for t in TERMS), **self.extra}
        out = {}
        for metric, key in BOUND_METRICS.items():
            if key in per_datum:
                v = per_datum[key] * scale
                se = float(v.std() / math.sqrt(len(v))) if len(v) > 1 and torch.isfinite(v).all() else float("nan")
                out[metric] = (float(v.mean()), se, len(v))
        return out


def _sum_dims(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).sum(1)


def _bcast(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.dim() - 1)))


def gaussian_nll(x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """−log N(x; mean, diag var), summed over all but the batch dimension."""
    return _sum_dims(0.5 * (math.log(2 * math.pi) + torch.log(var) + (x - mean) ** 2 / var))


def discretised_gaussian_nll(x: torch.Tensor, mean: torch.Tensor, sd: torch.Tensor, low: float, high: float,
                             levels: int = 256) -> torch.Tensor:
    """−log P(bin of x) under N(mean, sd²) for data on ``levels`` equally spaced values in [low, high].

    The outermost bins extend to ±∞ (Ho et al. 2020), so the probabilities of all bins sum to one.
    """
    half = (high - low) / (levels - 1) / 2
    upper = torch.where(x >= high - half, torch.full_like(x, math.inf), (x + half - mean) / sd)
    lower = torch.where(x <= low + half, torch.full_like(x, -math.inf), (x - half - mean) / sd)
    normal = torch.distributions.Normal(torch.zeros((), dtype=x.dtype), torch.ones((), dtype=x.dtype))
    prob = (normal.cdf(upper) - normal.cdf(lower)).clamp_min(1e-300)
    return -_sum_dims(torch.log(prob))


@dataclass(frozen=True)
class Schedule:
    """ᾱ, β and the reverse-step coefficients in float64, indexed by diffusers' i = t − 1."""

    abar: torch.Tensor
    betas: torch.Tensor

    @classmethod
    def of(cls, spec: DiffusionSpec) -> Schedule:
        sch = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
        return cls(sch.alphas_cumprod.double(), sch.betas.double())

    def prev_abar(self, i: torch.Tensor) -> torch.Tensor:
        return torch.where(i > 0, self.abar[(i - 1).clamp_min(0)], torch.ones((), dtype=torch.float64))

    def posterior_var(self, i: torch.Tensor) -> torch.Tensor:
        """β̃ = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t): the variance of q(r_{t−1}|r_t, r₀) and of DDPM's reverse step."""
        return self.betas[i] * (1 - self.prev_abar(i)) / (1 - self.abar[i])

    def posterior_coef_r0(self, i: torch.Tensor) -> torch.Tensor:
        """The weight of r₀ in the posterior mean √ᾱ_{t−1} β_t / (1 − ᾱ_t) r₀ + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) r_t."""
        return self.prev_abar(i).sqrt() * self.betas[i] / (1 - self.abar[i])

    @property
    def decoder_var(self) -> torch.Tensor:
        """σ₁² = β₁ for p(r₀|r₁): the posterior variance at t = 1 is 0, so DDPM's σ_t² = β_t choice is used there."""
        return self.betas[0]


def _predict_r0(spec, net, frame: Frame, r0, i, eps, mu, abar32, labels) -> torch.Tensor:
    """r̂₀(r_t) from the network at diffusers index i, with r_t = √ᾱ r₀ + √(1 − ᾱ) ε as in training
    (the network sees x_t = c + s·r_t: :func:`rpd.diffusion.predict`)."""
    a = _bcast(abar32[i], r0)
    r_t = a.sqrt() * r0 + (1 - a).sqrt() * eps
    # The network runs on its own device (the job's); the bound's bookkeeping and random draws stay on the CPU.
    device = next((w.device for w in net.parameters()), torch.device("cpu"))  # a parameter-free net: CPU
    pred = predict(spec, net, frame.to(device), r_t.to(device), i.to(device), abar32[i].to(device),
                   None if mu is None else mu.to(device), None if labels is None else labels.to(device)).to(r_t.device)
    convert = x0_from_eps if spec.target == "eps" else x0_from_v
    return convert(pred.double(), r_t.double(), abar32[i].double())


def _latent(spec, prior, x0, labels, generator):
    """(z, latent term per datum)."""
    if spec.family not in FAMILIES_WITH_PRIOR:
        return None, torch.zeros(len(x0), dtype=torch.float64)
    z, kl = prior.posterior_and_kl(x0, labels, generator=generator)
    return z, kl.double()


def _diffusion_terms(spec, net, sched, abar32, frame: Frame, r0, mu, labels, t_draws, generator) -> torch.Tensor:
    """Σ_{i=1}^{T−1} KL per datum: every i (t_draws = T − 1) or t_draws uniform draws scaled by (T − 1)/t_draws."""
    n, T = len(r0), spec.num_train_timesteps
    every_t = t_draws == T - 1
    rows_per_call = ROWS_PER_CALL if r0.dim() == 2 else IMAGE_ROWS_PER_CALL
    per_chunk = max(1, rows_per_call // t_draws)
    total = torch.zeros(n, dtype=torch.float64)
    for start in range(0, n, per_chunk):
        rows = torch.arange(start, min(n, start + per_chunk)).repeat_interleave(t_draws)
        if every_t:
            i = torch.arange(1, T).repeat(len(rows) // (T - 1))
        else:
            i = torch.randint(1, T, (len(rows),), generator=generator)
        eps = torch.randn(r0[rows].shape, generator=generator, dtype=r0.dtype)
        r0_hat = _predict_r0(spec, net, frame.rows(rows), r0[rows], i, eps, None if mu is None else mu[rows],
                             abar32, None if labels is None else labels[rows])
        err = _sum_dims((r0[rows].double() - r0_hat) ** 2)
        kl = sched.posterior_coef_r0(i) ** 2 * err / (2 * sched.posterior_var(i))
        total.index_add_(0, rows, kl)
    return total * ((T - 1) / t_draws)


@torch.no_grad()
def variational_bound(spec: DiffusionSpec, net: nn.Module, prior: nn.Module | None, x0: torch.Tensor, seed: int,
                      t_draws: int | None = None, labels: torch.Tensor | None = None,
                      discrete: tuple[float, float, int] | None = None) -> BoundEstimate:
    """The four terms of the bound per datum of ``x0`` (and J₂ for families with a prior), in nats.

    One z ~ q(z|x₀) per datum serves every term. ``t_draws=None`` sums every t = 2 … T (one ε per (datum, t));
    an integer draws that many t uniformly per datum (unbiased, for large N·T). ``discrete=(low, high, levels)``
    uses the discretised decoder for quantised data (images) instead of the Gaussian density.
    """
    net.eval()
    T = spec.num_train_timesteps
    t_draws = T - 1 if t_draws is None else int(t_draws)
    if not 1 <= t_draws <= T - 1:
        raise ValueError(f"t_draws={t_draws}; allowed: None (every t) or 1 … T − 1 = {T - 1}")
    g = torch.Generator().manual_seed(seed)
    sched = Schedule.of(spec)
    abar32 = make_training_scheduler(T, spec.beta_schedule, spec.target).alphas_cumprod
    z, latent = _latent(spec, prior, x0, labels, g)
    mu = sigma = None
    if spec.family in FAMILIES_WITH_PRIOR:
        mu, sigma = prior.decode(z, labels)
    frame = make_frame(spec.family, x0, mu, sigma)
    r0 = frame.to_residual(x0)
    terms = {"latent": latent}
    terms["diffusion"] = _diffusion_terms(spec, net, sched, abar32, frame, r0, mu, labels, t_draws, g)
    aT = sched.abar[T - 1]
    # q(r_T|r₀) = N(√ᾱ_T r₀, 1 − ᾱ_T) against p(r_T) = N(0, I), the start of every family's sampler
    terms["terminal"] = gaussian_kl(aT.sqrt() * r0.double(), (1 - aT).expand_as(r0), torch.zeros_like(r0.double()),
                                    torch.ones_like(r0.double()))
    terms["decoder"] = _decoder_term(spec, net, sched, abar32, x0, r0, frame, mu, labels, g, discrete)
    extra = {} if sigma is None else {"j2": consistency_j2(x0, frame, mu, sigma, aT)}
    return BoundEstimate(terms, int(x0[0].numel()), t_draws, extra)


def _decoder_term(spec, net, sched, abar32, x0, r0, frame: Frame, mu, labels, g, discrete) -> torch.Tensor:
    """−log p(x₀|x₁,z) in x: N(c + s r̂₀(r₁), s² β₁) — the density in x includes Σ log s."""
    i = torch.zeros(len(x0), dtype=torch.long)
    eps = torch.randn(r0.shape, generator=g, dtype=r0.dtype)
    r0_hat = _predict_r0(spec, net, frame, r0, i, eps, mu, abar32, labels)
    mean_x = frame.centre.double() + frame.scale.double() * r0_hat
    sd_x = frame.scale.double() * sched.decoder_var.sqrt()
    if discrete is None:
        return gaussian_nll(x0.double(), mean_x, sd_x**2)
    low, high, levels = discrete
    return discretised_gaussian_nll(x0.double(), mean_x, sd_x, low, high, levels)


def consistency_j2(x0: torch.Tensor, frame: Frame, mu: torch.Tensor, sigma: torch.Tensor,
                   abar_T: torch.Tensor) -> torch.Tensor:
    """J₂ per datum: KL(q(x_T|x₀,z) ‖ N(μ̂(z), σ̂(z)²)), the forward terminal against the prior's decoder.

    q(x_T|x₀,z) = N(c + s √ᾱ_T r₀, s² (1 − ᾱ_T)) in the family's frame (c, s): RPD (μ̂, σ̂), DiffuseVAE
    form 1 (0, 1), form 2 (μ̂, 1).
    """
    c, s = frame.centre.double(), frame.scale.double()
    r0 = frame.to_residual(x0).double()
    a = torch.as_tensor(abar_T, dtype=torch.float64)
    return gaussian_kl(c + s * a.sqrt() * r0, s**2 * (1 - a), mu.double(), sigma.double() ** 2)


# --------------------------------------------------------------------------------------------------------
# Pipeline job


def bound_unit(x0: torch.Tensor) -> str:
    """nats per datum for low-dimensional (point) data, bits per dimension for images."""
    return "nats" if x0.dim() == 2 else "bits/dim"


def elbo_runs(run_dirs: Sequence[str | Path], reference_path: str | Path, prior_paths: Sequence[str | Path | None],
              out_csv: str | Path) -> pd.DataFrame:
    """:func:`elbo_run` of several runs (a run set's seeds, rpd.runsets): their rows in one CSV."""
    frame = pd.concat([elbo_run(d, reference_path, prior, None) for d, prior in zip(run_dirs, prior_paths, strict=True)],
                      ignore_index=True)
    save_csv(out_csv, frame)
    return frame


def elbo_run(run_dir: str | Path, reference_path: str | Path, prior_path: str | Path | None,
             out_csv: str | Path | None, t_draws: int | None = None,
             discrete: tuple[float, float, int] | None = None) -> pd.DataFrame:
    """Bound terms and J₂ of one trained run on the reference set: tidy rows (sampler ``bound``, K = T),
    written to ``out_csv`` unless it is None.

    ``t_draws`` and ``discrete`` as in :func:`variational_bound`; by default 2D data use every t and the Gaussian
    density (nats per point), images :data:`IMAGE_T_DRAWS` uniform t per image and the discretised decoder on
    :data:`IMAGE_LEVELS` (bits per dimension).
    """
    run_dir = Path(run_dir)
    run = load_json(run_dir / "config.json")
    summary = load_json(run_dir / "train_summary.json")
    torch.set_num_threads(run["threads"])
    device = select_device(run["device"])
    net = build_denoiser(run)
    net.load_state_dict(load_state(run_dir / "model.pt")["state_dict"])
    net.to(device)
    say(f"bound of {run_dir} on {describe(device)}")
    spec = DiffusionSpec.from_run_config(run)
    prior = load_prior(prior_path) if spec.family in FAMILIES_WITH_PRIOR else None
    reference = load_training_data(reference_path, run["dataset"])
    x0, labels = reference if isinstance(reference, tuple) else (reference, None)
    x0 = x0.float()
    if is_image_dataset(run["dataset"]):
        t_draws = IMAGE_T_DRAWS if t_draws is None else t_draws
        discrete = IMAGE_LEVELS if discrete is None else discrete
    start = time.perf_counter()
    estimate = variational_bound(spec, net, prior, x0, seed=run["seed"], t_draws=t_draws, labels=labels,
                                 discrete=discrete)
    seconds = time.perf_counter() - start
    unit = bound_unit(x0)
    base = {
        "suite": run["suite"], "dataset": run["dataset"]["name"], "model": run["model"]["name"],
        "family": spec.family, "size": run["size"], "seed": run["seed"], "sampler": "bound",
        "steps": spec.num_train_timesteps, "parameters": summary["parameters"], **training_provenance(summary),
        "config_hash": config_hash(run),
        "train_seconds": summary["train_seconds"], "sample_seconds": float("nan"), "eval_seconds": seconds,
        "unit": unit, "t_draws": estimate.t_draws,
    }
    rows = [{**base, "metric": metric, "value": mean, "se": se, "n": n}
            for metric, (mean, se, n) in estimate.summary(unit).items()]
    columns = METRIC_COLUMNS + ["se"] + PROVENANCE_COLUMNS + ["unit", "t_draws"]
    frame = pd.DataFrame(rows, columns=columns)
    if not np.isfinite(frame["value"]).all():
        bad = frame.loc[~np.isfinite(frame["value"]), "metric"].tolist()
        say(f"warning: non-finite bound terms {bad} (a VQ code with p̂ = 0 gives an infinite latent term)")
    if out_csv is not None:
        save_csv(out_csv, frame)
    return frame
