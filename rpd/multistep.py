"""diffusers' multistep solvers as samplers: DPM-Solver++(2M) (``dpmpp``) and UniPC (``unipc``).

A module of its own because diffusers' multistep scheduler modules import ``scipy.stats`` (2–3 s in a fresh
process, for their optional beta sigmas), which only a job that samples with these two needs:
:func:`rpd.schedule.make_sampler` imports this module when it builds one of them, so that training, prior and
bound jobs (DDPM's scheduler only) start without scipy.

Both solvers are used with x₀ prediction, second order, no thresholding: every step is then a linear
combination of the sample, the current x₀ prediction and earlier ones (UniPC also the previous corrected
sample), with scalar coefficients that depend on the step only. diffusers' ``step`` computes them with some
hundred 0-d tensor operations per step (≈ 0.5–1.2 ms, as much as a 2D network's forward pass at the batch
sizes here), so these subclasses compute them once, in Python floats, from the scheduler's own σ table
(``set_timesteps``), following diffusers' ``step`` term by term; tests/test_sampler_steps.py checks whole
trajectories against diffusers' own ``step``.
"""

from __future__ import annotations

import math

import torch
from diffusers import DPMSolverMultistepScheduler, UniPCMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin, SchedulerOutput

from rpd.schedule import linear_combination

MULTISTEP_SAMPLERS = ("dpmpp", "unipc")


def _alpha_sigma_lambda(sigma: float) -> tuple[float, float, float]:
    """diffusers' (α_t, σ_t) of a DPM σ (``_sigma_to_alpha_sigma_t``) and λ_t = log α_t − log σ_t (+∞ at σ = 0)."""
    alpha = 1 / math.sqrt(sigma**2 + 1)
    return alpha, sigma * alpha, (math.log(alpha) - math.log(sigma * alpha)) if sigma > 0 else math.inf


def _x0_coefficients(sigma: float, prediction_type: str) -> tuple[float, float]:
    """``convert_model_output``'s x₀ prediction at DPM σ as (coefficient of the sample, of the model output)."""
    alpha, sigma_t, _ = _alpha_sigma_lambda(sigma)
    return (1 / alpha, -sigma_t / alpha) if prediction_type == "epsilon" else (alpha, -sigma_t)


class _PlannedMultistep:
    """The shared part: a step counter (diffusers' ``_step_index``), the x₀ predictions of earlier steps and a
    per-step plan of coefficients built in ``set_timesteps``."""

    def set_timesteps(self, *args, **kwargs) -> None:
        super().set_timesteps(*args, **kwargs)
        self._history: list[torch.Tensor] = []  # x₀ predictions, oldest first (at most two kept)
        self._plan = self._make_plan([float(s) for s in self.sigmas], self.config.prediction_type)

    def _begin(self, model_output: torch.Tensor, timestep, sample: torch.Tensor) -> tuple[int, tuple, torch.Tensor]:
        """(step index, this step's plan, x₀ prediction) and the prediction appended to the history."""
        if self.step_index is None:
            self._init_step_index(timestep)
        i = self.step_index
        plan = self._plan[i]
        x0 = linear_combination((plan[0][0], sample), (plan[0][1], model_output))
        self._history = [*self._history[-1:], x0]
        return i, plan, x0


class DPMSolverSampler(_PlannedMultistep, DPMSolverMultistepScheduler):
    """DPM-Solver++(2M), midpoint, x₀ prediction (``DPMSolverMultistepScheduler.step``): first order at the first
    step (no earlier prediction yet) and at the last (``final_sigmas_type="zero"``), second order between."""

    @staticmethod
    def _make_plan(sigmas: list[float], prediction_type: str) -> list[tuple]:
        plan = []
        last = len(sigmas) - 2
        for i in range(last + 1):
            alpha_t, sigma_t, lam_t = _alpha_sigma_lambda(sigmas[i + 1])
            _, sigma_s0, lam_s0 = _alpha_sigma_lambda(sigmas[i])
            phi = alpha_t * (math.exp(-(lam_t - lam_s0)) - 1.0)  # α_t (e^{−h} − 1); −α_t at σ_t = 0
            order = 1 if i in (0, last) else 2
            if order == 1:  # x_t = σ_t/σ_s x − α_t (e^{−h} − 1) D0
                coef = (sigma_t / sigma_s0, -phi, 0.0)
            else:  # midpoint: D1 = (m0 − m1) / r0, r0 = h_0 / h; x_t = σ_t/σ_s0 x − φ D0 − ½ φ D1
                _, _, lam_s1 = _alpha_sigma_lambda(sigmas[i - 1])
                r0 = (lam_s0 - lam_s1) / (lam_t - lam_s0)
                coef = (sigma_t / sigma_s0, -phi - 0.5 * phi / r0, 0.5 * phi / r0)
            plan.append((_x0_coefficients(sigmas[i], prediction_type), coef))
        return plan

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, generator=None,
             return_dict: bool = True) -> SchedulerOutput | tuple:
        _, (_, (c_x, c_m0, c_m1)), x0 = self._begin(model_output, timestep, sample)
        terms = [(c_x, sample), (c_m0, x0)] + ([(c_m1, self._history[0])] if c_m1 else [])
        prev = linear_combination(*terms)
        self._step_index += 1
        return SchedulerOutput(prev_sample=prev) if return_dict else (prev,)


