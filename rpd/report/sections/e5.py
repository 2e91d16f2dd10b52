"""E5 prior capacity (claim C5, paper Fig. 16): RPD on the standard against the small β-VAE prior."""

from __future__ import annotations

import pandas as pd

from rpd.report.context import Context, start_section
from rpd.report.document import Section, section
from rpd.report.judges.prior_capacity import prior_pair
from rpd.report.plots import few_pair, gallery, steps_figures
from rpd.report.sizes import ordered_sizes
from rpd.report.stats import Side, Test, run_test
from rpd.report.tables import outcome_table, verdict_table, wide_table
from rpd.report.verdicts import primary_metric


@section("e5")
def build_e5(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    if rows.empty:
        return sec
    models = ctx.ordered_models(exp["models"])
    sec.figures += steps_figures(ctx, fid, rows, "RPD on the standard and on the small prior")
    sec.figures += gallery(ctx, fid, exp, rows, models)
    # the pair C5 is judged on: RPD on the small and on the standard prior, of one target (v where present)
    pair = prior_pair(ctx.config, exp, ctx.metrics)
    weak, strong = ([pair[0]], [pair[1]]) if pair else ([], [])
    outcomes, fewest = [], []
    for dataset in exp["datasets"]:
        d = rows[rows["dataset"] == dataset]
        metric, few = primary_metric(d, dataset), few_pair(d)
        for size in ordered_sizes(exp["sizes"], d):
            for w in weak:
                for s in strong:
                    for sampler, k in sorted({(a, int(b)) for a, b in zip(d["sampler"], d["steps"])}):
                        outcome = run_test(d, Test(metric, Side(w, {"model": w}), Side(s, {"model": s}),
                                                   {"dataset": dataset, "size": size, "sampler": sampler, "steps": k},
                                                   expect="higher"))
                        outcomes.append(outcome)
                        fewest += [outcome] if (sampler, k) == few else []
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    caption = ("Weak prior (β-VAE_s) minus standard prior, seed-paired: the claim expects positive Δ (worse), most "
               "at few steps")
    if fewest:
        sec.summarise(outcome_table(f"{caption}; at the fewest steps.", fewest))
    elif not weak:
        sec.notes.append("No pair of RPD models of one target on the small and the standard prior in this "
                         "experiment: nothing to compare.")
    sec.tables.append(wide_table(ctx, pd.concat([ctx.prior_rows(exp), rows]),
                                 "Priors (sampled directly, K —) and the models on them, every metric over seeds."))
    if outcomes:
        sec.tables.append(outcome_table(f"{caption}; every setting.", outcomes))
    return sec
