"""The samplers' steps, whose scalar coefficients rpd computes ahead (rpd.schedule, rpd.multistep), against
diffusers' own ``step`` over whole trajectories: every intermediate sample, both targets, K from 1 to T."""

from __future__ import annotations

import pytest
import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler

from rpd.schedule import make_sampler

T = 1000
REFERENCE = {"ddim": DDIMScheduler, "dpmpp": DPMSolverMultistepScheduler, "unipc": UniPCMultistepScheduler}


def _model(r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A made-up network output that depends nonlinearly on the sample and the time step."""
    return torch.sin(1.3 * r) + 0.2 * r + 1e-3 * float(t)


def _trajectory(scheduler, r: torch.Tensor) -> list[torch.Tensor]:
    out = []
    for t in scheduler.timesteps:
        r = scheduler.step(_model(r, t), t, r).prev_sample
        out.append(r)
    return out


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("target", ["eps", "v"])
@pytest.mark.parametrize("steps", [1, 2, 3, 4, 10, 37, 100])
def test_precomputed_steps_follow_diffusers(name, target, steps):
    ours = make_sampler(name, T, "linear", target, steps)
    theirs = REFERENCE[name].from_config(ours.config)
    theirs.set_timesteps(steps)
    assert type(ours) is not REFERENCE[name] and isinstance(ours, REFERENCE[name])
    torch.testing.assert_close(ours.timesteps, theirs.timesteps, rtol=0, atol=0)
    # diffusers in float64 (its tables cast), ours in float32: the float32 rounding of a trajectory (≤ 4e-5 here,
    # diffusers' own float32 run differs from float64 as much) is what the tolerance allows
    for table in ("sigmas", "alphas_cumprod", "final_alpha_cumprod"):
        if hasattr(theirs, table):
            setattr(theirs, table, getattr(theirs, table).double())
    r = torch.randn(64, 2, generator=torch.Generator().manual_seed(steps))
    for i, (got, want) in enumerate(zip(_trajectory(ours, r), _trajectory(theirs, r.double()), strict=True)):
        assert want.dtype == torch.float64
        torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-4, msg=lambda m, i=i: f"step {i}: {m}")


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_a_sampler_restarts_with_set_timesteps(name):
    """set_timesteps resets the step counter and the history, so a scheduler reused for a second batch gives
    the same samples as a fresh one."""
    s = make_sampler(name, T, "linear", "eps", 10)
    r = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    first = _trajectory(s, r)[-1]
    s.set_timesteps(10)
    torch.testing.assert_close(_trajectory(s, r)[-1], first, rtol=0, atol=0)


def test_the_last_step_returns_the_x0_prediction():
    """K = 1 of every deterministic sampler is the one-step x₀ prediction (trailing spacing, final σ = 0)."""
    r = torch.randn(16, 2, generator=torch.Generator().manual_seed(3))
    for name in REFERENCE:
        s = make_sampler(name, T, "linear", "eps", 1)
        abar = s.alphas_cumprod[T - 1]
        eps = _model(r, s.timesteps[0])
        want = (r - (1 - abar).sqrt() * eps) / abar.sqrt()
        torch.testing.assert_close(_trajectory(s, r)[-1], want, rtol=1e-5, atol=1e-5)
