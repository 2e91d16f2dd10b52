"""The report's statistics, in one place: t-intervals over seeds and seed-paired tests.

Tables and verdicts both call :func:`run_test` (through :func:`paired_outcomes` for a table), so a table row
and the verdict that rests on the same comparison always show the same interval. A *test* compares two sides
(for example RPD and DDPM) on one metric at one setting (dataset, size, sampler, K). Rows are paired by seed:
per seed Δ = challenger − baseline — for positive lower-is-better metrics Δ = log(challenger / baseline)
(SPEC §7: effects are multiplicative and span decades across K) — then the mean of Δ and its 95% t-interval,
mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n. A non-finite value decides its seed against the side that produced it.
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
#: A claim decided on models whose samples fail the suite's sanity thresholds (config key ``sanity``).
UNFIT = "not fit to judge"
LEVEL = 0.95
#: Fewest paired seeds a deciding test needs (SPEC §7); with fewer it is "inconclusive (seeds)".
MIN_SEEDS = 3
#: C3 non-inferiority margin, relative to the baseline's (RPD with the standard network) mean.
CLOSE_TOLERANCE = 0.10
#: Display names of the metrics (a metric not listed shows under its own name).
METRIC_NAMES = {"rw1wd": "RW-1WD", "1wd": "1WD", "cw1wd": "CW-1WD", "kid": "KID", "mass_error": "mass error",
                "elbo": "−ELBO", "j2": "J₂", "train_loss_mean": "mean training loss"}
#: Positive metrics where lower is better: their paired test is on the per-seed log ratio log(challenger /
#: baseline), shown as a ratio (SPEC §7). KID is tested this way only where every paired value is > 0 (its
#: unbiased estimate can be ≤ 0; then the raw difference is used and the reason says so).
RATIO_METRICS = ("rw1wd", "1wd", "cw1wd", "kid", "j2")
LOG_RATIO, DIFFERENCE = "log ratio", "difference"
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
    # every row's key had a NaN (e.g. no parameter counts in E3's table): no group, but the columns still
    return pd.DataFrame(out, columns=keys + ["metric"] + cols)


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
    #: what mean / lo / hi are on: per-seed log(challenger / baseline), or challenger − baseline
    scale: str = DIFFERENCE

    def effect(self) -> tuple[float, float, float]:
        """The effect and its interval as shown: the ratio challenger / baseline (log-ratio tests) or Δ."""
        if self.scale == LOG_RATIO:
            return float(np.exp(self.mean)), float(np.exp(self.lo)), float(np.exp(self.hi))
        return self.mean, self.lo, self.hi


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
    both = pd.concat({"challenger": a, "baseline": b}, axis=1, join="inner")
    return both.reset_index()  # non-finite values are kept: run_test decides those seeds and says so


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


def decide(test: Test, seeds: int, lo: float, hi: float, baseline_mean: float,
           scale: str = DIFFERENCE) -> tuple[str, str]:
    """The decision rule (see :mod:`rpd.report.verdicts`) for one test's interval (of Δ, or of the log ratio)."""
    if seeds == 0:
        return INCONCLUSIVE, "no seed-paired rows"
    if seeds < 2 or not (np.isfinite(lo) and np.isfinite(hi)):
        return INCONCLUSIVE, "one paired seed: no interval"
    if seeds < MIN_SEEDS:
        return INCONCLUSIVE, (f"inconclusive (seeds): {seeds} paired seeds, the rule needs at least {MIN_SEEDS} "
                              "(SPEC §7)")
    if scale == LOG_RATIO:
        interval = f"95% interval of the ratio [{np.exp(lo):.3g}, {np.exp(hi):.3g}]"
        zero = where_zero(lo, hi).replace(" 0", " 1")  # log ratio < 0 ⇔ ratio < 1
    else:
        interval, zero = f"95% interval of Δ [{lo:.3g}, {hi:.3g}]", where_zero(lo, hi)
    if test.expect in ("lower", "higher"):
        return sign_status(lo, hi, test.expect), f"{interval} {zero}"
    if test.expect == "close":
        # non-inferiority: Δ ≤ tolerance × |baseline mean|, or ratio ≤ 1 + tolerance
        margin = np.log1p(test.tolerance) if scale == LOG_RATIO else test.tolerance * abs(baseline_mean)
        shown = f"ratio {1 + test.tolerance:.3g}×" if scale == LOG_RATIO else f"+{margin:.3g}"
        text = f"{interval}, margin {shown} ({test.tolerance:.0%} of {test.baseline.label})"
        if hi <= margin:
            return SUPPORTED, f"{text}: upper end within the margin"
        if lo > margin:
            return NOT_SUPPORTED, f"{text}: lower end beyond the margin"
        return INCONCLUSIVE, f"{text}: interval straddles the margin"
    raise ValueError(f"unknown expectation {test.expect!r}; allowed: lower, higher, close")


