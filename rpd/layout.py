"""The run folder contract (SPEC §6), in one place.

``results/<suite>/<dataset>/{train,reference}.npz`` (``x``: N×d floats, or uint8 N×C×H×W images; ``y``:
classes of class-conditional data), ``results/<suite>/<dataset>/feature-net/`` (the KID feature net of an
image dataset) and, per (dataset, name, size), a run set's folder ``results/<suite>/<dataset>/<model>-<size>/``
(rpd.runsets). Every job of a run set processes all its seeds in one process, so each stage has one folder or
file in it:

- ``train/seed<k>/``, the run folder of seed k (:func:`run_folder`): ``config.json`` (resolved config),
  ``model.pt``, ``losses.npz`` (step, loss), ``train_summary.json`` (parameters, train_seconds); a diffusion
  run also keeps ``snapshots.pt`` (its EMA weights at a few training iterations, the last being the final
  model). ``train/`` is the training job's output (log ``train.log``, benchmark ``train.benchmark.tsv``).
  Priors are runs too, with sampler ``prior`` and K = 0.
- ``checkpoints/seed<k>.pt``: a training in progress (:func:`checkpoint_file`; outside ``train/``, which
  Snakemake deletes before it reruns a killed job, so that the rerun resumes).
- ``samples/seed<k>/<sampler>-K<K>.npz`` (``x`` as the data, ``y`` for conditional data, ``seconds``): a
  prior's training job writes the whole ``samples/``, a diffusion run set's sampling job likewise.
- ``metrics.csv`` (every seed's metrics), ``progress.csv`` for a run of E4 (the metric of each snapshot: rows
  with sampler ``progress`` and K = the training iteration) and ``elbo.csv`` for a run of E8, each with its log
  and benchmark file.
"""

from __future__ import annotations

from pathlib import Path

#: EMA snapshots every diffusion training run keeps in ``snapshots.pt`` (the last is the final model): E4
#: scores each (rpd.progress).
SNAPSHOTS_PER_RUN = 6


#: The folder of a run set holding its run folders (the training job's output).
TRAIN_FOLDER = "train"


def train_folder(run_set_folder: str | Path) -> str:
    """A run set's ``train/``: its training job's directory output, holding the run folders."""
    return f"{run_set_folder}/{TRAIN_FOLDER}"


def run_folder(run_set_folder: str | Path, seed: int) -> str:
    """The run folder of seed ``seed`` in a run set's folder."""
    return f"{train_folder(run_set_folder)}/seed{seed}"


def samples_dir(run_dir: str | Path) -> Path:
    """The folder of a run's sample files: ``samples/seed<k>/`` in its run set's folder, beside ``train/``."""
    run_dir = Path(run_dir)
    return run_dir.parent.parent / "samples" / run_dir.name


def checkpoint_file(run_dir: str | Path) -> Path:
    """Where a run's training keeps its resumable state: ``checkpoints/seed<k>.pt`` in its run set's folder."""
    run_dir = Path(run_dir)
    return run_dir.parent.parent / "checkpoints" / f"{run_dir.name}.pt"


def sample_file(run_dir: str | Path, sampler: str, steps: int) -> Path:
    """Where the samples of one (sampler, K) pair of a run live."""
    return samples_dir(run_dir) / f"{sampler}-K{steps}.npz"


def reference_file(results: str | Path, dataset: str) -> Path:
    """A dataset's held-out reference set in a suite's results folder."""
    return Path(results) / dataset / "reference.npz"


def snapshots_file(run_dir: str | Path) -> Path:
    """The EMA weights a diffusion run kept during training ({iteration: state dict})."""
    return Path(run_dir) / "snapshots.pt"

