"""What each pipeline job does: make data, train a prior, train a denoiser, draw samples.

Each function takes the run's resolved config (``rpd.config.run_config``) and file paths, so it runs the
same under Snakemake or by hand. Evaluation lives in :mod:`rpd.evaluate` (no torch import there).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rpd.checkpoint import load_state, save_model
from rpd.config import config_hash
from rpd.data.grid import make_grid_dataset
from rpd.devices import describe, select_device
from rpd.diffusion import DiffusionSpec, sample, sample_prior, training_loss
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import num_extra_inputs
from rpd.io import load_npz, save_json, save_npz
from rpd.layout import sample_file
from rpd.logs import say
from rpd.nets.mlp import DenoiserMLP, count_parameters
from rpd.priors import build_prior
from rpd.schedule import make_training_scheduler
from rpd.training import Checkpoint, Progress, TrainConfig, fit


def make_dataset(spec: dict, n_eval: int, train_path: str, reference_path: str) -> None:
    """Training set from ``data_seed`` and a held-out reference set of size N from ``data_seed + 1``."""
    args = dict(shape=spec["shape"], grid=spec["grid"], scale=spec["scale"], jitter=spec["jitter"])
    save_npz(train_path, x=make_grid_dataset(n=spec["n_train"], seed=spec["data_seed"], **args))
    save_npz(reference_path, x=make_grid_dataset(n=n_eval, seed=spec["data_seed"] + 1, **args))


def _data_dim(dataset: dict) -> int:
    return 2


def build_prior_for(run: dict) -> nn.Module:
    return build_prior(run["prior"], run["network"], _data_dim(run["dataset"]))


def build_denoiser(run: dict) -> nn.Module:
    model = run["model"]
    return DenoiserMLP(
        _data_dim(run["dataset"]), num_extra_inputs(model["family"], model["aux"]), **run["network"]
    )


def load_prior(path: str | Path) -> nn.Module:
    """A frozen prior from its model file."""
    state = load_state(path)
    prior = build_prior_for(state["run_config"])
    prior.load_state_dict(state["state_dict"])
    prior.eval().requires_grad_(False)
    return prior


def _label(run: dict) -> str:
    name = run["prior"]["name"] if run["kind"] == "prior" else run["model"]["name"]
    return f"{run['dataset']['name']}/{name}-{run['size']}/seed{run['seed']}"


def _write_training_outputs(
    run: dict, module: nn.Module, history, seconds: float, run_dir: str | Path, device: str = "cpu"
) -> None:
    """The run folder's training files: model.pt, config.json (resolved config), losses.npz, train_summary.json."""
    run_dir = Path(run_dir)
    save_json(run_dir / "config.json", run)
    save_npz(run_dir / "losses.npz", step=np.array([s for s, _ in history]), loss=np.array([v for _, v in history]))
    save_json(run_dir / "train_summary.json",
              {"parameters": count_parameters(module), "train_seconds": seconds, "device": device})
    save_model(run_dir / "model.pt", module, run)  # last: its presence marks a finished training


def _checkpoint(run: dict, run_dir: str | Path, cfg: TrainConfig) -> Checkpoint:
    """The run's resumable training state; tied to the run config's hash so another config never resumes it."""
    return Checkpoint(Path(run_dir) / "checkpoint.pt", cfg.checkpoint_every, config_hash(run))


def train_prior_run(run: dict, train_path: str | Path, run_dir: str | Path) -> None:
    """Stage 1: train a prior, then fit its latent distribution p̂(z) on the training set."""
    torch.set_num_threads(run["threads"])
    torch.manual_seed(run["seed"])
    device = select_device(run["device"])
    data = torch.from_numpy(load_npz(train_path)["x"])
    prior = build_prior_for(run)
    if hasattr(prior, "init_codebook"):
        prior.init_codebook(data[torch.randperm(len(data))[:4096]])
    cfg = TrainConfig.from_dict(run["training"])
    # Dead VQ codes are restarted every 100 steps, except after the last step (the decoder gets no update).
    restart = getattr(prior, "restart_dead_codes", None)

    def every_100(batch: torch.Tensor, step: int) -> None:
        if restart is not None and step < cfg.steps:
            restart(batch)

    start = time.perf_counter()
    checkpoint = _checkpoint(run, run_dir, cfg)
    history = fit(prior, lambda b: prior.loss(b)[0], data, cfg, Progress(_label(run), cfg.steps),
                  torch.Generator().manual_seed(run["seed"]), every_100, checkpoint, device)
    prior.fit_latent_prior(data)
    _write_training_outputs(run, prior, history, time.perf_counter() - start, run_dir, describe(device))
    checkpoint.discard()


def train_model_run(
    run: dict, train_path: str | Path, prior_path: str | Path | None, run_dir: str | Path
) -> None:
    """Stage 2: train the denoiser of an RPD / DDPM / DiffuseVAE run on a frozen prior."""
    torch.set_num_threads(run["threads"])
    torch.manual_seed(run["seed"])
    device = select_device(run["device"])
    data = torch.from_numpy(load_npz(train_path)["x"])
    spec = DiffusionSpec.from_run_config(run)
    prior = load_prior(prior_path).to(device) if spec.family in FAMILIES_WITH_PRIOR else None
    net = build_denoiser(run)
    scheduler = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    cfg = TrainConfig.from_dict(run["training"])
    start = time.perf_counter()
    checkpoint = _checkpoint(run, run_dir, cfg)
    history = fit(net, lambda b: training_loss(spec, net, prior, b, scheduler), data, cfg,
                  Progress(_label(run), cfg.steps), torch.Generator().manual_seed(run["seed"]),
                  checkpoint=checkpoint, device=device)
    _write_training_outputs(run, net, history, time.perf_counter() - start, run_dir, describe(device))
    checkpoint.discard()


def sample_model_run(run: dict, run_dir: str | Path, prior_path: str | Path | None) -> None:
    """Draw N samples for every (sampler, K) of the run into ``samples/``; each file holds ``x`` and ``seconds``."""
    torch.set_num_threads(run["threads"])
    state = load_state(Path(run_dir) / "model.pt")
    net = build_denoiser(run)
    net.load_state_dict(state["state_dict"])
    spec = DiffusionSpec.from_run_config(run)
    prior = load_prior(prior_path) if spec.family in FAMILIES_WITH_PRIOR else None
    for sampler, steps in run["sampling"]:
        start = time.perf_counter()
        x = sample(spec, net, prior, run["n_eval"], _data_dim(run["dataset"]), sampler, steps,
                   seed=run["seed"], batch_size=run["sample_batch_size"])
        save_npz(sample_file(run_dir, sampler, steps), x=x, seconds=np.array(time.perf_counter() - start))
        say(f"[{_label(run)}] sampled {sampler} K={steps} in {time.perf_counter() - start:.1f}s")


def sample_prior_run(run: dict, run_dir: str | Path) -> None:
    """The prior model's own samples (sampler ``prior``, K = 0: no denoising step)."""
    torch.set_num_threads(run["threads"])
    prior = load_prior(Path(run_dir) / "model.pt")
    start = time.perf_counter()
    x = sample_prior(prior, run["n_eval"], seed=run["seed"], batch_size=run["sample_batch_size"])
    save_npz(sample_file(run_dir, "prior", 0), x=x, seconds=np.array(time.perf_counter() - start))
