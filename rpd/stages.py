"""What each pipeline job does: make data, train a prior, train a denoiser, draw samples.

Each function takes the run's resolved config (``rpd.runs.run_config``) and file paths, so it runs the
same under Snakemake or by hand. Image-only modules (the UNet, the convolutional prior, the image loaders)
are imported where an image run needs them: every job is a fresh process, and 2D jobs skip their imports.
Evaluation lives in :mod:`rpd.evaluate` (no torch import there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from rpd.checkpoint import load_state, save_model
from rpd.config import config_hash, training_key
from rpd.data.build import make_dataset  # noqa: F401  (the dataset job imports rpd.data.build: no torch)
from rpd.data.specs import data_shape, is_image_dataset, num_classes
from rpd.devices import describe, precision_of, select_device
from rpd.diffusion import DiffusionSpec, denoiser_training, sample, sample_labels, sample_prior
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import num_extra_inputs
from rpd.io import load_npz, save_json, save_npz, write_atomic
from rpd.layout import SNAPSHOTS_PER_RUN, checkpoint_file, sample_file, snapshots_file
from rpd.logs import say
from rpd.nets.mlp import DenoiserMLP, count_parameters
from rpd.priors import build_prior
from rpd.provenance import training_record
from rpd.training import Checkpoint, Progress, Snapshots, TrainConfig, discard_checkpoint, fit, snapshot_steps


# Images live in [0, 1] (uint8 on disk); models see them in [−1, 1], the usual range for image diffusion.
def images_to_model(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x).float() / 127.5 - 1


def model_to_images(x: np.ndarray) -> np.ndarray:
    """Model-space samples to uint8 images: clamped to [0, 1] and quantised, as a saved image would be."""
    if not np.isfinite(x).all():  # quantising would silently turn NaN into black pixels
        raise ValueError(f"samples contain {int((~np.isfinite(x)).sum())} non-finite values; refusing to save them")
    return np.round(np.clip((x + 1) / 2, 0, 1) * 255).astype(np.uint8)


def load_training_data(path: str | Path, dataset: dict) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The training set in model space: a tensor, or (images, labels) for class-conditional data."""
    arrays = load_npz(path)
    if not is_image_dataset(dataset):
        return torch.from_numpy(arrays["x"])
    x = images_to_model(arrays["x"])
    return (x, torch.from_numpy(arrays["y"])) if num_classes(dataset) else x


def _split(batch) -> tuple[torch.Tensor, torch.Tensor | None]:
    return batch if isinstance(batch, tuple) else (batch, None)


def build_prior_for(run: dict) -> nn.Module:
    dataset = run["dataset"]
    if is_image_dataset(dataset):
        from rpd.priors.conv import ConvBetaVAE

        spec = run["prior"]
        return ConvBetaVAE(data_shape(dataset), spec["latent_dim"], run["network"]["channels"], spec["beta"],
                           spec["sigma_floor"], num_classes(dataset))
    return build_prior(run["prior"], run["network"], data_shape(dataset)[0])


def build_denoiser(run: dict) -> nn.Module:
    model, dataset = run["model"], run["dataset"]
    extra = num_extra_inputs(model["family"], model["aux"])
    if is_image_dataset(dataset):
        from rpd.nets.unet import DenoiserUNet  # diffusers' UNet2DModel: seconds of imports a 2D job skips

        return DenoiserUNet(data_shape(dataset), extra, num_classes=num_classes(dataset), **run["network"])
    return DenoiserMLP(data_shape(dataset)[0], extra, **run["network"])


def load_prior(path: str | Path) -> nn.Module:
    """A frozen prior from its model file."""
    state = load_state(path)
    prior = build_prior_for(state["run_config"])
    prior.load_state_dict(state["state_dict"])
    prior.eval().requires_grad_(False)
    return prior


def _save_samples(run: dict, sampler: str, steps: int, run_dir: str | Path, x: np.ndarray, seconds: float) -> None:
    """One samples file: ``x`` (2D: float N×2; images: uint8 N×C×H×W), ``y`` (classes, if any), ``seconds``."""
    dataset = run["dataset"]
    arrays = {"x": x, "seconds": np.array(seconds)}
    if is_image_dataset(dataset):
        from rpd.evaluate import IMAGE_RANGE, out_of_range_share  # numpy only

        arrays["out_of_range"] = np.array(out_of_range_share(x, *IMAGE_RANGE))  # lost once clamped to uint8
        arrays["x"] = model_to_images(x)
        labels = sample_labels(len(x), num_classes(dataset))
        if labels is not None:
            arrays["y"] = labels
    save_npz(sample_file(run_dir, sampler, steps), **arrays)


def _label(run: dict) -> str:
    name = run["prior"]["name"] if run["kind"] == "prior" else run["model"]["name"]
    return f"{run['dataset']['name']}/{name}-{run['size']}/seed{run['seed']}"


