"""rpd.report.overview: the page header's description of the suite."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rpd.report.context import Context
from rpd.report.overview import seeds_text


def _ctx(config: dict) -> Context:
    return Context(config=config, metrics=pd.DataFrame(), inputs=None, out_dir=Path("."))


def test_header_seeds_name_the_experiments_with_their_own_seed_lists() -> None:
    # quick: E3 at 10 seeds and E5 at 4 beside the suite's 3; a header saying "seeds 0, 1, 2" misleads
    config = {"seeds": [0, 1, 2], "experiments": {
        "e1": {}, "e3": {"seeds": list(range(10))}, "e5": {"seeds": [0, 1, 2, 3]}, "e6": {"seeds": [0]},
        "e7": {"seeds": [0]}, "e8": {"seeds": [0, 1, 2]}}}
    assert seeds_text(_ctx(config)) == "0, 1, 2 (e3: 0–9; e5: 0–3; e6, e7: 0)"


def test_header_seeds_without_experiment_lists() -> None:
    assert seeds_text(_ctx({"seeds": [3, 5], "experiments": {"e1": {}}})) == "3, 5"
