"""Stage 2: the training loss and the sampler of every model family, as plain functions.

The network is trained and sampled in the family's standardised space r (see :mod:`rpd.frames`); the
prior is frozen. Sampling uses diffusers' schedulers, with one random generator per sample so
that a sample does not depend on the batch it was drawn in (each generator draws its sample's noise for many
steps in one call: see :func:`step_noise`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.utils.torch_utils import randn_tensor
from torch import nn

from rpd.batching import NOISE_BLOCK_ELEMENTS
from rpd.devices import autocast
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import Frame, make_frame, network_inputs
from rpd.schedule import STOCHASTIC_SAMPLERS, make_sampler, make_training_scheduler


@dataclass
class DiffusionSpec:
    """What defines a model family's diffusion, apart from its network weights."""

    family: str
    aux: str
    target: str
    num_train_timesteps: int
    beta_schedule: str

    @classmethod
    def from_run_config(cls, run: dict) -> DiffusionSpec:
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


def predict(
    spec: DiffusionSpec, net: nn.Module, frame: Frame, r_t: torch.Tensor, t: torch.Tensor, abar_t: torch.Tensor,
    mu: torch.Tensor | None, y: torch.Tensor | None,
) -> torch.Tensor:
    """The network's ε or v prediction for the diffusion variable r_t at time steps t (diffusers' 0-based index).

    The one place the network is called (training, sampling and the bound): it sees x_t = c + s·r_t in data
    space and the family's extra inputs (:func:`rpd.frames.network_inputs`); its prediction is in r-space.
    """
    x_t, extra = network_inputs(spec.family, spec.aux, spec.target, frame, r_t, abar_t, mu)
    return net(x_t, t, extra, y)


def training_loss(
    spec: DiffusionSpec, net: nn.Module, prior: nn.Module | None, x0: torch.Tensor, scheduler=None,
    y: torch.Tensor | None = None, posterior: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared error of the ε or v prediction at a uniform t, with z ~ q(z|x₀, y) (SPEC §2).

    ``y`` holds the class labels of class-conditional data (the prior and the network both receive them).
    ``posterior`` holds the batch's ``prior.posterior_params`` when they were computed ahead (see
    :func:`denoiser_training`); z is then drawn from them instead of running the prior's encoder.
    """
    scheduler = scheduler or make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    z = None
    if spec.family in FAMILIES_WITH_PRIOR:
        with torch.no_grad():
            z = prior.posterior_sample(x0, y) if posterior is None else prior.posterior_from_params(posterior)
    frame, mu = prior_frame(spec, prior, z, x0, y)
    r0 = frame.to_residual(x0)
    t = torch.randint(0, spec.num_train_timesteps, (x0.shape[0],)).to(x0.device)  # drawn on the CPU on every device
    eps = torch.randn_like(r0)
    r_t = scheduler.add_noise(r0, eps, t)
    target = eps if spec.target == "eps" else scheduler.get_velocity(r0, eps, t)
    abar_t = scheduler.alphas_cumprod.to(x0.device)[t]
    pred = predict(spec, net, frame, r_t, t, abar_t, mu, y)
    return F.mse_loss(pred, target)


def denoiser_training(
    spec: DiffusionSpec, net: nn.Module, prior: nn.Module | None, data: torch.Tensor | tuple[torch.Tensor, ...],
    draws: int,
) -> tuple[Callable, torch.Tensor | tuple[torch.Tensor, ...]]:
    """(loss function, training data) for :func:`rpd.training.fit` to train ``net`` on ``data`` (x or (x, y)).

    The prior's posterior parameters (a VQ-VAE's code, a β-VAE's mean and log-sd) are deterministic in x, so
    when training draws at least as many points as the set holds (``draws`` = steps × batch size ≥ its
    length) they are computed once for the whole set and drawn with each batch as an extra data column,
    instead of an encoder pass at every step; z is still drawn afresh from them at every step. (A large image
    set seen in part, as in quick's Fashion-MNIST, keeps the per-step encoder: one pass over it would cost more.)
    """
    scheduler = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    x, y = data if isinstance(data, tuple) else (data, None)
    if spec.family not in FAMILIES_WITH_PRIOR or draws < len(x):
        def loss(batch) -> torch.Tensor:
            x0, yb = batch if isinstance(batch, tuple) else (batch, None)
            return training_loss(spec, net, prior, x0, scheduler, yb)

        return loss, data

    def cached_loss(batch) -> torch.Tensor:
        x0, posterior, *yb = batch
        return training_loss(spec, net, prior, x0, scheduler, yb[0] if yb else None, posterior)

    posterior = posterior_params(prior, x, y)
    return cached_loss, (x, posterior) if y is None else (x, posterior, y)


@torch.no_grad()
def posterior_params(prior: nn.Module, x: torch.Tensor, y: torch.Tensor | None, chunk: int = 4096) -> torch.Tensor:
    """``prior.posterior_params`` of every row of x, computed on the prior's device in chunks (bounded memory)
    and returned on the CPU, where the training data lives."""
    device = next(prior.parameters()).device
    return torch.cat([prior.posterior_params(x[i: i + chunk].to(device),
                                             None if y is None else y[i: i + chunk].to(device)).cpu()
                      for i in range(0, len(x), chunk)])


def sample_labels(n: int, num_classes: int) -> np.ndarray | None:
    """The class of each of n samples: sample i gets class i mod C (balanced classes); None if unconditional."""
    return np.arange(n) % num_classes if num_classes > 0 else None


def sample_generators(seed: int, indices: range) -> list[torch.Generator]:
    """One generator per sample index, seeded from (seed, index) so that streams never overlap."""
    return [torch.Generator().manual_seed(int(s)) for s in _stream_seeds(seed, np.arange(indices.start, indices.stop))]


def _stream_seeds(seed: int, indices: np.ndarray) -> np.ndarray:
    """A 63-bit seed per index: SplitMix64's finaliser over (seed, index), vectorised (one NumPy
    SeedSequence per sample cost more than a 2D sample's whole denoising loop)."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        key = _splitmix64(np.array([seed], dtype=np.uint64) * golden + golden)
        return _splitmix64(key + indices.astype(np.uint64) * golden) >> np.uint64(1)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


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
    device: torch.device | str = "cpu",
    precision: str = "fp32",
) -> np.ndarray:
    """Draw n samples: z ~ p̂(z|y), r_T ~ N(0, I), ``steps`` denoising steps in r-space, x₀ = c + s·r₀.

    With ``num_classes`` > 0, sample i is drawn for class i mod C (:func:`sample_labels`).
    The denoising loop runs on ``device`` (where ``net`` must be); every random number is drawn on the CPU
    from the per-sample generators and moved there, so the noise, and on the CPU the samples bit for bit, do
    not depend on the device. The prior stays on the CPU: its one pass per batch draws z from those generators.
    ``precision="bf16"`` runs the network under bf16 autocast (:func:`rpd.devices.autocast`); the scheduler's
    update stays in float32.
    """
    net.eval()
    labels = sample_labels(n, num_classes)
    out = []
    for start in range(0, n, batch_size):
        idx = range(start, min(n, start + batch_size))
        y = None if labels is None else torch.from_numpy(labels[start: idx.stop])
        out.append(_sample_batch(spec, net, prior, sample_generators(seed, idx), tuple(data_shape), sampler, steps, y,
                                 torch.device(device), precision))
    return torch.cat(out).numpy()