def _write_training_outputs(
    run: dict, module: nn.Module, history, seconds: float, run_dir: str | Path, device: str = "cpu"
) -> None:
    """The run folder's training files: model.pt, config.json (resolved config), losses.npz, train_summary.json.

    ``seconds`` counts every process that trained the model (a resumed run adds the earlier ones'); commit,
    package versions and device are recorded here, at training time, in the summary and in the model file.
    """
    run_dir = Path(run_dir)
    record = training_record(device)
    save_json(run_dir / "config.json", run)
    save_npz(run_dir / "losses.npz", step=np.array([s for s, _ in history]), loss=np.array([v for _, v in history]))
    save_json(run_dir / "train_summary.json",
              {"parameters": count_parameters(module), "train_seconds": seconds, **record})
    save_model(run_dir / "model.pt", module, run, record)  # last: its presence marks a finished training


def _checkpoint(run: dict, run_dir: str | Path, cfg: TrainConfig) -> Checkpoint:
    """The run's resumable training state; tied to the run config's hash so another config never resumes it."""
    return Checkpoint(checkpoint_file(run_dir), cfg.checkpoint_every, config_hash(run))


def fit_prior(prior: nn.Module, loss_fn: Callable[[torch.Tensor], torch.Tensor], data, x_all: torch.Tensor,
              cfg: TrainConfig, progress: Progress, seed: int, y_all: torch.Tensor | None = None,
              **fit_options) -> list[tuple[int, float]]:
    """Train a prior (a VQ-VAE's codebook started by k-means on the data), then fit p̂(z) on ``x_all``
    (p̂(z|y) on ``x_all`` and its labels ``y_all`` for class-conditional data).

    ``fit_options``: :func:`rpd.training.fit`'s checkpoint, device and precision.
    """
    if hasattr(prior, "init_codebook"):
        prior.init_codebook(x_all[torch.randperm(len(x_all))[:4096]])
    # Dead VQ codes are restarted every 100 steps, except after the last step (the decoder gets no update).
    restart = getattr(prior, "restart_dead_codes", None)

    def every_100(batch: torch.Tensor, step: int) -> None:
        if restart is not None and step < cfg.steps:
            restart(batch)

    history = fit(prior, loss_fn, data, cfg, progress, torch.Generator().manual_seed(seed), every_100, **fit_options)
    prior.fit_latent_prior(x_all, y_all)
    return history


def train_prior_run(run: dict, train_path: str | Path, run_dir: str | Path, keep_checkpoint: bool = False) -> None:
    """Stage 1: train a prior, then fit its latent distribution p̂(z) on the training set (``keep_checkpoint``:
    see :func:`train_prior_runs`)."""
    torch.set_num_threads(run["threads"])
    torch.manual_seed(run["seed"])
    device = select_device(run["device"])
    data = load_training_data(train_path, run["dataset"])
    x_all, y_all = _split(data)
    prior = build_prior_for(run)
    cfg = TrainConfig.from_dict(run["training"], source=training_key(run))
    progress = Progress(_label(run), cfg.steps)
    checkpoint = _checkpoint(run, run_dir, cfg)
    history = fit_prior(prior, lambda b: prior.loss(*_split(b))[0], data, x_all, cfg, progress, run["seed"], y_all,
                        checkpoint=checkpoint, device=device, precision=precision_of(run))
    _write_training_outputs(run, prior, history, progress.seconds(), run_dir, describe(device))
    if not keep_checkpoint:
        checkpoint.discard()


def train_model_run(
    run: dict, train_path: str | Path, prior_path: str | Path | None, run_dir: str | Path, keep_checkpoint: bool = False
) -> None:
    """Stage 2: train the denoiser of an RPD / DDPM / DiffuseVAE run on a frozen prior (``keep_checkpoint``: see
    :func:`train_prior_runs`)."""
    torch.set_num_threads(run["threads"])
    torch.manual_seed(run["seed"])
    device = select_device(run["device"])
    data = load_training_data(train_path, run["dataset"])
    spec = DiffusionSpec.from_run_config(run)
    prior = load_prior(prior_path).to(device) if spec.family in FAMILIES_WITH_PRIOR else None
    net = build_denoiser(run)
    cfg = TrainConfig.from_dict(run["training"], source=training_key(run))
    progress = Progress(_label(run), cfg.steps)
    loss, data = denoiser_training(spec, net, prior, data, cfg.steps * cfg.batch_size)
    checkpoint = _checkpoint(run, run_dir, cfg)
    snapshots = Snapshots(snapshot_steps(cfg.steps, SNAPSHOTS_PER_RUN))
    history = fit(net, loss, data, cfg, progress, torch.Generator().manual_seed(run["seed"]),
                  checkpoint=checkpoint, device=device, precision=precision_of(run), snapshots=snapshots)
    write_atomic(snapshots_file(run_dir), lambda p: torch.save(snapshots.states, p))
    _write_training_outputs(run, net, history, progress.seconds(), run_dir, describe(device))
    if not keep_checkpoint:
        checkpoint.discard()


