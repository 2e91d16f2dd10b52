"""The verdicts the `ci` report shows, recomputed from its metrics.csv by code independent of rpd.report.

For every claim, the report lists the tests that decide it (challenger, baseline, metric, setting). This test
pairs the seeds itself from metrics.csv, takes the log ratio (positive lower-is-better metrics, SPEC §7) or the
difference, computes the 95% t-interval with scipy, applies the decision rule of SPEC §7 and the claim's
combination rule, and finds the status, seed count and interval the page shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from suite import CI_SUITE
from test_report_html import HtmlTable, tables_of

RATIO_METRICS = {"RW-1WD": "rw1wd", "1WD": "1wd", "CW-1WD": "cw1wd", "KID": "kid", "J₂": "j2"}
OTHER_METRICS = {"−ELBO": "elbo", "mean training loss": "train_loss_mean", "mass error": "mass_error"}
EXPECT = {"C3": "close", "C5": "higher"}
MIN_SEEDS, MARGIN = 3, 0.10


def side_filters(label: str, models: dict) -> dict:
    """A test side's label is a model name, or 'model-size' (C3)."""
    if label in models:
        return {"model": label}
    model, _, size = label.rpartition("-")
    assert model in models, label
    return {"model": model, "size": size}


def parse_setting(text: str) -> dict:
    out = {}
    for part in text.split(", "):
        key, _, value = part.partition(" ")
        out["steps" if key == "K" else key] = int(value) if key in ("K", "steps") else value
    return out


def recompute(metrics: pd.DataFrame, models: dict, record: dict, expect: str) -> tuple[str, int, float, float]:
    """(status, paired seeds, lo, hi) of one shown test, from metrics.csv alone."""
    name = {**RATIO_METRICS, **OTHER_METRICS}[record["metric"]]
    rows = metrics[metrics["metric"] == name]
    for key, value in parse_setting(record["setting"]).items():
        rows = rows[rows[key] == value]
    per_side = []
    for label in (record["challenger"], record["baseline"]):
        sel = rows
        for key, value in side_filters(label, models).items():
            sel = sel[sel[key] == value]
        per_side.append(sel.groupby("seed")["value"].mean())
    pairs = pd.concat({"c": per_side[0], "b": per_side[1]}, axis=1, join="inner")
    finite = pairs[np.isfinite(pairs).all(axis=1)]
    bad_c = (~np.isfinite(pairs["c"]) & np.isfinite(pairs["b"])).sum()
    bad_b = (~np.isfinite(pairs["b"]) & np.isfinite(pairs["c"])).sum()
    seeds = len(finite) + int(bad_c + bad_b)
    log = record["metric"] in RATIO_METRICS and len(finite) and (finite > 0).all().all()
    d = np.log(finite["c"] / finite["b"]) if log else finite["c"] - finite["b"]
    n = len(d)
    if n < 2:
        return "inconclusive", seeds, np.nan, np.nan
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
    lo, hi = d.mean() - half, d.mean() + half
    if n < MIN_SEEDS:
        return "inconclusive", seeds, lo, hi
    if expect == "close":
        margin = np.log(1 + MARGIN) if log else MARGIN * abs(finite["b"].mean())
        status = "supported" if hi <= margin else "not supported" if lo > margin else "inconclusive"
    else:
        better, worse = (hi < 0, lo > 0) if expect == "lower" else (lo > 0, hi < 0)
        status = "supported" if better else "not supported" if worse else "inconclusive"
    against_expected = bad_c if expect != "higher" else bad_b
    if against_expected and status == "supported":
        status = "inconclusive"
    return status, seeds, (np.exp(lo) if log else lo), (np.exp(hi) if log else hi)


def combine(deciding: list[str], guard_vetoes: int) -> str:
    if "not supported" in deciding:
        return "not supported"
    if guard_vetoes:
        return "not supported"
    return "supported" if deciding and all(s == "supported" for s in deciding) else "inconclusive"


def shown_interval(cell: str) -> tuple[float, float]:
    m = re.match(r"\[×?(\S+), ×?(\S+)\]", cell)
    return (float(m[1]), float(m[2])) if m else (np.nan, np.nan)


def decided_tables(tables: list[HtmlTable]) -> dict[str, tuple[HtmlTable, int]]:
    """Claim → (its tests table, how many of its rows are deciding tests; the rest are guards)."""
    out = {}
    for t in tables:
        m = re.match(r"The tests that decide claim (C\d) \((\d+) deciding", t.caption)
        if m:
            out[m[1]] = (t, int(m[2]))
    return out


@pytest.mark.slow
def test_ci_verdicts_are_recomputed_from_metrics_csv(ci_suite: Path) -> None:
    html = (ci_suite / "reports" / "ci" / "index.html").read_text(encoding="utf-8")
    metrics = pd.read_csv(ci_suite / "results" / "ci" / "metrics.csv")
    config = yaml.safe_load(CI_SUITE.read_text())
    tables = tables_of(html)
    claims = next(t for t in tables if t.columns[:3] == ["claim", "statement", "verdict"])
    shown = {r["claim"]: r["verdict"] for r in claims.records()}
    assert set(shown) == {f"C{i}" for i in range(1, 7)}
    checked = 0
    for claim, (table, n_deciding) in decided_tables(tables).items():
        expect = EXPECT.get(claim, "lower")
        statuses, vetoes = [], 0
        for i, record in enumerate(table.records()):
            status, seeds, lo, hi = recompute(metrics, config["models"], record, expect)
            decision = record["decision"]
            if seeds == 1 and "standard errors" in decision:  # C6 on one seed: the bound's own Monte Carlo error
                status = decision.split(":")[0]
            assert decision.startswith(f"{status}:"), (claim, record, status)
            assert int(record["paired seeds"]) == seeds, (claim, record)
            s_lo, s_hi = shown_interval(record["95% t-interval"])
            if np.isfinite(lo) and "standard errors" not in decision:
                assert s_lo == pytest.approx(lo, rel=6e-3, abs=1e-3) and s_hi == pytest.approx(hi, rel=6e-3, abs=1e-3)
            if i < n_deciding:
                statuses.append(status)
            elif seeds >= 2 and np.isfinite(lo) and (np.log(lo) if "×" in record["95% t-interval"] else lo) > 0:
                vetoes += 1
            checked += 1
        combined = combine(statuses, vetoes)
        if shown[claim] == "not fit to judge":  # the sanity gate replaces a decided verdict
            assert combined in ("supported", "not supported"), claim
        else:
            assert shown[claim] == combined, (claim, shown[claim], combined, statuses)
    assert checked >= 3
