"""Metrics of one run's samples against the dataset's reference set, as tidy rows with provenance (SPEC §4, §6).

No torch import for 2D data (evaluation jobs stay fast to start); image runs import torch-fidelity for KID.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rpd.config import config_hash
from rpd.data.grid import grid_centres
from rpd.data.specs import is_image_dataset, num_classes
from rpd.io import load_json, load_npz, save_csv
from rpd.layout import sample_file
from rpd.provenance import training_provenance

METRIC_COLUMNS = ["suite", "dataset", "model", "family", "size", "seed", "sampler", "steps", "metric", "value"]
PROVENANCE_COLUMNS = ["n", "parameters", "commit", "config_hash", "versions", "device", "train_seconds",
                      "sample_seconds", "eval_seconds", "extractor"]


#: Sanity metrics (the report's sanity table; SPEC §7): whether a model's samples are fit to judge, not quality.
SANITY_METRICS = ("out_of_range", "class_accuracy", "class_accuracy_ratio")
#: The data range is widened by this share of its width on each side before a value counts as outside it.
#: The check is for divergence (the saturated samples of ±15–30 a broken sampler gives), not for the overshoot
#: of a model trained briefly at the edge where half of Fashion-MNIST's pixels sit: at 5% (0.1 on [−1, 1]), a
#: `quick` v-prediction DDPM whose samples the feature net classifies at 0.85× real accuracy had 8–11% of its
#: pixels outside, mostly background between −1.1 and −1.4, which quantising to uint8 clamps to black.
RANGE_MARGIN = 0.25
#: Images in model space (stages.images_to_model): the data range every raw image sample is checked against.
IMAGE_RANGE = (-1.0, 1.0)


def out_of_range_share(x: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float,
                       margin: float = RANGE_MARGIN) -> float:
    """Share of raw values (pixels, coordinates) outside [lo, hi] widened by ``margin`` of its width per side (0 of
    no value); ``lo`` and ``hi`` are floats or float arrays (one per coordinate)."""
    x = np.asarray(x)
    if not x.size:
        return 0.0
    pad = margin * (hi - lo)
    return float(((x < lo - pad) | (x > hi + pad)).mean())


class SampleError(ValueError):
    """A sample file cannot be scored (non-finite values, wrong shape, N different from the reference)."""


def check_samples(x: np.ndarray, reference: np.ndarray, path: str | Path) -> None:
    """Refuse samples that metrics would silently mis-score; the message names the file and the fix."""
    fix = "the model or sampler produced it; fix the cause, delete the samples folder and rerun"
    if x.shape[1:] != reference.shape[1:] or x.ndim != reference.ndim:
        raise SampleError(f"{path}: samples have shape {x.shape}, the reference set {reference.shape}; "
                          f"each sample must have shape {reference.shape[1:]}; {fix}")
    if len(x) != len(reference):
        raise SampleError(f"{path}: {len(x)} samples, but the reference set has N = {len(reference)}; "
                          f"metrics compare sets of equal size; {fix}")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum()) if np.issubdtype(x.dtype, np.number) else "all"
        raise SampleError(f"{path}: {bad} non-finite values (NaN or inf) among the samples; metrics on them "
                          f"are refused, not averaged; {fix}")


def check_reference(reference: np.ndarray, path: str | Path) -> None:
    """Refuse a reference set with non-finite values (every metric of the run would be meaningless)."""
    if not np.isfinite(reference).all():
        raise SampleError(f"{path}: the reference set has {int((~np.isfinite(reference)).sum())} non-finite values; "
                          f"delete it and rerun the workflow (the dataset job recreates it)")


def sample_pairs(run: dict) -> list[tuple[str, int]]:
    """The (sampler, K) pairs a run has samples for."""
    return [("prior", 0)] if run["kind"] == "prior" else [(s, int(k)) for s, k in run["sampling"]]


def import_metric_libraries(run: dict) -> None:
    """Import the libraries the run's metrics use: POT (2D and pixel 1WD), torch-fidelity and torch (images).

    The evaluate job calls this before its log opens, so that the logged job start-up counts these seconds of
    imports (the metric functions import them lazily so that the report and config code never pay for them).
    """
    import rpd.metrics.wasserstein  # noqa: F401

    if is_image_dataset(run["dataset"]):
        import rpd.metrics.images  # noqa: F401
        import rpd.metrics.kid  # noqa: F401


def grid_metrics(x: np.ndarray, reference: np.ndarray, dataset: dict) -> dict[str, float]:
    """1WD on coordinates, RW-1WD in units of the local shape, and the region mass error."""
    if not np.isfinite(x).all():
        raise ValueError(f"samples contain {int((~np.isfinite(x)).sum())} non-finite values; refusing to score them")
    from rpd.metrics.wasserstein import region_w1, w1  # POT (and scipy.stats) only in jobs that compute metrics

    regional = region_w1(x, reference, grid_centres(dataset["grid"]), dataset["scale"])
    # the data range of 2D data: the reference set's bounding box, per coordinate
    outside = out_of_range_share(x, reference.min(axis=0), reference.max(axis=0))
    return {"1wd": w1(x, reference), "rw1wd": regional["rw1wd"], "mass_error": regional["mass_error"],
            "out_of_range": outside}


def kid_extractor_label(kid_cfg: dict, feature_net_summary: dict | None) -> str:
    """How a KID row names its feature extractor, e.g. ``rpd-feature-net (classification, acc 0.874 on …)``."""
    if kid_cfg["extractor"] != "feature-net":
        return kid_cfg["extractor"]
    s = feature_net_summary
    return f"rpd-feature-net ({s['task']}, acc {s['accuracy']:.3f} on {s['accuracy_on']})"


def image_metrics(
    samples: dict, reference: dict, dataset: dict, kid_cfg: dict, feature_net: str | None, seed: int,
    device: object = "cpu",
) -> dict[str, float]:
    """1WD on pixels in [0, 1], CW-1WD for class-conditional data, and KID through torch-fidelity (its feature
    extractor on ``device``, a torch.device or name)."""
    from rpd.metrics.images import classwise_w1, image_w1
    from rpd.metrics.kid import kid  # torch-fidelity (and torch) only for image runs

    x, ref = samples["x"], reference["x"]
    if x.dtype != np.uint8 or x.shape[1:] != ref.shape[1:]:
        raise ValueError(f"samples are {x.dtype} {x.shape[1:]}, reference uint8 {ref.shape[1:]}")
    values = {"1wd": image_w1(x, ref)}
    if num_classes(dataset):
        values["cw1wd"] = classwise_w1(x, samples["y"], ref, reference["y"])
    weights = feature_net if kid_cfg["extractor"] == "feature-net" else kid_cfg["inception_weights"]
    values["kid"], _ = kid(x, ref, kid_cfg["extractor"], weights, kid_cfg["subset_size"], kid_cfg["subsets"], seed,
                           device)
    if "out_of_range" in samples:  # measured on the raw model-space values before quantising (rpd.stages)
        values["out_of_range"] = float(samples["out_of_range"])
    if num_classes(dataset) and kid_cfg["extractor"] == "feature-net" and feature_net is not None:
        values.update(sample_accuracy(feature_net, x, samples["y"], seed))
    return values


def sample_accuracy(feature_net: str, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """The feature net's accuracy on the samples (against the class each was drawn for) and its ratio to the
    net's accuracy on the real held-out images (its summary): a class-conditional model that ignores the class,
    or draws noise, scores far below the real images."""
    from rpd.metrics.kid import classifier_accuracy

    real = float(load_json(Path(feature_net).parent / "summary.json")["accuracy"])
    on_samples = classifier_accuracy(feature_net, x, y, seed)
    return {"class_accuracy": on_samples, "class_accuracy_ratio": on_samples / real if real > 0 else np.nan}


def evaluate_run(
    run_dir: str | Path, reference_path: str | Path, out_csv: str | Path | None, feature_net: str | Path | None = None,
    run: dict | None = None,
) -> pd.DataFrame:
    """Score every sample file of the run in ``run_dir``; write (unless ``out_csv`` is None) and return the rows.

    ``feature_net``: the trained KID feature net's model file (image runs with the ``feature-net`` extractor).
    ``run``: the run's full config (sampling grid, N, KID settings), as the workflow resolved it; by default the
    run folder's config.json. ``config_hash`` is always that of config.json: it names the trained model.
    """
    return evaluate_runs([run_dir], reference_path, out_csv, feature_net, [run])


def evaluate_runs(
    run_dirs: Sequence[str | Path], reference_path: str | Path, out_csv: str | Path | None,
    feature_net: str | Path | None = None, runs: Sequence[dict | None] | None = None,
) -> pd.DataFrame:
    """:func:`evaluate_run` of several runs (a run set's seeds, rpd.runsets): their rows in one CSV (a run None:
    its config.json)."""
    reference = load_npz(reference_path)
    check_reference(reference["x"], reference_path)
    runs = [None] * len(run_dirs) if runs is None else runs
    frames = [_score_run(Path(d), reference, feature_net, run) for d, run in zip(run_dirs, runs)]
    frame = pd.concat(frames, ignore_index=True)
    if out_csv is not None:
        save_csv(out_csv, frame)
    return frame


def _score_run(run_dir: Path, reference: dict, feature_net: str | Path | None, run: dict | None) -> pd.DataFrame:
    """The rows of one run (:func:`evaluate_run`), against the loaded reference set."""
    trained = load_json(run_dir / "config.json")
    run = trained if run is None else run
    summary = load_json(run_dir / "train_summary.json")
    images = is_image_dataset(run["dataset"])
    name = run["prior"]["name"] if run["kind"] == "prior" else run["model"]["name"]
    family = run["prior"]["kind"] if run["kind"] == "prior" else run["model"]["family"]
    base = {
        "suite": run["suite"], "dataset": run["dataset"]["name"], "model": name, "family": family,
        "size": run["size"], "seed": run["seed"], "n": len(reference["x"]), "parameters": summary["parameters"],
        **training_provenance(summary), "config_hash": config_hash(trained), "train_seconds": summary["train_seconds"],
    }
    extractor, device = "", None
    if images:  # KID's feature extractor is a network: it runs where the config's `device` says
        from rpd.devices import select_device

        net_summary = load_json(Path(feature_net).parent / "summary.json") if feature_net else None
        extractor = kid_extractor_label(run["kid"], net_summary)
        device = select_device(run["device"])
    rows = []
    for sampler, steps in sample_pairs(run):
        samples = load_npz(sample_file(run_dir, sampler, steps))
        check_samples(samples["x"], reference["x"], sample_file(run_dir, sampler, steps))
        start = time.perf_counter()
        if images:
            values = image_metrics(samples, reference, run["dataset"], run["kid"],
                                   None if feature_net is None else str(feature_net), run["seed"], device)
        else:
            values = grid_metrics(samples["x"], reference["x"], run["dataset"])
        seconds = time.perf_counter() - start
        for metric, value in values.items():
            rows.append({**base, "sampler": sampler, "steps": steps, "metric": metric, "value": value,
                         "sample_seconds": float(samples["seconds"]), "eval_seconds": seconds,
                         "extractor": extractor if metric == "kid" else ""})
    return pd.DataFrame(rows, columns=METRIC_COLUMNS + PROVENANCE_COLUMNS)


def collect(metric_files: list[str], out_csv: str | Path, summary_csv: str | Path) -> pd.DataFrame:
    """Concatenate per-run rows into ``metrics.csv`` and write mean ± sd over seeds to ``summary.csv``."""
    frame = pd.concat([pd.read_csv(f) for f in metric_files], ignore_index=True)
    save_csv(out_csv, frame)
    keys = ["dataset", "model", "family", "size", "sampler", "steps", "metric"]
    summary = frame.groupby(keys)["value"].agg(mean="mean", sd="std", seeds="count").reset_index()
    save_csv(summary_csv, summary)
    return frame
