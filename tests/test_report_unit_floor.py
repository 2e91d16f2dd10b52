"""rpd.report.floor on a small grid dataset: the data floor is the evaluation's metrics of fresh draws of the
data (seeds data_seed + 100 + i) against the reference set, and its reference line sits at every x of every
panel. No report is rendered (issue 18: `make mutation`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rpd.data.grid import make_grid_dataset
from rpd.evaluate import grid_metrics
from rpd.report import floor as FL
from rpd.report.stats import t_interval

SPEC = {"kind": "grid", "shape": "dino", "grid": 2, "scale": 0.2, "jitter": 0.02, "data_seed": 7}


def reference(n: int = 40) -> np.ndarray:
    return make_grid_dataset("dino", 2, 0.2, 0.02, n, seed=8).astype(float)


def test_grid_floor_scores_fresh_draws_as_evaluation_does() -> None:
    ref = reference()
    floor = FL.grid_floor("g", SPEC, ref, draws=2)
    assert len(floor) == 2 * 3
    for i in range(2):
        x = make_grid_dataset("dino", 2, 0.2, 0.02, 40, seed=7 + 100 + i)
        expected = grid_metrics(x, ref, SPEC)
        mine = floor[floor["seed"] == i]
        assert mine["metric"].tolist() == ["rw1wd", "1wd", "mass_error"]
        assert mine["value"].tolist() == pytest.approx([expected[m] for m in ("rw1wd", "1wd", "mass_error")])
    assert set(floor["dataset"]) == {"g"} and set(floor["model"]) == {FL.FLOOR_MODEL}
    assert set(floor["family"]) == {"reference"} and set(floor["size"]) == {"—"}
    assert set(floor["sampler"]) == {"floor"} and set(floor["steps"]) == {0} and set(floor["n"]) == {40}
    assert FL.grid_floor("g", SPEC, ref)["seed"].nunique() == FL.FLOOR_DRAWS == 3
    assert floor.loc[floor["seed"] == 0, "value"].tolist() != floor.loc[floor["seed"] == 1, "value"].tolist()


def test_floor_rows_only_for_grid_datasets_with_a_reference() -> None:
    config = {"datasets": {"g": SPEC, "h": {**SPEC, "kind": "grid", "data_seed": 9}, "f": {"kind": "fmnist"},
                           "n": {k: v for k, v in SPEC.items() if k != "kind"}}}
    refs = {"g": {"x": reference(20)}, "f": {"x": np.zeros((2, 1, 2, 2))}, "n": {"x": reference(20)}}
    rows = FL.floor_rows(config, refs.get, ["g", "h", "f", "n"])
    assert sorted(set(rows["dataset"])) == ["g", "n"]  # h has no reference; f is not a grid
    assert rows.index.tolist() == list(range(len(rows)))
    assert rows[rows["dataset"] == "g"]["value"].tolist() == FL.grid_floor("g", SPEC, reference(20))[
        "value"].tolist()
    assert FL.floor_rows(config, refs.get, ["f", "h"]).empty


def test_floor_series_is_a_flat_line_at_every_x_of_every_panel() -> None:
    floor = pd.DataFrame({"dataset": ["g", "g", "g", "g", "h"], "metric": ["rw1wd", "rw1wd", "rw1wd", "1wd", "rw1wd"],
                          "value": [1.0, 2.0, 4.0, 9.0, 5.0]})
    lines = pd.DataFrame({"panel": ["r", "q", "q", "q", "p"], "dataset": ["z", "g", "g", "g", "g"],
                          "steps": [1, 10, 1, 10, 3]})
    s = FL.floor_series(floor, lines, "rw1wd", "steps")
    mean, _, _, lo, hi = t_interval([1.0, 2.0, 4.0])
    # panels in the order drawn; panel r's dataset has no floor (and the panels after it still get theirs)
    assert s[["panel", "steps"]].values.tolist() == [["q", 1], ["q", 10], ["p", 3]]
    assert s["mean"].tolist() == [mean] * 3 and s["lo"].tolist() == [lo] * 3 and s["hi"].tolist() == [hi] * 3
    assert set(s["line"]) == {"data floor (independent draw of the data)"}
    assert set(s["model"]) == {FL.FLOOR_MODEL} and set(s["family"]) == {"reference"} and set(s["dataset"]) == {"g"}
    assert FL.floor_series(floor.iloc[:0], lines, "rw1wd", "steps").empty
    assert FL.floor_series(floor, lines.iloc[:0], "rw1wd", "steps").empty
    assert list(FL.floor_series(floor, lines.iloc[:0], "rw1wd", "steps").columns) == list(lines.columns)
