"""Noise schedules and diffusers schedulers, and the ε / v / x₀ conversions between them.

The schedule is kept apart from the network (as in improved-diffusion): every model family diffuses a
standardised variable r (see :mod:`rpd.frames`) with the standard DDPM forward process
r_t = √ᾱ_t r_0 + √(1 − ᾱ_t) ε, so diffusers' schedulers apply unchanged.
"""

from __future__ import annotations

import math

import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin, SchedulerOutput

BETA_SCHEDULES = {"linear": "linear", "cosine": "squaredcos_cap_v2"}
PREDICTION_TYPES = {"eps": "epsilon", "v": "v_prediction"}
# ddpm: ancestral; ddim: η = 0; dpmpp: DPM-Solver++(2M); unipc: UniPC (bh2 predictor-corrector, order 2).
SAMPLERS = ("ddpm", "ddim", "dpmpp", "unipc")
STOCHASTIC_SAMPLERS = ("ddpm",)  # the samplers whose step draws noise (given to step() as variance_noise)


def _common_kwargs(num_train_timesteps: int, beta_schedule: str, target: str) -> dict:
    if beta_schedule not in BETA_SCHEDULES:
        raise ValueError(f"beta_schedule={beta_schedule!r}; allowed: {sorted(BETA_SCHEDULES)}")
    if target not in PREDICTION_TYPES:
        raise ValueError(f"target={target!r}; allowed: {sorted(PREDICTION_TYPES)}")
    return dict(
        num_train_timesteps=num_train_timesteps,
        beta_start=1e-4,
        beta_end=0.02,
        beta_schedule=BETA_SCHEDULES[beta_schedule],
        prediction_type=PREDICTION_TYPES[target],
        clip_sample=False,
        # "trailing" makes K = 1 start at t = T − 1, the step whose marginal is (almost) the terminal one.
        timestep_spacing="trailing",
    )


def make_training_scheduler(num_train_timesteps: int, beta_schedule: str, target: str) -> DDPMScheduler:
    """The DDPM scheduler whose ``add_noise`` / ``get_velocity`` define training inputs and targets."""
    return DDPMScheduler(**_common_kwargs(num_train_timesteps, beta_schedule, target))


