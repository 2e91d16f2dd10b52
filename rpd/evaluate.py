"""Metrics of one run's samples against the dataset's reference set, as tidy rows with provenance (SPEC §4, §6).

No torch import here: evaluation jobs stay fast to start.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from rpd.config import config_hash
from rpd.data.grid import grid_centres
from rpd.io import load_json, load_npz, write_atomic
from rpd.layout import sample_file
from rpd.metrics.wasserstein import region_w1, w1
from rpd.provenance import git_commit, package_versions

METRIC_COLUMNS = ["suite", "dataset", "model", "family", "size", "seed", "sampler", "steps", "metric", "value"]
PROVENANCE_COLUMNS = ["n", "parameters", "commit", "config_hash", "versions", "device", "train_seconds",
                      "sample_seconds", "eval_seconds"]


def sample_pairs(run: dict) -> list[tuple[str, int]]:
    """The (sampler, K) pairs a run has samples for."""
    return [("prior", 0)] if run["kind"] == "prior" else [(s, int(k)) for s, k in run["sampling"]]


def grid_metrics(x: np.ndarray, reference: np.ndarray, dataset: dict) -> dict[str, float]:
    """1WD on coordinates, RW-1WD in units of the local shape, and the region mass error."""
    if not np.isfinite(x).all():
        raise ValueError(f"samples contain {int((~np.isfinite(x)).sum())} non-finite values; refusing to score them")
    regional = region_w1(x, reference, grid_centres(dataset["grid"]), dataset["scale"])
    return {"1wd": w1(x, reference), "rw1wd": regional["rw1wd"], "mass_error": regional["mass_error"]}


def evaluate_run(run_dir: str | Path, reference_path: str | Path, out_csv: str | Path) -> pd.DataFrame:
    """Score every sample file of the run in ``run_dir``; write and return the tidy rows."""
    run_dir = Path(run_dir)
    run = load_json(run_dir / "config.json")
    summary = load_json(run_dir / "train_summary.json")
    reference = load_npz(reference_path)["x"]
    name = run["prior"]["name"] if run["kind"] == "prior" else run["model"]["name"]
    family = run["prior"]["kind"] if run["kind"] == "prior" else run["model"]["family"]
    base = {
        "suite": run["suite"], "dataset": run["dataset"]["name"], "model": name, "family": family,
        "size": run["size"], "seed": run["seed"], "n": len(reference), "parameters": summary["parameters"],
        "commit": git_commit(), "config_hash": config_hash(run), "versions": package_versions(),
        "device": summary.get("device", "cpu"), "train_seconds": summary["train_seconds"],
    }
    rows = []
    for sampler, steps in sample_pairs(run):
        samples = load_npz(sample_file(run_dir, sampler, steps))
        if len(samples["x"]) != len(reference):
            raise ValueError(f"{sampler}-K{steps}.npz has {len(samples['x'])} samples, reference has {len(reference)}")
        start = time.perf_counter()
        values = grid_metrics(samples["x"], reference, run["dataset"])
        seconds = time.perf_counter() - start
        for metric, value in values.items():
            rows.append({**base, "sampler": sampler, "steps": steps, "metric": metric, "value": value,
                         "sample_seconds": float(samples["seconds"]), "eval_seconds": seconds})
    frame = pd.DataFrame(rows, columns=METRIC_COLUMNS + PROVENANCE_COLUMNS)
    write_atomic(out_csv, lambda p: frame.to_csv(p, index=False))
    return frame


def collect(metric_files: list[str], out_csv: str | Path, summary_csv: str | Path) -> pd.DataFrame:
    """Concatenate per-run rows into ``metrics.csv`` and write mean ± sd over seeds to ``summary.csv``."""
    frame = pd.concat([pd.read_csv(f) for f in metric_files], ignore_index=True)
    write_atomic(out_csv, lambda p: frame.to_csv(p, index=False))
    keys = ["dataset", "model", "family", "size", "sampler", "steps", "metric"]
    summary = frame.groupby(keys, sort=True)["value"].agg(mean="mean", sd="std", seeds="count").reset_index()
    write_atomic(summary_csv, lambda p: summary.to_csv(p, index=False))
    return frame
