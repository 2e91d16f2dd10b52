"""The run folder contract (SPEC §6), in one place.

``results/<suite>/<dataset>/{train,reference}.npz`` (``x``: N×d floats, or uint8 N×C×H×W images; ``y``:
classes of class-conditional data), ``results/<suite>/<dataset>/feature-net/`` (the KID feature net of an
image dataset) and, per run, ``results/<suite>/<dataset>/<model>-<size>/seed<k>/`` holding ``config.json``
(resolved config), ``model.pt``, ``losses.npz`` (step, loss), ``train_summary.json`` (parameters,
train_seconds), ``train.log``. Priors are runs too, with sampler ``prior`` and K = 0.
A diffusion run also keeps ``snapshots.pt`` (its EMA weights at a few training iterations, the last being the
final model).
The run folders of one (dataset, name, size) sit in its run set's folder ``<model>-<size>/`` (rpd.runsets), which
holds the files of the jobs that process every seed at once: ``samples/seed<k>/<sampler>-K<K>.npz`` (``x`` as
the data, ``y`` for conditional data, ``seconds``; a prior's training job writes its seed's folder, a diffusion
run set's sampling job the whole ``samples/``), ``metrics.csv`` (every seed's metrics),
``progress.csv`` for a run of E4 (the metric of each snapshot: rows with sampler ``progress`` and K = the
training iteration) and ``elbo.csv`` for a run of E8, each with its log and benchmark file.
"""

from __future__ import annotations

from pathlib import Path

#: EMA snapshots every diffusion training run keeps in ``snapshots.pt`` (the last is the final model): E4
#: scores each (rpd.progress).
SNAPSHOTS_PER_RUN = 6


def samples_dir(run_dir: str | Path) -> Path:
    """The folder of a run's sample files: ``samples/seed<k>/`` in its run set's folder, beside the run folder
    ``seed<k>/`` (a diffusion run set's samples are one job's output, which a run folder cannot hold)."""
    run_dir = Path(run_dir)
    return run_dir.parent / "samples" / run_dir.name


def sample_file(run_dir: str | Path, sampler: str, steps: int) -> Path:
    """Where the samples of one (sampler, K) pair of a run live."""
    return samples_dir(run_dir) / f"{sampler}-K{steps}.npz"


def reference_file(results: str | Path, dataset: str) -> Path:
    """A dataset's held-out reference set in a suite's results folder."""
    return Path(results) / dataset / "reference.npz"


def snapshots_file(run_dir: str | Path) -> Path:
    """The EMA weights a diffusion run kept during training ({iteration: state dict})."""
    return Path(run_dir) / "snapshots.pt"

