"""E4 (claim C4, paper Fig. 7): the metric against training iteration, from a run's EMA snapshots.

A diffusion training job keeps its EMA weights at :data:`rpd.layout.SNAPSHOTS_PER_RUN` evenly spaced iterations
(``snapshots.pt``); this job samples each snapshot and scores it against the reference set
with the same metric code as the final evaluation. Its rows have metrics.csv's columns with sampler
``progress`` and K (``steps``) = the training iteration; the (sampler, K) the snapshots are drawn with is
:data:`PROGRESS_SAMPLING`. KID is not computed here (one feature-net pass per snapshot, and its unbiased estimate
can be ≤ 0, which a log-ratio test cannot take): images are scored by 1WD and CW-1WD.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rpd.config import config_hash, modality
from rpd.data.specs import data_shape, is_image_dataset, num_classes
from rpd.evaluate import METRIC_COLUMNS, PROVENANCE_COLUMNS, check_reference, grid_metrics
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.io import load_json, load_npz, save_csv
from rpd.layout import snapshots_file
from rpd.logs import say
from rpd.provenance import git_commit, package_versions

# torch and the model code are imported in the functions that run networks: the report reads this module's
# constants without them.

#: The rows' sampler name; their ``steps`` column holds the training iteration of the snapshot.
PROGRESS_SAMPLER = "progress"
#: (sampler, K) each snapshot is drawn with, per modality. Ancestral sampling: an under-trained ε-model
#: drawn with deterministic DDIM can drift out of the data range (SPEC §2), which would score the sampler.
PROGRESS_SAMPLING = {"points": ("ddpm", 100), "images": ("ddpm", 10)}


def snapshot_metrics(x: np.ndarray, reference: dict, dataset: dict) -> dict[str, float]:
    """The metrics of one snapshot's samples (model space): 2D as in evaluation; images 1WD and CW-1WD."""
    if not np.isfinite(x).all():  # decided against the side that produced it (SPEC §7), never dropped
        names = ("1wd", "cw1wd") if is_image_dataset(dataset) else ("1wd", "rw1wd", "mass_error")
        return dict.fromkeys(names, float("inf"))
    if not is_image_dataset(dataset):
        return grid_metrics(x, reference["x"], dataset)
    from rpd.diffusion import sample_labels
    from rpd.metrics.images import classwise_w1, image_w1
    from rpd.stages import model_to_images

    images = model_to_images(x)
    values = {"1wd": image_w1(images, reference["x"])}
    labels = sample_labels(len(x), num_classes(dataset))
    if labels is not None:
        values["cw1wd"] = classwise_w1(images, labels, reference["x"], reference["y"])
    return values


def progress_runs(runs: Sequence[dict], run_dirs: Sequence[str | Path], reference_path: str | Path,
                  prior_paths: Sequence[str | Path | None], out_csv: str | Path) -> pd.DataFrame:
    """:func:`progress_run` of several runs (a run set's seeds, rpd.runsets): their rows in one CSV."""
    frame = pd.concat([progress_run(run, d, reference_path, prior, None)
                       for run, d, prior in zip(runs, run_dirs, prior_paths, strict=True)], ignore_index=True)
    save_csv(out_csv, frame)
    return frame


def progress_run(run: dict, run_dir: str | Path, reference_path: str | Path, prior_path: str | Path | None,
                 out_csv: str | Path | None) -> pd.DataFrame:
    """Sample and score every training snapshot of the run in ``run_dir``; write (unless ``out_csv`` is None)
    and return the tidy rows.

    ``run`` is the run's full config (N, sample batch size) as the workflow resolved it.
    """
    import torch

    from rpd.diffusion import DiffusionSpec, sample
    from rpd.stages import build_denoiser, load_prior

    run_dir = Path(run_dir)
    torch.set_num_threads(run["threads"])
    trained, summary = load_json(run_dir / "config.json"), load_json(run_dir / "train_summary.json")
    states = torch.load(snapshots_file(run_dir), map_location="cpu", weights_only=True)
    net, spec, dataset = build_denoiser(run), DiffusionSpec.from_run_config(run), run["dataset"]
    prior = load_prior(prior_path) if spec.family in FAMILIES_WITH_PRIOR else None
    reference = load_npz(reference_path)
    check_reference(reference["x"], reference_path)
    sampler, steps = PROGRESS_SAMPLING[modality(dataset)]
    base = {
        "suite": run["suite"], "dataset": dataset["name"], "model": run["model"]["name"], "family": spec.family,
        "size": run["size"], "seed": run["seed"], "sampler": PROGRESS_SAMPLER, "n": len(reference["x"]),
        "parameters": summary["parameters"], "commit": git_commit(), "config_hash": config_hash(trained),
        "versions": package_versions(), "device": "cpu", "train_seconds": summary["train_seconds"], "extractor": "",
    }
    rows = []
    for iteration in sorted(int(k) for k in states):
        net.load_state_dict(states[iteration])
        start = time.perf_counter()
        x = sample(spec, net, prior, run["n_eval"], data_shape(dataset), sampler, steps, seed=run["seed"],
                   batch_size=run["sample_batch_size"], num_classes=num_classes(dataset))
        sampled = time.perf_counter()
        values = snapshot_metrics(x, reference, dataset)
        for metric, value in values.items():
            rows.append({**base, "steps": iteration, "metric": metric, "value": value,
                         "sample_seconds": sampled - start, "eval_seconds": time.perf_counter() - sampled})
        say(f"[{dataset['name']}/{run['model']['name']}-{run['size']}/seed{run['seed']}] iteration {iteration}: "
            + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS + PROVENANCE_COLUMNS)
    if out_csv is not None:
        save_csv(out_csv, frame)
    return frame
