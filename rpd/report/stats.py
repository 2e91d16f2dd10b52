"""The report's statistics, in one place: t-intervals over seeds and seed-paired tests.

Tables and verdicts both call :func:`run_test` (through :func:`paired_outcomes` for a table), so a table row
and the verdict that rests on the same comparison always show the same interval. A *test* compares two sides
(for example RPD and DDPM) on one metric at one setting (dataset, size, sampler, K). Rows are paired by seed:
per seed Δ = challenger − baseline, then the mean of Δ and its 95% t-interval, mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n.
The decision rule (``lower``, ``higher``, ``close``) is described in :mod:`rpd.report.verdicts`.
No torch, no file access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NOT_RUN = "supported", "not supported", "inconclusive", "not run"
LEVEL = 0.95
#: C3 non-inferiority margin, relative to the baseline's (RPD with the standard network) mean.
CLOSE_TOLERANCE = 0.10
#: Display names of the metrics (a metric not listed shows under its own name).
METRIC_NAMES = {"rw1wd": "RW-1WD", "1wd": "1WD", "cw1wd": "CW-1WD", "kid": "KID", "mass_error": "mass error",
                "elbo": "−ELBO", "j2": "J₂", "train_loss_mean": "mean training loss"}
#: The keys at which two models are compared in a paired table (one test per combination present).
PAIRED_KEYS = ("dataset", "size", "sampler", "steps")


def t_interval(values: Iterable[float], level: float = LEVEL) -> tuple[float, float, int, float, float]:
    """Mean, sample sd, n and the two-sided t-interval of the mean (NaN bounds when n < 2)."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return np.nan, np.nan, 0, np.nan, np.nan
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, 1, np.nan, np.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, n, mean - half, mean + half