def train_prior_runs(runs: list[dict], train_path: str | Path, run_dirs: list[str | Path]) -> None:
    """:func:`train_prior_run`, then :func:`sample_prior_run`, for every seed of a run set, one after the other
    in this process.

    Each seed's checkpoint (written after its last step too) stays until every seed is trained: Snakemake
    deletes the whole ``train/`` before it reruns a killed job, and the rerun resumes each finished seed at its
    end and the interrupted one where it stopped, instead of training them again.
    """
    for run, run_dir in zip(runs, run_dirs, strict=True):
        train_prior_run(run, train_path, run_dir, keep_checkpoint=True)
        sample_prior_run(run, run_dir)
    _discard_checkpoints(run_dirs)


def train_model_runs(runs: list[dict], train_path: str | Path, prior_paths: list[str | Path | None],
                     run_dirs: list[str | Path]) -> None:
    """:func:`train_model_run` for every seed of a run set, one after the other in this process; checkpoints as
    in :func:`train_prior_runs`."""
    for run, prior_path, run_dir in zip(runs, prior_paths, run_dirs, strict=True):
        train_model_run(run, train_path, prior_path, run_dir, keep_checkpoint=True)
    _discard_checkpoints(run_dirs)


def _discard_checkpoints(run_dirs: list[str | Path]) -> None:
    for run_dir in run_dirs:
        discard_checkpoint(checkpoint_file(run_dir))


def sample_model_run(run: dict, run_dir: str | Path, prior_path: str | Path | None) -> None:
    """Draw N samples for every (sampler, K) of the run into its samples folder (:func:`rpd.layout.samples_dir`;
    see :func:`_save_samples`)."""
    torch.set_num_threads(run["threads"])
    device = select_device(run["device"])
    state = load_state(Path(run_dir) / "model.pt")
    net = build_denoiser(run)
    net.load_state_dict(state["state_dict"])
    net.to(device)
    spec = DiffusionSpec.from_run_config(run)
    prior = load_prior(prior_path) if spec.family in FAMILIES_WITH_PRIOR else None
    dataset = run["dataset"]
    say(f"[{_label(run)}] sampling on {describe(device)} in {precision_of(run)}")
    for sampler, steps in run["sampling"]:
        start = time.perf_counter()
        x = sample(spec, net, prior, run["n_eval"], data_shape(dataset), sampler, steps, seed=run["seed"],
                   batch_size=run["sample_batch_size"], num_classes=num_classes(dataset), device=device,
                   precision=precision_of(run))
        _save_samples(run, sampler, steps, run_dir, x, time.perf_counter() - start)
        say(f"[{_label(run)}] sampled {sampler} K={steps} in {time.perf_counter() - start:.1f}s")


def sample_model_runs(runs: list[dict], run_dirs: list[str | Path], prior_paths: list[str | Path | None]) -> None:
    """:func:`sample_model_run` for every seed of a run set, one after the other in this process."""
    for run, run_dir, prior_path in zip(runs, run_dirs, prior_paths, strict=True):
        sample_model_run(run, run_dir, prior_path)


def sample_prior_run(run: dict, run_dir: str | Path) -> None:
    """The prior model's own samples (sampler ``prior``, K = 0: no denoising step)."""
    torch.set_num_threads(run["threads"])
    prior = load_prior(Path(run_dir) / "model.pt")
    start = time.perf_counter()
    x = sample_prior(prior, run["n_eval"], seed=run["seed"], batch_size=run["sample_batch_size"],
                     num_classes=num_classes(run["dataset"]))
    _save_samples(run, "prior", 0, run_dir, x, time.perf_counter() - start)


def train_feature_net_run(dataset: dict, kid_cfg: dict, train_path: str | Path, reference_path: str | Path,
                          out_dir: str | Path, threads: int = 1, device: str = "cpu") -> None:
    """The KID feature net of an image dataset (:mod:`rpd.metrics.kid`): ``model.pt`` and ``summary.json``."""
    from rpd.metrics.kid import save_feature_net, train_feature_net

    torch.set_num_threads(threads)
    device = select_device(device)
    train, reference = load_npz(train_path), load_npz(reference_path)
    net, summary = train_feature_net(train["x"], train.get("y"), reference["x"], reference.get("y"),
                                     kid_cfg["feature_net_steps"], seed=dataset["data_seed"], device=device)
    # fmnist's reference is its test split; butterflies' is held out from the folder (rpd.data.images)
    source = "test split" if dataset["kind"] == "fmnist" else "not in the training set"
    summary["accuracy_on"] = f"{len(reference['x'])} reference images (held out: {source})"
    say(f"[{dataset['name']}/feature-net] {summary['task']}: accuracy {summary['accuracy']:.3f} on {summary['accuracy_on']}")
    save_json(Path(out_dir) / "summary.json", summary)
    save_feature_net(Path(out_dir) / "model.pt", net, summary)
