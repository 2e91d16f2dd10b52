"""Stage 2: the training loss and the sampler of every model family, as plain functions.

The network is trained and sampled in the family's standardised space r (see :mod:`rpd.frames`); the
prior is frozen. Sampling uses diffusers' schedulers unchanged, with one random generator per sample so
that a sample does not depend on the batch it was drawn in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.utils.torch_utils import randn_tensor
from torch import nn

from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import Frame, extra_inputs, make_frame
from rpd.schedule import make_sampler, make_training_scheduler


@dataclass
class DiffusionSpec:
    """What defines a model family's diffusion, apart from its network weights."""

    family: str
    aux: str
    target: str
    num_train_timesteps: int
    beta_schedule: str

    @classmethod
    def from_run_config(cls, run: dict) -> "DiffusionSpec":
        model = run["model"]
        return cls(model["family"], model["aux"], model["target"], run["T"], run["beta_schedule"])


def prior_frame(
    spec: DiffusionSpec, prior: nn.Module | None, z: torch.Tensor | None, like: torch.Tensor,
    y: torch.Tensor | None = None,
):
    """(frame, μ̂) for latents z (and class labels y); μ̂ is None for families without a prior."""
    if spec.family not in FAMILIES_WITH_PRIOR:
        return make_frame(spec.family, like, None, None), None
    with torch.no_grad():
        mu, sigma = prior.decode(z, y)
    return make_frame(spec.family, like, mu, sigma), mu


def training_loss(
    spec: DiffusionSpec, net: nn.Module, prior: nn.Module | None, x0: torch.Tensor, scheduler=None,
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared error of the ε or v prediction at a uniform t, with z ~ q(z|x₀, y) (SPEC §2).

    ``y`` holds the class labels of class-conditional data (the prior and the network both receive them).
    """
    scheduler = scheduler or make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    z = None
    if spec.family in FAMILIES_WITH_PRIOR:
        with torch.no_grad():
            z = prior.posterior_sample(x0, y)
    frame, mu = prior_frame(spec, prior, z, x0, y)
    r0 = frame.to_residual(x0)
    t = torch.randint(0, spec.num_train_timesteps, (x0.shape[0],)).to(x0.device)  # drawn on the CPU on every device
    eps = torch.randn_like(r0)
    r_t = scheduler.add_noise(r0, eps, t)
    target = eps if spec.target == "eps" else scheduler.get_velocity(r0, eps, t)
    abar_t = scheduler.alphas_cumprod.to(x0.device)[t]
    pred = net(r_t, t, extra_inputs(spec.family, spec.aux, spec.target, r_t, abar_t, mu), y)
    return F.mse_loss(pred, target)


def sample_labels(n: int, num_classes: int) -> np.ndarray | None:
    """The class of each of n samples: sample i gets class i mod C (balanced classes); None if unconditional."""
    return np.arange(n) % num_classes if num_classes > 0 else None


def sample_generators(seed: int, indices: range) -> list[torch.Generator]:
    """One generator per sample index, seeded from (seed, index) so that streams never overlap."""
    return [
        torch.Generator().manual_seed(int(np.random.SeedSequence([seed, i]).generate_state(1, np.uint64)[0] >> 1))
        for i in indices
    ]


@torch.no_grad()
def sample(
    spec: DiffusionSpec,
    net: nn.Module,
    prior: nn.Module | None,
    n: int,
    data_shape: tuple[int, ...],
    sampler: str,
    steps: int,
    seed: int,
    batch_size: int,
    num_classes: int = 0,
) -> np.ndarray:
    """Draw n samples: z ~ p̂(z), r_T ~ N(0, I), ``steps`` denoising steps in r-space, x₀ = c + s·r₀.

    With ``num_classes`` > 0, sample i is drawn for class i mod C (:func:`sample_labels`).
    """
    net.eval()
    labels = sample_labels(n, num_classes)
    out = []
    for start in range(0, n, batch_size):
        idx = range(start, min(n, start + batch_size))
        y = None if labels is None else torch.from_numpy(labels[start: idx.stop])
        out.append(_sample_batch(spec, net, prior, sample_generators(seed, idx), tuple(data_shape), sampler, steps, y))
    return torch.cat(out).numpy()


def _sample_batch(spec, net, prior, gens, data_shape, sampler, steps, y) -> torch.Tensor:
    scheduler = make_sampler(sampler, spec.num_train_timesteps, spec.beta_schedule, spec.target, steps)
    b = len(gens)
    like = torch.zeros(b, *data_shape)
    z = prior.sample_latent(gens) if spec.family in FAMILIES_WITH_PRIOR else None
    frame, mu = prior_frame(spec, prior, z, like, y)
    r = randn_tensor((b, *data_shape), generator=gens)
    for t in scheduler.timesteps:
        t_batch = t.expand(b)
        abar_t = scheduler.alphas_cumprod[t_batch]
        pred = net(r, t_batch, extra_inputs(spec.family, spec.aux, spec.target, r, abar_t, mu), y)
        r = scheduler.step(pred, t, r, generator=gens).prev_sample
    return frame.to_data(r)


@torch.no_grad()
def sample_prior(prior: nn.Module, n: int, seed: int, batch_size: int, num_classes: int = 0) -> np.ndarray:
    """Samples of the prior model itself: z ~ p̂(z), x ~ N(μ̂(z, y), σ̂(z, y)²) (classes as in :func:`sample`)."""
    prior.eval()
    labels = sample_labels(n, num_classes)
    out = []
    for start in range(0, n, batch_size):
        idx = range(start, min(n, start + batch_size))
        gens = sample_generators(seed, idx)
        y = None if labels is None else torch.from_numpy(labels[start: idx.stop])
        mu, sigma = prior.decode(prior.sample_latent(gens), y)
        out.append(Frame(mu, sigma).to_data(randn_tensor(mu.shape, generator=gens)))
    return torch.cat(out).numpy()
