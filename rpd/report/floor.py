"""The data's own floor on 2D grids (SPEC §4): the metrics between independent draws of the true distribution.

A model cannot score below what a second sample of the data itself scores against the reference set at the same
N: RW-1WD and 1WD of an empirical set are positive even when it is drawn from the true distribution. The floor
is computed here, in the report, from the dataset's spec (the generator is cheap and deterministic): several
fresh draws of N points, each scored against the held-out reference set exactly as evaluation scores a model
(:func:`rpd.evaluate.grid_metrics`). Rows look like metric rows: model :data:`FLOOR_MODEL`, family
``reference``, sampler ``floor``, one "seed" per draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.data.grid import make_grid_dataset

FLOOR_MODEL = "data floor"
#: Independent draws of the data; their spread gives the floor's interval like seeds give a model's.
FLOOR_DRAWS = 3
#: Draw i uses data_seed + FLOOR_SEED_OFFSET + i: disjoint from the training (data_seed) and reference
#: (data_seed + 1) draws of the dataset job.
FLOOR_SEED_OFFSET = 100
FLOOR_METRICS = ("rw1wd", "1wd", "mass_error")


def grid_floor(name: str, spec: dict, reference: np.ndarray, draws: int = FLOOR_DRAWS) -> pd.DataFrame:
    """Per draw: RW-1WD, 1WD and mass error of a fresh draw of N = len(reference) points against the reference."""
    from rpd.evaluate import grid_metrics  # POT, only when a report has 2D data

    rows = []
    for i in range(draws):
        x = make_grid_dataset(spec["shape"], spec["grid"], spec["scale"], spec["jitter"], len(reference),
                              seed=int(spec["data_seed"]) + FLOOR_SEED_OFFSET + i)
        values = grid_metrics(x, reference, spec)
        rows += [{"dataset": name, "model": FLOOR_MODEL, "family": "reference", "size": "—", "seed": i,
                  "sampler": "floor", "steps": 0, "metric": m, "value": float(values[m]), "n": len(reference)}
                 for m in FLOOR_METRICS]
    return pd.DataFrame(rows)


def floor_rows(config: dict, reference_of, datasets: list[str]) -> pd.DataFrame:
    """The floor rows of the 2D grid datasets among ``datasets`` (``reference_of(name)``: its reference arrays)."""
    parts = []
    for name in datasets:
        spec = config["datasets"][name]
        ref = reference_of(name) if spec.get("kind", "grid") == "grid" else None
        if ref is not None:
            parts.append(grid_floor(name, spec, np.asarray(ref["x"], dtype=float)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def floor_series(floor: pd.DataFrame, line_rows: pd.DataFrame, metric: str, x: str) -> pd.DataFrame:
    """Reference-line rows for :func:`rpd.report.figures.metric_lines`: the floor's mean and t-interval at every
    x of every panel of ``line_rows`` (x = K: a flat line; x = scale: the floor of each dataset at its scale)."""
    from rpd.report.stats import t_interval

    if floor.empty or line_rows.empty:
        return line_rows.iloc[:0]
    f = floor[floor["metric"] == metric]
    stats = {d: t_interval(g["value"]) for d, g in f.groupby("dataset")}
    out = []
    for (panel, dataset), g in line_rows.groupby(["panel", "dataset"], sort=False):
        if dataset not in stats:
            continue
        mean, _, _, lo, hi = stats[dataset]
        for xv in sorted(g[x].unique()):
            out.append({"panel": panel, "line": f"{FLOOR_MODEL} (independent draw of the data)", "model": FLOOR_MODEL,
                        "family": "reference", "dataset": dataset, x: xv, "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(out)
