"""The data floor (SPEC §4): independent draws of the true distribution scored against the reference set."""

from __future__ import annotations

import numpy as np

from rpd.data.grid import make_grid_dataset
from rpd.evaluate import grid_metrics
from rpd.report.floor import FLOOR_DRAWS, FLOOR_MODEL, grid_floor

SPEC = {"kind": "grid", "shape": "dino", "grid": 4, "scale": 0.1, "jitter": 0.02, "data_seed": 2024}


def test_the_floor_of_dino_grid_at_n_500_is_about_an_eighth() -> None:
    reference = make_grid_dataset("dino", 4, 0.1, 0.02, 500, seed=2025).astype(float)
    floor = grid_floor("dino-grid-0.1", SPEC, reference)
    rw = floor[floor["metric"] == "rw1wd"]
    assert len(rw) == FLOOR_DRAWS and rw["seed"].nunique() == FLOOR_DRAWS and (floor["model"] == FLOOR_MODEL).all()
    assert rw["value"].nunique() == FLOOR_DRAWS  # independent draws, not one draw repeated
    assert 0.09 < rw["value"].mean() < 0.16  # SPEC §4: about 0.125
    # a blurred copy of the data (what a model that misses the local shape draws) scores well above the floor
    blurred = make_grid_dataset("dino", 4, 0.1, 0.02, 500, seed=7) + np.random.default_rng(0).normal(0, 0.03, (500, 2))
    assert grid_metrics(blurred, reference, SPEC)["rw1wd"] > 1.5 * rw["value"].max()
