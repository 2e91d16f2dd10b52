"""Train, sample and score one model in memory, without Snakemake (README "Python API").

    from rpd import api

    data = api.grid_data(shape="dino", grid=2, scale=0.1, n_train=2000, n_eval=500)
    prior = api.train_prior(data, kind="vqvae", steps=500)
    model = api.train_model(data, prior, family="rpd", steps=500)
    x = api.sample(model, n=500, sampler="ddim", steps=10)
    print(api.scores(x, data)["rw1wd"])

Every function builds the same resolved run config a suite would (:func:`rpd.runs.run_config` on a one-run
suite checked by :func:`rpd.config.validate_config`, so bad arguments fail with the suite key to fix), and then
calls the job code's pieces: the network factories of :mod:`rpd.stages`, :func:`rpd.training.fit`,
:func:`rpd.diffusion.sample` and :func:`rpd.evaluate.grid_metrics`. Same arguments and seed, same numbers
(on the CPU). 2D (grid) data only; image runs go through the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from rpd import diffusion
from rpd.config import validate_config
from rpd.data.grid import make_grid_dataset
from rpd.data.specs import data_shape
from rpd.diffusion import DiffusionSpec, denoiser_training
from rpd.evaluate import grid_metrics
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.runs import Run, run_config
from rpd.stages import build_denoiser, build_prior_for, fit_prior
from rpd.training import Progress, TrainConfig, fit

#: The one size name of an API run (a suite may name its sizes freely).
SIZE = "std"


@dataclass(frozen=True)
class GridData:
    """A grid dataset: its suite entry (``spec``), training points and held-out reference points (N × 2)."""

    spec: dict
    train: np.ndarray
    reference: np.ndarray


@dataclass
class Trained:
    """A trained prior or denoiser: its resolved run config, the module (on the CPU) and its loss history."""

    run: dict
    module: nn.Module
    history: list[tuple[int, float]] = field(default_factory=list)
    prior: Trained | None = None  # a denoiser's frozen prior (None for DDPM)


def grid_data(shape: str = "dino", grid: int = 4, scale: float = 0.1, n_train: int = 20000, n_eval: int = 2000,
              jitter: float = 0.02, data_seed: int = 2024) -> GridData:
    """A Datasaurus shape on a G×G grid (SPEC §3): training set from ``data_seed``, reference from ``data_seed + 1``."""
    spec = {"kind": "grid", "shape": shape, "grid": grid, "scale": scale, "jitter": jitter, "n_train": n_train,
            "data_seed": data_seed, "n_eval": n_eval}
    spec = validate_config(_suite(spec, {}, {"ddpm": {"family": "ddpm"}}, {}, {}))["datasets"]["data"]
    args = dict(shape=shape, grid=grid, scale=scale, jitter=jitter)
    return GridData(spec, make_grid_dataset(n=n_train, seed=data_seed, **args),
                    make_grid_dataset(n=n_eval, seed=data_seed + 1, **args))


def train_prior(data: GridData, kind: str = "vqvae", hidden: int = 64, depth: int = 3, steps: int = 2000,
                batch_size: int = 256, lr: float = 1e-3, seed: int = 0, **options) -> Trained:
    """Stage 1: a VQ-VAE or β-VAE prior (``options``: the ``priors`` keys, e.g. ``codes=16``), p̂(z) fitted."""
    training = {"steps": steps, "batch_size": batch_size, "lr": lr, "log_every": max(1, steps // 5)}
    cfg = _suite(data.spec, {"prior": {"kind": kind, **options}}, {"rpd": {"family": "rpd", "prior": "prior"}},
                 {"hidden": hidden, "depth": depth}, training)
    run = run_config(validate_config(cfg), Run("prior", "data", "prior", SIZE, seed))
    torch.manual_seed(seed)
    prior = build_prior_for(run)
    x = torch.from_numpy(data.train)
    train_cfg = TrainConfig.from_dict(run["training"], source="prior_training")
    history = fit_prior(prior, lambda b: prior.loss(b, None)[0], x, x, train_cfg,
                        Progress("api/prior", train_cfg.steps), seed)
    prior.eval().requires_grad_(False)
    return Trained(run, prior, history)


def train_model(data: GridData, prior: Trained | None, family: str = "rpd", hidden: int = 64, depth: int = 3,
                steps: int = 2000, batch_size: int = 256, lr: float = 1e-3, ema_decay: float = 0.999, seed: int = 0,
                target: str = "eps", aux: str = "omega", T: int = 1000, beta_schedule: str = "linear") -> Trained:
    """Stage 2: the denoiser of an RPD / DDPM / DiffuseVAE model on a frozen prior (``None`` for DDPM)."""
    if (family in FAMILIES_WITH_PRIOR) != (prior is not None):
        raise ValueError(f"family {family!r} {'needs' if prior is None else 'takes no'} prior; "
                         f"pass {'a trained prior (api.train_prior)' if prior is None else 'prior=None'}")
    training = {"steps": steps, "batch_size": batch_size, "lr": lr, "ema_decay": ema_decay,
                "log_every": max(1, steps // 5)}
    model = {"family": family, "target": target} | ({"prior": "prior", "aux": aux} if prior is not None else {})
    priors = {} if prior is None else {"prior": {k: v for k, v in prior.run["prior"].items() if k != "name"}}
    cfg = _suite(data.spec, priors, {"model": model}, {"hidden": hidden, "depth": depth}, training, T, beta_schedule)
    if prior is not None:  # the prior's own network and training, so the run config names the prior it got
        cfg["prior_sizes"], cfg["prior_training"] = {SIZE: prior.run["network"]}, prior.run["training"]
    run = run_config(validate_config(cfg), Run("model", "data", "model", SIZE, seed))
    torch.manual_seed(seed)
    spec = DiffusionSpec.from_run_config(run)
    net = build_denoiser(run)
    train_cfg = TrainConfig.from_dict(run["training"], source="training")
    frozen = None if prior is None else prior.module
    loss, batches = denoiser_training(spec, net, frozen, torch.from_numpy(data.train), steps * batch_size)
    history = fit(net, loss, batches, train_cfg, Progress(f"api/{family}", train_cfg.steps),
                  torch.Generator().manual_seed(seed))
    return Trained(run, net, history, prior)


def sample(model: Trained, n: int, sampler: str = "ddim", steps: int = 10, seed: int = 0,
           batch_size: int = 1000) -> np.ndarray:
    """n samples (n × 2) with ``sampler`` (ddpm, ddim, dpmpp, unipc) in K = ``steps`` denoising steps."""
    run = model.run
    if not 1 <= steps <= run["T"]:
        raise ValueError(f"steps={steps}: allowed 1 ≤ K ≤ T = {run['T']}")
    prior = None if model.prior is None else model.prior.module
    return diffusion.sample(DiffusionSpec.from_run_config(run), model.module, prior, n, data_shape(run["dataset"]),
                            sampler, steps, seed=seed, batch_size=batch_size)


def scores(samples: np.ndarray, data: GridData) -> dict[str, float]:
    """1WD, RW-1WD (the headline metric, SPEC §4) and the region mass error of samples against the reference."""
    return grid_metrics(samples, data.reference, data.spec)


def _suite(dataset: dict, priors: dict, models: dict, network: dict, training: dict, T: int = 1000,
           beta_schedule: str = "linear") -> dict:
    """A one-dataset suite holding what one API run needs (validated by the caller)."""
    cfg = {"suite": "api", "seeds": [0], "T": T, "beta_schedule": beta_schedule, "datasets": {"data": dataset},
           "priors": priors, "models": models, "sampling": [{"samplers": ["ddim"], "steps": [1]}],
           "experiments": {"e1": {"datasets": ["data"], "models": list(models), "sizes": [SIZE]}}}
    placeholder = {"hidden": 1, "depth": 1}, {"steps": 1, "batch_size": 1, "lr": 1e-3}
    cfg["networks"], cfg["training"] = {SIZE: network or placeholder[0]}, training or placeholder[1]
    cfg["prior_sizes"], cfg["prior_training"] = {SIZE: network or placeholder[0]}, training or placeholder[1]
    return cfg
