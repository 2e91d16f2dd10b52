"""E2 few steps (claim C2, paper Table 4): metric against K, galleries at several K, paired tables.

C2 is judged on models whose target is well-posed at K = 1 (v-prediction; rpd.report.verdicts.well_posed). Their
ε-prediction twins — suite models identical but for ``target: eps``, run by any experiment on the same data — are
drawn beside them, not judged, so the reader sees the 1/√ᾱ artefact of ε at K = 1 (SPEC §2).
"""

from __future__ import annotations

import pandas as pd

from rpd.analysis import fewest_steps_within
from rpd.report.context import Context, start_section
from rpd.report.document import Section, Table, section
from rpd.report.plots import figure_metrics, gallery, steps_figures
from rpd.report.sanity import SANITY_METRICS
from rpd.report.stats import METRIC_NAMES
from rpd.report.tables import BASELINE_FAMILIES, fmt, paired_tables, sanity_table, verdict_table, wide_table
from rpd.report.verdicts import primary_metric


@section("e2")
def build_e2(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    if rows.empty:
        return sec
    twin_rows = twin_frame(ctx, exp, eps_twins(ctx, exp))
    twins = list(dict.fromkeys(twin_rows["model"]))  # those the suite ran on E2's data
    shown = pd.concat([rows, twin_rows], ignore_index=True)
    quality = shown[~shown["metric"].isin(SANITY_METRICS)]
    if twins:
        seeds = sorted(twin_rows["seed"].unique()) if len(twin_rows) else []
        sec.notes.append(
            f"Judged on {', '.join(exp['models'])}. Shown beside them, not judged: their ε-prediction twins "
            f"{', '.join(twins)} (seed(s) {', '.join(map(str, seeds)) or 'none run'}). With ε-prediction, K = 1 "
            "from t = T − 1 computes r₀ = (r − √(1 − ᾱ) ε̂)/√ᾱ with √ᾱ ≈ 0.006, so the network's error is "
            "amplified ~150×, and DDIM (no fresh noise) carries that error on: the ε lines at small K measure "
            "the parametrisation, not the model family (SPEC §2).")
    sec.figures += steps_figures(ctx, fid, quality, "few-step sampling; ε twins shown, not judged")
    sec.figures += gallery(ctx, fid, exp, shown, ctx.ordered_models([*exp["models"], *twins]))
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    sec.tables.append(wide_table(ctx, quality, "Every metric per model, sampler and K over seeds (95% t-interval "
                                               "of the mean), ε twins included."))
    # every image model of the suite (E4, E5, E6, E8 runs too), so each model's sanity is shown once in full
    images = ctx.metrics[[ctx.is_image(d) for d in ctx.metrics["dataset"]]]
    sec.tables.append(sanity_table(ctx, images[images["metric"].isin(SANITY_METRICS)]))
    judged = rows[~rows["metric"].isin(SANITY_METRICS)]
    sec.tables += paired_tables(ctx, judged, figure_metrics(judged), "DDPM and DiffuseVAE", BASELINE_FAMILIES)
    sec.tables += fewest_steps_tables(ctx)
    return sec


def eps_twins(ctx: Context, exp: dict) -> list[str]:
    """Suite models identical to one of the experiment's non-ε models except for ``target: eps``."""
    models = ctx.config["models"]
    posed = [models[m] for m in exp["models"] if models[m].get("target", "eps") != "eps"]
    wanted = [{**spec, "target": "eps"} for spec in posed]
    return [name for name, spec in models.items() if name not in exp["models"]
            and {**spec, "target": spec.get("target", "eps")} in wanted]


def twin_frame(ctx: Context, exp: dict, twins: list[str]) -> pd.DataFrame:
    """The twins' rows on the experiment's datasets and sizes, at the experiment's (sampler, K) pairs."""
    m = ctx.metrics
    pairs = ctx.pairs(exp)
    keep = (m["model"].isin(twins) & m["dataset"].isin(exp["datasets"]) & m["size"].isin(exp["sizes"])
            & pd.Series([(s, int(k)) in pairs for s, k in zip(m["sampler"], m["steps"])], index=m.index, dtype=bool))
    return m[keep]


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