def prediction_coefficients(abar: float, prediction_type: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x₀ and ε predictions at ᾱ as linear maps of (r_t, model output): ((x₀ on r_t, x₀ on output), (ε on
    r_t, ε on output)), from r_t = √ᾱ r₀ + √(1 − ᾱ) ε and v = √ᾱ ε − √(1 − ᾱ) r₀."""
    a, s = math.sqrt(abar), math.sqrt(1 - abar)
    if prediction_type == "epsilon":
        return (1 / a, -s / a), (0.0, 1.0)
    return (a, -s), (s, a)  # v_prediction


def linear_combination(*terms: tuple[float, torch.Tensor]) -> torch.Tensor:
    """Σ cᵢ xᵢ: a sampler step with its scalar coefficients computed ahead (one tensor op per term)."""
    (c0, x0), *rest = terms
    out = x0 * c0
    for c, x in rest:
        # a product, then a sum: add_(x, alpha=c) fuses them (FMA) in the vectorised body but not in the scalar
        # tail, so an element's last bit would depend on where the batch size puts it (a sample on its batch)
        out += x * c
    return out


class AncestralSampler(DDPMScheduler):
    """diffusers' DDPM ancestral step, with the step's noise passed in as ``variance_noise`` (the argument
    DDIMScheduler.step has) instead of drawn inside from per-sample generators, one call per sample per step.

    The sampling loop draws each sample's noise for many steps in one call (:func:`rpd.diffusion.step_noise`).
    The step is DDPM's formula (7) as ``DDPMScheduler.step`` computes it (no clipping or thresholding: both
    are off here) with diffusers' variance (``_get_variance``), its scalar coefficients computed for every
    time step in ``set_timesteps`` (diffusers' step spends ~0.5 ms of 0-d tensor work per step, more than a
    2D network's forward pass at small batches); tests/test_forward_process.py checks the result equals
    ``DDPMScheduler.step`` given the same noise.
    """

    def set_timesteps(self, *args, **kwargs) -> None:
        super().set_timesteps(*args, **kwargs)
        if self.config.variance_type != "fixed_small":
            raise ValueError(f"variance_type={self.config.variance_type!r}; allowed: 'fixed_small'")
        abar = self.alphas_cumprod.tolist()
        ts = [int(t) for t in self.timesteps]
        self._plan = {}
        for t, prev_t in zip(ts, ts[1:] + [-1]):
            a_t, a_prev = abar[t], abar[prev_t] if prev_t >= 0 else 1.0
            alpha_t = a_t / a_prev
            (x0_r, x0_m), _ = prediction_coefficients(a_t, self.config.prediction_type)
            c_x0 = math.sqrt(a_prev) * (1 - alpha_t) / (1 - a_t)  # DDPM's formula (7)
            c_r = math.sqrt(alpha_t) * (1 - a_prev) / (1 - a_t)
            # diffusers' "fixed_small" variance β̃_t = (1 − ᾱ_prev) / (1 − ᾱ_t) β_t, clamped as in _get_variance
            noise = math.sqrt(max((1 - a_prev) / (1 - a_t) * (1 - alpha_t), 1e-20)) if t > 0 else 0.0
            self._plan[t] = (c_x0 * x0_r + c_r, c_x0 * x0_m, noise)

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, generator=None,
             variance_noise: torch.Tensor | None = None, return_dict: bool = True) -> SchedulerOutput | tuple:
        if variance_noise is None:
            return super().step(model_output, timestep, sample, generator=generator, return_dict=return_dict)
        c_r, c_m, c_noise = self._plan[int(timestep)]
        prev = linear_combination((c_r, sample), (c_m, model_output), (c_noise, variance_noise))
        return SchedulerOutput(prev_sample=prev) if return_dict else (prev,)


class DDIMSampler(DDIMScheduler):
    """diffusers' DDIM step at η = 0 (``DDIMScheduler.step``: x₀ and ε predictions, then √ᾱ_prev x₀ +
    √(1 − ᾱ_prev) ε, ᾱ_prev of t − T // K, 1 past the end with ``set_alpha_to_one``), with its scalar
    coefficients computed for every time step in ``set_timesteps``; tests/test_sampler_steps.py checks it
    against ``DDIMScheduler.step``."""

    def set_timesteps(self, *args, **kwargs) -> None:
        super().set_timesteps(*args, **kwargs)
        abar = self.alphas_cumprod.tolist()
        final = float(self.final_alpha_cumprod)
        self._plan = {}
        for t in (int(t) for t in self.timesteps):
            prev_t = t - self.config.num_train_timesteps // self.num_inference_steps
            a_prev = abar[prev_t] if prev_t >= 0 else final
            (x0_r, x0_m), (eps_r, eps_m) = prediction_coefficients(abar[t], self.config.prediction_type)
            c_x0, c_eps = math.sqrt(a_prev), math.sqrt(1 - a_prev)
            self._plan[t] = (c_x0 * x0_r + c_eps * eps_r, c_x0 * x0_m + c_eps * eps_m)

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, generator=None,
             return_dict: bool = True) -> SchedulerOutput | tuple:
        c_r, c_m = self._plan[int(timestep)]
        prev = linear_combination((c_r, sample), (c_m, model_output))
        return SchedulerOutput(prev_sample=prev) if return_dict else (prev,)


def make_sampler(name: str, num_train_timesteps: int, beta_schedule: str, target: str, steps: int) -> SchedulerMixin:
    """A diffusers scheduler set to ``steps`` inference steps (one of :data:`SAMPLERS`).

    Every sampler uses trailing spacing (K = 1 starts at t = T − 1) and ends on the x₀ prediction: DDIM with
    ``set_alpha_to_one``, DPM-Solver++ and UniPC with ``final_sigmas_type="zero"``, whose last step is then
    first order (an x₀-prediction step to σ = 0), so K = 1 is the one-step x₀ prediction for all three
    deterministic samplers. All of them run in the variance-preserving variable r_t (``init_noise_sigma`` = 1,
    ``scale_model_input`` is the identity), so the sampling loop is the same for every sampler.
    """
    kwargs = _common_kwargs(num_train_timesteps, beta_schedule, target)
    if not 1 <= steps <= num_train_timesteps:
        raise ValueError(f"steps={steps}; allowed: 1 ≤ steps ≤ T = {num_train_timesteps}")
    if name == "ddpm":
        scheduler = AncestralSampler(**kwargs)
    elif name == "ddim":
        # set_alpha_to_one: the last step of K = T returns the x₀ prediction, as DDPM's does.
        scheduler = DDIMSampler(**kwargs, set_alpha_to_one=True)
    elif name in ("dpmpp", "unipc"):
        # imported here: diffusers' multistep modules import scipy.stats, which jobs that do not sample with
        # them (training, priors, bounds) should not pay for at start-up (rpd/multistep.py)
        from rpd.multistep import make_multistep_sampler

        scheduler = make_multistep_sampler(name, kwargs)
    else:
        raise ValueError(f"sampler={name!r}; allowed: {list(SAMPLERS)}")
    scheduler.set_timesteps(steps)
    return scheduler


def alphas_cumprod(num_train_timesteps: int, beta_schedule: str) -> torch.Tensor:
    """ᾱ_t for t = 0 … T − 1 (diffusers' 0-based index: t = 0 is the first noising step)."""
    return make_training_scheduler(num_train_timesteps, beta_schedule, "eps").alphas_cumprod


def _bcast(abar_t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return abar_t.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def eps_from_v(v: torch.Tensor, r_t: torch.Tensor, abar_t: torch.Tensor) -> torch.Tensor:
    """ε = √ᾱ v + √(1 − ᾱ) r_t, from v = √ᾱ ε − √(1 − ᾱ) r₀."""
    a = _bcast(abar_t, r_t)
    return a.sqrt() * v + (1 - a).sqrt() * r_t


def x0_from_eps(eps: torch.Tensor, r_t: torch.Tensor, abar_t: torch.Tensor) -> torch.Tensor:
    """r₀ = (r_t − √(1 − ᾱ) ε) / √ᾱ."""
    a = _bcast(abar_t, r_t)
    return (r_t - (1 - a).sqrt() * eps) / a.sqrt()


def x0_from_v(v: torch.Tensor, r_t: torch.Tensor, abar_t: torch.Tensor) -> torch.Tensor:
    """r₀ = √ᾱ r_t − √(1 − ᾱ) v."""
    a = _bcast(abar_t, r_t)
    return a.sqrt() * r_t - (1 - a).sqrt() * v
