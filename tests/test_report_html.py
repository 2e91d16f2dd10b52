"""What the report's tables say, read back from the HTML: the same numbers as the statistics and the CSV files.

Fast tests use the synthetic results tree of tests/test_report.py; the slow ones read the `ci` suite's own
report (RPD_CI_SUITE_DIR or the session's ci_suite fixture) and check every number against metrics.csv and
summary.csv.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.config import load_config
from rpd.report.floor import FLOOR_MODEL
from rpd.report.inputs import load_metrics
from rpd.report.stats import METRIC_NAMES, t_interval
from rpd.report.tables import fmt, fmt_effect, fmt_effect_interval, fmt_interval
from suite import CI_SUITE


@dataclass
class HtmlTable:
    section: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    collapsed: bool = False  # inside a <details>

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.columns, r)) for r in self.rows]


class TableParser(HTMLParser):
    """Every <table> of the page with its section (the last <h2 id>), header, cells and caption."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[HtmlTable] = []
        self.section, self.details, self.cell, self.row = "", 0, None, None
        self.in_caption, self.last = False, None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "h2" and "id" in a:
            self.section = a["id"]
        elif tag == "details":
            self.details += 1
        elif tag == "table":
            self.last = HtmlTable(self.section, collapsed=self.details > 0)
            self.tables.append(self.last)
        elif tag == "tr" and self.last is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "figcaption" and self.last is not None and not self.last.caption:
            self.in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.details -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row and not self.last.columns:
                self.last.columns = self.row
            elif self.row and len(self.row) == len(self.last.columns):
                self.last.rows.append(self.row)
            self.row = None
        elif tag == "figcaption":
            self.in_caption = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data
        elif self.in_caption:
            self.last.caption += data


def tables_of(html: str) -> list[HtmlTable]:
    parser = TableParser()
    parser.feed(html)
    return parser.tables


MEAN_SD = re.compile(r"^(?P<mean>-?[\d.]+(?:e[-+]?\d+)?)(?: ± (?P<sd>[\d.]+(?:e[-+]?\d+)?))?$")


def close(shown: str, value: float, digits: int = 4) -> bool:
    """``shown`` is ``value`` printed with ``digits`` significant digits (as the report prints it)."""
    return shown == fmt(value, digits)


# --------------------------------------------------------------------------------------------------------
# Fast: the synthetic report


@pytest.fixture(scope="module")  # module scope: tests/mutmut_plugin.py runs tests needing a built report last
def synthetic(synthetic_report) -> tuple[Path, str, dict]:
    """The synthetic report (tests/conftest.py renders it once per session)."""
    return synthetic_report.html, synthetic_report.text, synthetic_report.cfg


def test_paired_table_rows_match_the_deciding_tests(synthetic: tuple[Path, str, dict]) -> None:
    """A table row and the verdict resting on the same comparison show the same interval and mean (item 6)."""
    from rpd.report.inputs import ReportInputs
    from rpd.report.render import load_context

    html, text, cfg = synthetic
    ctx = load_context(ReportInputs.for_results(html.parent.parent.parent / "results" / "t", cfg), cfg, html.parent)
    rows = {}
    for t in tables_of(text):
        if "RPD model" in t.columns:
            delta = next(c for c in t.columns if c.startswith("effect on"))
            for r in t.records():
                rows[(delta.split()[2], r["dataset"], r["RPD model"], r["baseline"], r["size"], r["sampler"],
                      r["K"])] = r
    matched = 0
    for v in ctx.verdicts.values():
        for o in v.deciding + v.guards:
            w, key = o.test.where, None
            if set(w) == {"dataset", "size", "sampler", "steps"}:
                key = (METRIC_NAMES.get(o.test.metric), w["dataset"], o.test.challenger.label, o.test.baseline.label,
                       w["size"], w["sampler"], str(w["steps"]))
            row = rows.get(key)
            if row is None:
                continue
            matched += 1
            assert row["95% t-interval"] == fmt_effect_interval(o), (v.claim, key)
            assert row["paired seeds"] == str(o.seeds) and row["RPD wins"] == f"{o.wins}/{o.seeds}"
            effect = next(c for c in row if c.startswith("effect on"))
            assert row[effect] == fmt_effect(o)
    assert matched >= 4  # C1's deciding test and guard (E1 tables), C2's deciding tests and guards (E2 tables)


def test_summary_tables_are_short_and_full_tables_collapsed(synthetic: tuple[Path, str, dict]) -> None:
    _, text, _ = synthetic
    tables = tables_of(text)
    for fid in ("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"):
        body = text.split(f'<h2 id="{fid}"')[1].split("<h2")[0]
        # figures first: the verdict (if any) and the first figure come before the first table
        first_table = body.find("<table")
        assert first_table == -1 or body.find("<img") == -1 or body.find("<img") < first_table, fid
        visible = [t for t in tables if t.section == fid and not t.collapsed]
        assert all(len(t.rows) <= 15 for t in visible), (fid, [len(t.rows) for t in visible])
    e1 = [t for t in tables if t.section == "e1"]
    assert any(t.collapsed and len(t.rows) > 15 for t in e1)  # the long E1 table is one click away
    assert text.split('<h2 id="e1"')[1].split("<h2")[0].index('class="verdict') < text.split(
        '<h2 id="e1"')[1].split("<h2")[0].index("<img")