def _unipc_b(hh: float, order: int) -> list[float]:
    """UniPC's right-hand side b (bh2: B(h) = e^{hh} − 1), the loop of diffusers' ``multistep_uni_*_bh_update``."""
    h_phi_1 = math.expm1(hh)
    h_phi_k, factorial, b = h_phi_1 / hh - 1, 1, []
    for k in range(1, order + 1):
        b.append(h_phi_k * factorial / h_phi_1)
        factorial *= k + 1
        h_phi_k = h_phi_k / hh - 1 / factorial
    return b


class UniPCSampler(_PlannedMultistep, UniPCMultistepScheduler):
    """UniPC (bh2, x₀ prediction, ``UniPCMultistepScheduler.step``): at step i the corrector UniC refines the
    sample with the new x₀ prediction (from step 1 on), then the predictor UniP steps on, of order
    min(2, K − i, i + 1) (``lower_order_final`` and the warm-up); the corrector uses the previous step's order.
    UniPC is deterministic: the ``generator`` the sampling loop may pass is unused."""

    @staticmethod
    def _make_plan(sigmas: list[float], prediction_type: str) -> list[tuple]:
        steps = len(sigmas) - 1
        orders = [min(2, steps - i, i + 1) for i in range(steps)]
        lam = [_alpha_sigma_lambda(s)[2] for s in sigmas]
        plan = []
        for i in range(steps):
            alpha_t, sigma_t, _ = _alpha_sigma_lambda(sigmas[i + 1])
            h = lam[i + 1] - lam[i]
            # UniP: x_t = σ_t/σ_s0 x − α_t h_φ1 m0 − α_t B_h ρ (m1 − m0) / r_k, ρ = ½ at order 2
            phi, b_h = alpha_t * math.expm1(-h), alpha_t * math.expm1(-h)
            ratio = sigma_t / _alpha_sigma_lambda(sigmas[i])[1]
            if orders[i] == 2:
                rk = (lam[i - 1] - lam[i]) / h
                predictor = (ratio, -phi + b_h * 0.5 / rk, -b_h * 0.5 / rk)
            else:
                predictor = (ratio, -phi, 0.0)
            plan.append((_x0_coefficients(sigmas[i], prediction_type), predictor, _unipc_corrector(sigmas, lam, i,
                                                                                                     orders)))
        return plan

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, generator=None,
             return_dict: bool = True) -> SchedulerOutput | tuple:
        i, (_, (p_x, p_m0, p_m1), corrector), x0 = self._begin(model_output, timestep, sample)
        if corrector is not None:  # UniC on (last corrected sample, x₀ of steps i − 2, i − 1, i)
            c_x, c_m2, c_m1, c_m0 = corrector
            terms = [(c_x, self.last_sample), (c_m1, self._earlier[-1]), (c_m0, x0)]
            sample = linear_combination(*terms, *([(c_m2, self._earlier[0])] if c_m2 else []))
        self.last_sample = sample
        terms = [(p_x, sample), (p_m0, x0)] + ([(p_m1, self._history[0])] if p_m1 else [])
        prev = linear_combination(*terms)
        self._earlier = list(self._history)  # the x₀ predictions the next corrector sees (i − 1, i)
        self._step_index += 1
        return SchedulerOutput(prev_sample=prev) if return_dict else (prev,)


def _unipc_corrector(sigmas: list[float], lam: list[float], i: int, orders: list[int]) -> tuple | None:
    """UniC's coefficients at step i ≥ 1 of (last corrected sample, m_{i−2}, m_{i−1}, m_i), order of step i − 1:
    x_t = σ_t/σ_s0 x − α_t h_φ1 m_{i−1} − α_t B_h (ρ₀ (m_{i−2} − m_{i−1}) / r_k + ρ₁ (m_i − m_{i−1}))."""
    if i == 0:
        return None
    order = orders[i - 1]
    alpha_t, sigma_t, _ = _alpha_sigma_lambda(sigmas[i])
    h = lam[i] - lam[i - 1]
    phi = alpha_t * math.expm1(-h)  # α_t h_φ1 = α_t B_h (bh2)
    b = _unipc_b(-h, order)
    if order == 1:
        rho0, rho1, rk = 0.0, 0.5, 1.0
    else:  # solve [[1, 1], [r_k, 1]] ρ = b
        rk = (lam[i - 2] - lam[i - 1]) / h
        rho0 = (b[0] - b[1]) / (1 - rk)
        rho1 = b[0] - rho0
    c_m2 = -phi * rho0 / rk
    c_m0 = -phi * rho1
    c_m1 = -phi + phi * rho0 / rk + phi * rho1
    return sigma_t / _alpha_sigma_lambda(sigmas[i - 1])[1], c_m2, c_m1, c_m0


def make_multistep_sampler(name: str, common_kwargs: dict) -> SchedulerMixin:
    """DPM-Solver++(2M) or UniPC (bh2) from the schedule's ``common_kwargs`` (rpd.schedule), second order,
    lower order near the end, final σ = 0, no thresholding.

    ``clip_sample`` is a DDPM/DDIM option; the multistep solvers' counterpart is ``thresholding`` (off).
    """
    kwargs = {k: v for k, v in common_kwargs.items() if k != "clip_sample"}
    kwargs.update(solver_order=2, lower_order_final=True, final_sigmas_type="zero", thresholding=False,
                  use_karras_sigmas=False)
    if name == "dpmpp":
        return DPMSolverSampler(**kwargs, algorithm_type="dpmsolver++", solver_type="midpoint", euler_at_final=False)
    if name == "unipc":
        return UniPCSampler(**kwargs, predict_x0=True, solver_type="bh2")
    raise ValueError(f"multistep sampler={name!r}; allowed: {list(MULTISTEP_SAMPLERS)}")
