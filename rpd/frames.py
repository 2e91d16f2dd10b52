"""How each model family maps data to the standardised space its diffusion runs in.

Every family is a standard DDPM on r = (x − c(z)) / s(z) (SPEC §2):

========== ============ ============ ==========================================
family     centre c(z)  scale s(z)   network's extra inputs (beside x_t)
========== ============ ============ ==========================================
rpd        μ̂(z)         σ̂(z)         aux = omega: (ω, μ̂); mu: (μ̂); none: ()
ddpm       0            1            ()
diffusevae1 0           1            (x̂ = μ̂(z))  — DiffuseVAE form 1
diffusevae2 x̂ = μ̂(z)    1            (x̂)         — DiffuseVAE form 2
========== ============ ============ ==========================================

so x_t = √ᾱ_t x₀ + (1 − √ᾱ_t) c + √(1 − ᾱ_t) s ε, and x_T → N(c, s²) is where sampling starts.
The auxiliary variables are ω_ε = r_t / √(1 − ᾱ_t) and ω_v = √ᾱ_t ω_ε (the targets implied by x₀ = μ̂).

The network's main input is x_t = c + s·r_t in data space for every family (SPEC §2, as in the paper): r_t is
the variable the schedulers step, not what the network sees. ω is then what brings the prior's normalised
residual to the network; with r_t as the main input, ω would only rescale an input every variant already has.
:func:`network_inputs` builds what the network sees, for training, sampling and the bound alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rpd.families import AUX_INPUTS, FAMILIES


@dataclass(frozen=True)
class Frame:
    """The affine map x = centre + scale · r between data space and the diffusion's space."""

    centre: torch.Tensor
    scale: torch.Tensor

    def to_residual(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.centre) / self.scale

    def to_data(self, r: torch.Tensor) -> torch.Tensor:
        return self.centre + self.scale * r

    def to(self, device: torch.device | str) -> Frame:
        return Frame(self.centre.to(device), self.scale.to(device))

    def rows(self, index: torch.Tensor) -> Frame:
        """The frame of the data rows ``index`` (the bound evaluates repeated rows of a batch)."""
        return Frame(self.centre[index], self.scale[index])


def make_frame(family: str, like: torch.Tensor, mu: torch.Tensor | None, sigma: torch.Tensor | None) -> Frame:
    """The frame of ``family`` for prior outputs (μ̂, σ̂); ``like`` gives shape and dtype when there is no prior."""
    if family == "rpd":
        return Frame(mu, sigma)
    if family in ("ddpm", "diffusevae1"):
        return Frame(torch.zeros_like(like), torch.ones_like(like))
    if family == "diffusevae2":
        return Frame(mu, torch.ones_like(mu))
    raise ValueError(f"family={family!r}; allowed: {list(FAMILIES)}")


def omega(r_t: torch.Tensor, abar_t: torch.Tensor, target: str) -> torch.Tensor:
    """ω_ε = r_t / √(1 − ᾱ_t) for ε-prediction, ω_v = √ᾱ_t ω_ε for v-prediction."""
    a = abar_t.reshape(-1, *([1] * (r_t.dim() - 1))).to(r_t.dtype)
    omega_eps = r_t / (1 - a).sqrt()
    if target == "eps":
        return omega_eps
    if target == "v":
        return a.sqrt() * omega_eps
    raise ValueError(f"target={target!r}; allowed: ['eps', 'v']")


def extra_inputs(
    family: str, aux: str, target: str, r_t: torch.Tensor, abar_t: torch.Tensor, mu: torch.Tensor | None
) -> list[torch.Tensor]:
    """The conditioning tensors given to the network beside r_t, the time step and the class."""
    if family == "ddpm":
        return []
    if family in ("diffusevae1", "diffusevae2"):
        return [mu]
    if family != "rpd":
        raise ValueError(f"family={family!r}; allowed: {list(FAMILIES)}")
    if aux == "omega":
        return [omega(r_t, abar_t, target), mu]
    if aux == "mu":
        return [mu]
    if aux == "none":
        return []
    raise ValueError(f"aux={aux!r}; allowed: {list(AUX_INPUTS)}")


def network_inputs(
    family: str, aux: str, target: str, frame: Frame, r_t: torch.Tensor, abar_t: torch.Tensor,
    mu: torch.Tensor | None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(x_t, extra inputs): what the denoiser sees beside the time step and the class (SPEC §2).

    The main input is x_t = c + s·r_t in data space; the extra inputs are :func:`extra_inputs` (for RPD the
    auxiliary variable ω, computed from r_t, and μ̂; or μ̂ alone; or nothing).
    """
    return frame.to_data(r_t), extra_inputs(family, aux, target, r_t, abar_t, mu)


def num_extra_inputs(family: str, aux: str) -> int:
    """How many data-shaped tensors :func:`extra_inputs` returns (the network's extra input channels)."""
    if family == "ddpm" or (family == "rpd" and aux == "none"):
        return 0
    if family == "rpd" and aux == "omega":
        return 2
    return 1