# --------------------------------------------------------------------------------------------------------
# Slow: the ci suite's own report against its CSV files


def check_wide_table(table: HtmlTable, metrics: pd.DataFrame) -> int:
    """Every 'X mean ± sd' / 'X 95% interval' cell of a wide table equals the seeds' values of that row."""
    keys = [c for c in ("dataset", "model", "size", "sampler", "K", "scale", "parameters") if c in table.columns]
    checked = 0
    names = {"RW-1WD": "rw1wd", "1WD": "1wd", "mass error": "mass_error", "CW-1WD": "cw1wd", "KID": "kid",
             "−ELBO": "elbo", "J₂": "j2"}
    for r in table.records():
        if r.get("model") == FLOOR_MODEL:  # not a model: tests/test_floor.py
            continue
        sel = metrics
        for k in keys:
            if k == "K":
                sel = sel[sel["steps"] == (0 if r[k] == "—" else int(r[k]))]
            elif k in ("dataset", "model", "size", "sampler"):
                sel = sel[sel[k] == r[k]]
        for col, cell in r.items():
            if not col.endswith(" mean ± sd") or cell == "—":
                continue
            label = col.removesuffix(" mean ± sd")
            name, _, ext = label.partition(" [")
            if name not in names:
                continue
            vals = sel[sel["metric"] == names[name]]
            if ext and "extractor" in vals:
                vals = vals[vals["extractor"] == ext.rstrip("]")]
            assert len(vals), (table.caption[:60], r, col)
            mean, sd, n, lo, hi = t_interval(vals["value"])
            m = MEAN_SD.match(cell)
            assert m and m["mean"] == fmt(mean), (col, cell, mean, r)
            if m["sd"] is not None:
                assert m["sd"] == fmt(sd, 2)
            assert r[f"{label} 95% interval"] == fmt_interval(lo, hi)
            checked += 1
    return checked


@pytest.mark.slow
def test_ci_report_numbers_match_metrics_csv(ci_suite: Path) -> None:
    """Every mean, sd and interval the ci report's tables show is recomputed from metrics.csv; the per-setting
    means also equal summary.csv's (the collect job's independent summary)."""
    html = (ci_suite / "reports" / "ci" / "index.html").read_text(encoding="utf-8")
    metrics = load_metrics(ci_suite / "results" / "ci" / "metrics.csv")
    summary = pd.read_csv(ci_suite / "results" / "ci" / "summary.csv", keep_default_na=False)
    # a section shows its experiment's seeds (ci's E1 runs three, the other experiments seed 0 of the same runs)
    cfg = load_config(CI_SUITE)
    seeds = {e: x.get("seeds", cfg["seeds"]) for e, x in cfg["experiments"].items()}
    checked = sum(check_wide_table(t, metrics[metrics["seed"].isin(seeds.get(t.section, metrics["seed"]))])
                  for t in tables_of(html) if any(c.endswith(" mean ± sd") for c in t.columns))
    assert checked >= 50, checked
    # summary.csv agrees with the page's per-setting means (one table: E1's best settings)
    for t in tables_of(html):
        if t.section != "e1" or "RW-1WD mean ± sd" not in t.columns:
            continue
        for r in t.records():
            if r["model"] == FLOOR_MODEL:
                continue
            s = summary[(summary["dataset"] == r["dataset"]) & (summary["model"] == r["model"])
                        & (summary["size"] == r["size"]) & (summary["sampler"] == r["sampler"])
                        & (summary["metric"] == "rw1wd")
                        & (summary["steps"] == (0 if r["K"] == "—" else int(r["K"])))]
            assert len(s) == 1 and MEAN_SD.match(r["RW-1WD mean ± sd"])["mean"] == fmt(float(s["mean"].iloc[0]))
    # paired tables: the effect is recomputed from the two models' rows (a ratio × for positive metrics)
    for t in tables_of(html):
        if "RPD model" not in t.columns:
            continue
        metric = next(c for c in t.columns if c.startswith("effect on")).split()[2]
        name = {"RW-1WD": "rw1wd", "1WD": "1wd", "KID": "kid", "CW-1WD": "cw1wd"}[metric]
        rows = metrics[metrics["seed"].isin(seeds.get(t.section, metrics["seed"]))]
        for r in t.records():
            at = rows[(rows["dataset"] == r["dataset"]) & (rows["size"] == r["size"])
                      & (rows["sampler"] == r["sampler"]) & (rows["steps"] == int(r["K"]))
                      & (rows["metric"] == name)]
            a = at[at["model"] == r["RPD model"]].set_index("seed")["value"]
            b = at[at["model"] == r["baseline"]].set_index("seed")["value"]
            shown = r[next(c for c in t.columns if c.startswith("effect on"))]
            both = pd.concat({"a": a, "b": b}, axis=1, join="inner")
            assert np.isfinite(both.to_numpy()).all()
            if shown.startswith("×"):
                assert (both > 0).all().all()
                expected = "×" + fmt(float(np.exp(np.log(both["a"] / both["b"]).mean())))
            else:
                expected = fmt(float((both["a"] - both["b"]).mean()))
            assert shown == expected and not math.isnan(float(both["a"].mean())), (r, expected)
