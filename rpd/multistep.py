"""diffusers' multistep solvers as samplers: DPM-Solver++(2M) (``dpmpp``) and UniPC (``unipc``).

A module of its own because diffusers' multistep scheduler modules import ``scipy.stats`` (2–3 s in a fresh
process, for their optional beta sigmas), which only a job that samples with these two needs:
:func:`rpd.schedule.make_sampler` imports this module when it builds one of them, so that training, prior and
bound jobs (DDPM's scheduler only) start without scipy.
"""

from __future__ import annotations

import torch
from diffusers import DPMSolverMultistepScheduler, UniPCMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin, SchedulerOutput

MULTISTEP_SAMPLERS = ("dpmpp", "unipc")


class UniPCSampler(UniPCMultistepScheduler):
    """diffusers' UniPC with the ``step(..., generator=...)`` signature of the other samplers.

    UniPC is deterministic, so the per-sample generators the sampling loop passes are accepted and unused.
    """

    def step(self, model_output: torch.Tensor, timestep, sample: torch.Tensor, generator=None,
             return_dict: bool = True) -> SchedulerOutput | tuple:
        return super().step(model_output, timestep, sample, return_dict=return_dict)


def make_multistep_sampler(name: str, common_kwargs: dict) -> SchedulerMixin:
    """DPM-Solver++(2M) or UniPC (bh2) from the schedule's ``common_kwargs`` (rpd.schedule), second order,
    lower order near the end, final σ = 0, no thresholding.

    ``clip_sample`` is a DDPM/DDIM option; the multistep solvers' counterpart is ``thresholding`` (off).
    """
    kwargs = {k: v for k, v in common_kwargs.items() if k != "clip_sample"}
    kwargs.update(solver_order=2, lower_order_final=True, final_sigmas_type="zero", thresholding=False,
                  use_karras_sigmas=False)
    if name == "dpmpp":
        return DPMSolverMultistepScheduler(**kwargs, algorithm_type="dpmsolver++", solver_type="midpoint",
                                           euler_at_final=False)
    if name == "unipc":
        return UniPCSampler(**kwargs, predict_x0=True, solver_type="bh2")
    raise ValueError(f"multistep sampler={name!r}; allowed: {list(MULTISTEP_SAMPLERS)}")
