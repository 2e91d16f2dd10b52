"""rpd.report.sizes: network sizes are free names, shown largest network first by parameter count.

The synthetic results tree of tests/test_report.py with its sizes renamed so that neither the names nor the
config's order give the right answer: ``zeta`` is the large network (1000 parameters), ``alpha`` the small one
(400), and the config lists ``alpha`` first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from rpd.report import ReportInputs, render_report
from rpd.report.context import Context
from rpd.report.plots import line_data
from rpd.report.sizes import ordered_sizes, size_ranker
from rpd.report.verdicts import first_size
from test_report import _config, _results_tree
from test_report_html import tables_of

RENAMED = {"std": "zeta", "small": "alpha"}
LARGE_FIRST = ["zeta", "alpha"]


def renamed_config() -> dict:
    """tests/test_report.py's config with sizes alpha (small) and zeta (large), alpha listed first; E1 and E3 only."""
    cfg = _config()
    for key in ("networks", "prior_sizes"):
        cfg[key] = {"alpha": cfg[key]["small"], "zeta": cfg[key]["std"]}
    for model in cfg["models"].values():
        if "prior_size" in model:
            model["prior_size"] = RENAMED[model["prior_size"]]
    cfg["experiments"] = {e: {**cfg["experiments"][e], "sizes": ["alpha", "zeta"]} for e in ("e1", "e3")}
    return cfg


def rename_sizes(metrics_csv: Path) -> None:
    """Renames the sizes in metrics.csv and in the run folders (<model>-<size>) of a results tree."""
    frame = pd.read_csv(metrics_csv)
    frame["size"] = frame["size"].map(lambda s: RENAMED.get(s, s))
    frame.to_csv(metrics_csv, index=False)
    for run_dir in sorted(metrics_csv.parent.glob("*/*-*")):
        name, _, size = run_dir.name.rpartition("-")
        if size in RENAMED:
            shutil.move(run_dir, run_dir.with_name(f"{name}-{RENAMED[size]}"))


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pd.DataFrame, str]:
    root = tmp_path_factory.mktemp("sizes")
    metrics_csv = _results_tree(root, _config())
    rename_sizes(metrics_csv)
    cfg = renamed_config()
    html = render_report(ReportInputs.for_results(metrics_csv.parent, cfg), cfg, root / "reports" / "t")
    return cfg, pd.read_csv(metrics_csv), html.read_text(encoding="utf-8")


def sizes_in_order(records: list[dict[str, str]], model: str) -> list[str]:
    """The sizes of ``model``'s rows as the table lists them (each once; paired tables name it 'RPD model')."""
    return list(dict.fromkeys(r["size"] for r in records if r.get("model", r.get("RPD model")) == model))


def test_ordered_sizes_by_parameters_not_by_name() -> None:
    rows = pd.DataFrame({"size": ["alpha", "zeta", "mid", "alpha"], "parameters": [400, 1000, 700, 420]})
    assert ordered_sizes(["alpha", "mid", "zeta"], rows) == ["zeta", "mid", "alpha"]
    # a size without a count (not run yet) goes last; without any count, the order given stays
    assert ordered_sizes(["new", "alpha", "zeta"], rows) == ["zeta", "alpha", "new"]
    assert ordered_sizes(["alpha", "zeta"], rows.drop(columns="parameters")) == ["alpha", "zeta"]


def test_each_model_orders_its_own_sizes() -> None:
    """A prior's sizes and a denoiser's may share names with other counts: each is ordered by its own."""
    rows = pd.DataFrame({"dataset": "d", "model": ["rpd", "rpd", "vqvae", "vqvae"],
                         "size": ["alpha", "zeta", "alpha", "zeta"], "parameters": [400, 1000, 900, 100]})
    rank = size_ranker(rows, ["dataset", "model"])
    assert sorted(["alpha", "zeta"], key=lambda s: rank({"dataset": "d", "model": "rpd", "size": s})) == LARGE_FIRST
    assert sorted(["alpha", "zeta"], key=lambda s: rank({"dataset": "d", "model": "vqvae", "size": s})) == ["alpha",
                                                                                                         "zeta"]


def test_verdicts_and_galleries_use_the_largest_size(renamed) -> None:
    cfg, metrics, _ = renamed
    exp = cfg["experiments"]["e1"]
    assert first_size(exp, metrics[metrics["model"].isin(exp["models"])]) == "zeta"


def test_figure_lines_follow_parameter_order(renamed) -> None:
    cfg, metrics, _ = renamed
    ctx = Context(cfg, metrics, inputs=None, out_dir=Path("."))
    rows = metrics[(metrics["metric"] == "rw1wd") & (metrics["model"] == "rpd") & (metrics["dataset"] == "d-0.1")]
    s = line_data(ctx, rows, ["dataset", "model", "family", "size", "sampler", "steps"],
                  lambda r: r["sampler"], lambda r: f"{r['model']}, {r['size']}", ["size", "sampler", "steps"])
    assert list(dict.fromkeys(s["line"])) == ["rpd, zeta", "rpd, alpha"]


def test_report_tables_list_sizes_largest_first(renamed) -> None:
    _, _, text = renamed
    tables = tables_of(text)
    e1_full = [t for t in tables if t.section == "e1" and "size" in t.columns]
    assert e1_full, "E1 has no table with a size column"
    for table in e1_full:
        for model in ("rpd", "ddpm", "vqvae"):
            shown = sizes_in_order(table.records(), model)
            if len(shown) > 1:
                assert shown == LARGE_FIRST, (table.caption, model, shown)
    e3_wide = next(t for t in tables if t.section == "e3" and "parameters" in t.columns)
    assert sizes_in_order(e3_wide.records(), "rpd") == LARGE_FIRST
    assert "(sizes zeta, alpha)" in text  # E3's figure caption
    networks = next(t for t in tables if t.section == "methods" and "network" in t.columns)
    assert [r["size"] for r in networks.records() if r["model"] == "rpd" and "2D" in r["size"]] == [
        "zeta (2D)", "alpha (2D)"]
    jobs = next(t for t in tables if "wall s" in t.columns)
    runs = [r["run"] for r in jobs.records() if r["dataset"] == "d-0.1" and r["run"].startswith("rpd-")]
    assert list(dict.fromkeys(runs)) == ["rpd-zeta", "rpd-alpha"]


def test_e3_and_c3_compare_the_smallest_size_with_the_largest(renamed) -> None:
    """C3 and E3's tests pair alpha (RPD_s) with zeta, and C3 is what the same table said under std and small."""
    from rpd.report.verdicts import judge_claims

    cfg, metrics, text = renamed
    c3 = {v.claim: v for v in judge_claims(cfg, metrics)}["C3"]
    as_named = metrics.assign(size=metrics["size"].map(lambda s: {v: k for k, v in RENAMED.items()}.get(s, s)))
    before = {v.claim: v for v in judge_claims(_config(), as_named)}["C3"]
    assert c3.status == before.status != "not run"
    assert [o.test.challenger.label for o in c3.deciding] == [o.test.challenger.label.replace("small", "alpha")
                                                              for o in before.deciding]
    assert "RPD_s (size alpha) has 40% of RPD's parameters (size zeta)" in c3.reason
    e3_tests = [r for t in tables_of(text) if t.section == "e3" and "challenger" in t.columns for r in t.records()]
    assert e3_tests and {(r["challenger"], r["baseline"]) for r in e3_tests} >= {("rpd-alpha", "rpd-zeta")}
    assert {r["challenger"].rpartition("-")[2] for r in e3_tests} == {"alpha"}