def _sample_batch(spec, net, prior, gens, data_shape, sampler, steps, y, device: torch.device,
                  precision: str) -> torch.Tensor:
    scheduler = make_sampler(sampler, spec.num_train_timesteps, spec.beta_schedule, spec.target, steps)
    b = len(gens)
    like = torch.zeros(b, *data_shape)
    has_prior = spec.family in FAMILIES_WITH_PRIOR
    stochastic = sampler in STOCHASTIC_SAMPLERS
    # the latent's normals, r_T, then each step's noise: one draw per sample for the first block
    noise = step_noise(gens, data_shape, 1 + steps if stochastic else 1, lead=prior.latent_normals if has_prior else 0)
    z = prior.latent_from_normals(next(noise), y) if has_prior else None
    frame, mu = prior_frame(spec, prior, z, like, y)
    frame, mu = Frame(frame.centre.to(device), frame.scale.to(device)), None if mu is None else mu.to(device)
    y = None if y is None else y.to(device)
    r = next(noise).to(device)
    alphas_cumprod = scheduler.alphas_cumprod.to(device)
    for t in scheduler.timesteps:  # on the CPU: the schedulers index their CPU tables with it
        t_batch = t.expand(b).to(device)
        with autocast(device, precision):
            pred = predict(spec, net, frame, r, t_batch, alphas_cumprod[t_batch], mu, y)
        pred = pred.float()  # a no-op in fp32
        step_kwargs = {"variance_noise": next(noise).to(device)} if stochastic else {}
        r = scheduler.step(pred, t, r, **step_kwargs).prev_sample
    return frame.to_data(r).cpu()




def step_noise(gens: list[torch.Generator], data_shape: tuple[int, ...], steps: int,
               block_elements: int = NOISE_BLOCK_ELEMENTS, lead: int = 0) -> Iterator[torch.Tensor]:
    """With ``lead`` > 0, first a b×lead tensor of standard normals (a prior latent's, see
    ``latent_from_normals``); then ``steps`` standard normal b×data_shape tensors: r_T, then the noise of each
    ancestral step.

    Sample i's normals come from its own generator ``gens[i]`` (so they do not depend on the batch), drawn for
    a block of steps in one call (the lead with the first block): one ``torch.randn`` per sample per block
    instead of one per sample per step, which at 2D sizes cost more than the network's forward pass.
    """
    numel = math.prod(data_shape)
    per_block = max(1, block_elements // numel)
    for first in range(0, steps, per_block):
        length = min(per_block, steps - first)
        head = lead if first == 0 else 0
        rows = torch.stack([torch.randn(head + length * numel, generator=g) for g in gens])
        if head:
            yield rows[:, :head]
        yield from rows[:, head:].reshape(len(gens), length, *data_shape).unbind(1)


@torch.no_grad()
def sample_prior(prior: nn.Module, n: int, seed: int, batch_size: int, num_classes: int = 0) -> np.ndarray:
    """Samples of the prior model itself: z ~ p̂(z|y), x ~ N(μ̂(z, y), σ̂(z, y)²) (classes as in :func:`sample`)."""
    prior.eval()
    labels = sample_labels(n, num_classes)
    out = []
    for start in range(0, n, batch_size):
        idx = range(start, min(n, start + batch_size))
        gens = sample_generators(seed, idx)
        y = None if labels is None else torch.from_numpy(labels[start: idx.stop])
        mu, sigma = prior.decode(prior.sample_latent(gens, y), y)
        out.append(Frame(mu, sigma).to_data(randn_tensor(mu.shape, generator=gens)))
    return torch.cat(out).numpy()
