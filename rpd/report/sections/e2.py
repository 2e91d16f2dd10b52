"""E2 few steps (claim C2, paper Table 4): metric against K, galleries at several K, paired tables."""

from __future__ import annotations

from rpd.analysis import fewest_steps_within
from rpd.report.context import Context, start_section
from rpd.report.document import Section, Table, section
from rpd.report.plots import figure_metrics, gallery, steps_figures
from rpd.report.stats import METRIC_NAMES
from rpd.report.tables import BASELINE_FAMILIES, fmt, paired_tables, verdict_table, wide_table
from rpd.report.verdicts import primary_metric


@section("e2")
def build_e2(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    if rows.empty:
        return sec
    sec.figures += steps_figures(ctx, fid, rows, "few-step sampling")
    sec.figures += gallery(ctx, fid, exp, rows, ctx.ordered_models(exp["models"]))
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    sec.tables.append(wide_table(ctx, rows, "Every metric per model, sampler and K over seeds (95% t-interval "
                                            "of the mean)."))
    sec.tables += paired_tables(ctx, rows, figure_metrics(rows), "DDPM and DiffuseVAE", BASELINE_FAMILIES)
    sec.tables += fewest_steps_tables(ctx)
    return sec


def fewest_steps_tables(ctx: Context) -> list[Table]:
    """Per dataset of the suite with several K: the fewest K at which each (model, size, sampler) comes within
    10% of its own K = 1000 value (or its largest K), on the dataset's primary metric (rpd.analysis)."""
    m = ctx.metrics[~ctx.metrics["sampler"].isin(["prior", "bound", "train"])]
    tables = []
    for dataset in sorted(m["dataset"].unique()):
        d = m[m["dataset"] == dataset]
        metric = primary_metric(d, dataset)
        if metric is None or d["steps"].nunique() < 2:
            continue
        table = fewest_steps_within(d.drop(columns=["extractor"], errors="ignore"), metric)
        rows = [[r.dataset, r.model, r.size, r.sampler, str(int(r.reference_steps)), fmt(r.reference_value),
                 str(int(r.fewest_steps)), fmt(r.value_at_fewest), str(r.steps_available)]
                for r in table.itertuples()]
        tables.append(Table(
            f"{dataset}: fewest steps K at which each sampler comes within 10% of its own "
            f"{METRIC_NAMES.get(metric, metric)} at K = 1000 (or at its largest K where K = 1000 was not drawn; see "
            "the reference K column), seed means, over every experiment of the suite "
            "(rpd.analysis.fewest_steps_within).",
            ["dataset", "model", "size", "sampler", "reference K", "value at reference K", "fewest K",
             "value at fewest K", "K drawn"], rows, [False] * 4 + [True] * 4 + [False]))
    return tables