def summarise(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` + metric (+ KID extractor when present): mean, sd, seeds and the 95% t-interval (lo, hi)."""
    if "extractor" in frame and "extractor" not in keys:
        frame = frame.assign(extractor=frame["extractor"].fillna("").astype(str))
        if frame["extractor"].str.len().gt(0).any():
            keys = [*keys, "extractor"]
    cols = ["mean", "sd", "seeds", "lo", "hi"]
    if frame.empty:
        return pd.DataFrame(columns=keys + ["metric"] + cols)
    out = []
    for key, rows in frame.groupby(keys + ["metric"], sort=False):
        out.append(dict(zip(keys + ["metric"], key), **dict(zip(cols, t_interval(rows["value"])))))
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Side:
    """The rows of one side of a comparison: a label and column → value filters (e.g. model, size)."""

    label: str
    filters: Mapping[str, object]


@dataclass(frozen=True)
class Test:
    """Challenger against baseline on ``metric`` at the setting ``where`` (column → value), paired by seed."""

    metric: str
    challenger: Side
    baseline: Side
    where: Mapping[str, object]
    expect: str = "lower"  # lower | higher | close
    tolerance: float = CLOSE_TOLERANCE

    def describe(self) -> str:
        setting = ", ".join(f"{k} {v}" for k, v in self.where.items())
        metric = METRIC_NAMES.get(self.metric, self.metric)
        return f"{self.challenger.label} − {self.baseline.label}, {metric} ({setting})"


@dataclass
class Outcome:
    """A test's paired statistics and its decision."""

    test: Test
    status: str
    reason: str
    seeds: int = 0
    mean: float = np.nan
    sd: float = np.nan
    lo: float = np.nan
    hi: float = np.nan
    challenger_mean: float = np.nan
    baseline_mean: float = np.nan
    wins: int = 0


def select(frame: pd.DataFrame, filters: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``frame`` whose columns equal the given values."""
    keep = pd.Series(True, index=frame.index)
    for col, value in filters.items():
        keep &= frame[col] == value
    return frame[keep]


def paired_values(frame: pd.DataFrame, test: Test) -> pd.DataFrame:
    """Per seed: the challenger's and the baseline's value (columns ``seed``, ``challenger``, ``baseline``)."""
    rows = select(frame[frame["metric"] == test.metric], test.where)
    a = select(rows, test.challenger.filters).groupby("seed")["value"].mean()
    b = select(rows, test.baseline.filters).groupby("seed")["value"].mean()
    both = pd.concat({"challenger": a, "baseline": b}, axis=1, join="inner").dropna()
    return both.reset_index()


def sign_status(lo: float, hi: float, expect: str = "lower") -> str:
    """Supported / not supported / inconclusive from where the interval of Δ lies relative to 0."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return INCONCLUSIVE
    below, above = hi < 0, lo > 0
    if expect == "higher":
        below, above = above, below
    return SUPPORTED if below else NOT_SUPPORTED if above else INCONCLUSIVE


def where_zero(lo: float, hi: float) -> str:
    """Where an interval of Δ lies relative to 0, in words."""
    return "entirely below 0" if hi < 0 else "entirely above 0" if lo > 0 else "contains 0"


def decide(test: Test, seeds: int, lo: float, hi: float, baseline_mean: float) -> tuple[str, str]:
    """The decision rule (see :mod:`rpd.report.verdicts`) for one test's interval."""
    if seeds == 0:
        return INCONCLUSIVE, "no seed-paired rows"
    if seeds < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return INCONCLUSIVE, "one paired seed: no interval"
    interval = f"95% interval of Δ [{lo:.3g}, {hi:.3g}]"
    if test.expect in ("lower", "higher"):
        return sign_status(lo, hi, test.expect), f"{interval} {where_zero(lo, hi)}"
    if test.expect == "close":
        margin = test.tolerance * abs(baseline_mean)
        text = f"{interval}, margin +{margin:.3g} ({test.tolerance:.0%} of {test.baseline.label})"
        if hi <= margin:
            return SUPPORTED, f"{text}: upper end within the margin"
        if lo > margin:
            return NOT_SUPPORTED, f"{text}: lower end beyond the margin"
        return INCONCLUSIVE, f"{text}: interval straddles the margin"
    raise ValueError(f"unknown expectation {test.expect!r}; allowed: lower, higher, close")


def run_test(frame: pd.DataFrame, test: Test) -> Outcome:
    """Pair the test's rows by seed and decide."""
    pairs = paired_values(frame, test)
    diff = pairs["challenger"] - pairs["baseline"]
    mean, sd, n, lo, hi = t_interval(diff)
    base_mean = float(pairs["baseline"].mean()) if len(pairs) else np.nan
    status, reason = decide(test, n, lo, hi, base_mean)
    better = diff < 0 if test.expect != "higher" else diff > 0
    return Outcome(test, status, reason, n, mean, sd, lo, hi,
                   float(pairs["challenger"].mean()) if len(pairs) else np.nan, base_mean, int(better.sum()))


def paired_outcomes(frame: pd.DataFrame, challengers: Sequence[str], baselines: Sequence[str], metric: str,
                    keys: Sequence[str] = PAIRED_KEYS) -> list[Outcome]:
    """One :func:`run_test` per (challenger model, baseline model, setting of ``keys``) where both have rows.

    The tests are built exactly as the claim judges build theirs (sides filtered by model, ``where`` =
    the setting), so a table row and a verdict on the same comparison are the same computation.
    """
    rows = frame[frame["metric"] == metric]
    out = []
    for challenger in challengers:
        for baseline in baselines:
            both = rows[rows["model"].isin([challenger, baseline])]
            settings = both.groupby(list(keys), sort=True)["model"].nunique()
            for setting in settings[settings == 2].index:
                where = dict(zip(keys, setting if isinstance(setting, tuple) else (setting,)))
                where = {k: int(v) if k == "steps" else v for k, v in where.items()}
                test = Test(metric, Side(challenger, {"model": challenger}), Side(baseline, {"model": baseline}),
                            where)
                out.append(run_test(rows, test))
    return out
