"""E3 network size (claim C3, RPD_s against RPD): metric against parameter count, smallest − largest size tests
(sizes ordered by their parameter counts, rpd.report.sizes, whatever their names)."""

from __future__ import annotations

import pandas as pd

from rpd.report import figures as F
from rpd.report.context import Context, start_section
from rpd.report.document import Figure, Section, section
from rpd.report.plots import extractor_note, figure_metrics, headline_and_few, line_data, only
from rpd.report.sanity import SANITY_METRICS
from rpd.report.sizes import ordered_sizes
from rpd.report.stats import CLOSE_TOLERANCE, Side, Test, run_test
from rpd.report.tables import outcome_table, sanity_table, verdict_table, wide_table
from rpd.report.verdicts import primary_metric, size_extremes


def params_figures(ctx: Context, fid: str, exp: dict, d: pd.DataFrame, dataset: str) -> list[Figure]:
    """Per metric: mean against the denoiser's parameter count at the best-quality and few-step settings."""
    figures, pairs = [], headline_and_few(d)
    for metric, ext in figure_metrics(d):
        sub = only(d, metric, ext)
        sub = sub[[(s, int(k)) in pairs for s, k in zip(sub["sampler"], sub["steps"])]]
        s = line_data(ctx, sub, ["model", "family", "size", "sampler", "steps", "parameters"],
                      lambda r: f"{r['sampler']} sampler, K={r['steps']}",
                      lambda r: f"{r['model']} ({F.FAMILY_LABELS.get(r['family'], r['family'])})", ["parameters"])
        if s.empty:
            continue
        label = ctx.metric_label(metric, [dataset])
        path, src = ctx.figure_path(F.figure_name(fid, dataset, metric, ext, "vs-params"))
        F.metric_lines(path, s, "parameters", "trainable parameters of the denoiser (log scale)", label,
                       share_y=False)
        figures.append(Figure(
            src, f"{label} against parameter count on {dataset}",
            f"{dataset}: {label}{extractor_note(ext)} against the denoiser's trainable parameter count (sizes "
            f"{', '.join(ordered_sizes(exp['sizes'], d))}), at the best-quality setting and at the fewest steps; mean "
            "over seeds with 95% t-interval error bars. One line per model; colour = family."))
    return figures


@section("e3")
def build_e3(ctx: Context, fid: str, exp: dict) -> Section:
    sec, all_rows = start_section(ctx, fid, exp)
    if all_rows.empty:
        return sec
    rows = all_rows[~all_rows["metric"].isin(SANITY_METRICS)]
    if rows["parameters"].isna().all():
        sec.notes.append("metrics.csv has no parameter counts: no figure against parameters.")
    else:
        for dataset in exp["datasets"]:
            sec.figures += params_figures(ctx, fid, exp, rows[rows["dataset"] == dataset], dataset)
    outcomes, best = [], []
    for dataset in exp["datasets"]:
        d = rows[rows["dataset"] == dataset]
        metric = primary_metric(d, dataset)
        models = ctx.ordered_models(exp["models"]) if len(set(exp["sizes"])) > 1 else []
        for model in models:
            large, small = size_extremes(exp, d[d["model"] == model])  # C3's pair: by this model's counts
            for sampler, k in sorted({(s, int(k)) for s, k in zip(d["sampler"], d["steps"])}):
                outcome = run_test(d, Test(metric, Side(f"{model}-{small}", {"model": model, "size": small}),
                                           Side(f"{model}-{large}", {"model": model, "size": large}),
                                           {"dataset": dataset, "sampler": sampler, "steps": k}, expect="close"))
                outcomes.append(outcome)
                best += [outcome] if (sampler, k) in headline_and_few(d[d["model"] == model]) else []
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    caption = (f"Smallest against largest network (by parameter count), seed-paired; 'close' = non-inferior "
               f"within {CLOSE_TOLERANCE:.0%} of the largest network's mean (the C3 rule; for DDPM shown for contrast)")
    if best:
        sec.summarise(outcome_table(f"{caption}, at the best-quality and the few-step settings.", best))
    sec.tables.append(wide_table(ctx, rows, "Every metric per model, size, sampler and K over seeds.",
                                 ["dataset", "model", "family", "size", "parameters", "sampler", "steps"]))
    if outcomes:
        sec.tables.append(outcome_table(f"{caption}, per model and setting.", outcomes))
    sec.tables.append(sanity_table(ctx, all_rows))
    return sec
