"""Noise schedules and diffusers schedulers, and the ε / v / x₀ conversions between them.

The schedule is kept apart from the network (as in improved-diffusion): every model family diffuses a
standardised variable r (see :mod:`rpd.frames`) with the standard DDPM forward process
r_t = √ᾱ_t r_0 + √(1 − ᾱ_t) ε, so diffusers' schedulers apply unchanged.
"""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

BETA_SCHEDULES = {"linear": "linear", "cosine": "squaredcos_cap_v2"}
PREDICTION_TYPES = {"eps": "epsilon", "v": "v_prediction"}
SAMPLERS = ("ddpm", "ddim")


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


def make_sampler(name: str, num_train_timesteps: int, beta_schedule: str, target: str, steps: int) -> SchedulerMixin:
    """A diffusers scheduler set to ``steps`` inference steps: ``ddpm`` (ancestral) or ``ddim`` (η = 0)."""
    kwargs = _common_kwargs(num_train_timesteps, beta_schedule, target)
    if not 1 <= steps <= num_train_timesteps:
        raise ValueError(f"steps={steps}; allowed: 1 ≤ steps ≤ T = {num_train_timesteps}")
    if name == "ddpm":
        scheduler = DDPMScheduler(**kwargs)
    elif name == "ddim":
        # set_alpha_to_one: the last step of K = T returns the x₀ prediction, as DDPM's does.
        scheduler = DDIMScheduler(**kwargs, set_alpha_to_one=True)
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