def _non_finite(pairs: pd.DataFrame, test: Test) -> tuple[pd.Series, pd.Series, str]:
    """Seeds decided by a non-finite value (against the side that produced it), and the reason text."""
    bad_c, bad_b = ~np.isfinite(pairs["challenger"]), ~np.isfinite(pairs["baseline"])
    against_c, against_b = bad_c & ~bad_b, bad_b & ~bad_c
    parts = [f"seed {s}: {side.label} value {v} (seed decided against {side.label})"
             for mask, side, col in ((against_c, test.challenger, "challenger"), (against_b, test.baseline, "baseline"))
             for s, v in zip(pairs.loc[mask, "seed"], pairs.loc[mask, col])]
    parts += [f"seed {s}: both values non-finite (no decision)" for s in pairs.loc[bad_c & bad_b, "seed"]]
    return against_c, against_b, "; ".join(parts)


def seeds_to_settle(outcome: Outcome, most: int = 200) -> str:
    """For an inconclusive test with an interval: how many paired seeds would settle it, were the observed mean
    and spread of Δ the truth (the fewest n with t₀.₉₇₅,ₙ₋₁ · sd/√n < the distance from the mean to the decision
    boundary: 0, or the 'close' margin)."""
    o, test = outcome, outcome.test
    if o.status != INCONCLUSIVE or o.seeds < MIN_SEEDS or not (np.isfinite(o.mean) and np.isfinite(o.sd)):
        return ""
    boundary = 0.0
    if test.expect == "close":
        boundary = np.log1p(test.tolerance) if o.scale == LOG_RATIO else test.tolerance * abs(o.baseline_mean)
    gap = abs(o.mean - boundary)
    for n in range(max(o.seeds + 1, 3), most + 1):
        if stats.t.ppf(0.5 + LEVEL / 2, n - 1) * o.sd / np.sqrt(n) < gap:
            return f"at this effect and spread about {n} paired seeds would settle it"
    return f"the effect is within the seeds' noise: more than {most} paired seeds would be needed (no effect seen)"


def run_test(frame: pd.DataFrame, test: Test) -> Outcome:
    """Pair the test's rows by seed and decide (log ratio for positive metrics, else Δ; SPEC §7).

    A seed where one side's value is not finite (NaN, ±inf) is decided against that side and named in the
    reason: it counts as a win of the other side, and a claim cannot be supported while a seed stands against
    the side it expects to be better. The interval is over the seeds where both values are finite.
    """
    pairs = paired_values(frame, test)
    against_c, against_b, non_finite = _non_finite(pairs, test)
    finite = pairs[np.isfinite(pairs["challenger"]) & np.isfinite(pairs["baseline"])]
    c, b = finite["challenger"], finite["baseline"]
    positive = bool(len(finite)) and bool((c > 0).all() and (b > 0).all())
    scale = LOG_RATIO if test.metric in RATIO_METRICS and positive else DIFFERENCE
    diff = np.log(c / b) if scale == LOG_RATIO else c - b
    mean, sd, n, lo, hi = t_interval(diff)
    base_mean = float(b.mean())  # pandas: NaN over no seed
    status, reason = decide(test, n, lo, hi, base_mean, scale)
    if test.metric in RATIO_METRICS and scale == DIFFERENCE and len(finite):
        reason += " (a value ≤ 0: tested on the raw difference, not the log ratio)"
    expected_worse = against_c if test.expect != "higher" else against_b
    if non_finite:
        reason += f"; {non_finite}"
        if expected_worse.any() and status == SUPPORTED:
            status = INCONCLUSIVE
    better = (diff < 0 if test.expect != "higher" else diff > 0).sum()
    wins = int(better) + int((against_b if test.expect != "higher" else against_c).sum())
    return Outcome(test, status, reason, n + int(against_c.sum() + against_b.sum()), mean, sd, lo, hi,
                   float(c.mean()), base_mean, wins, scale)


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
