"""E8 ELBO consistency (claim C6, paper Prop. 1): the variational bound and its terms."""

from __future__ import annotations

from rpd.analysis import elbo_table
from rpd.report.context import Context
from rpd.report.document import Section, Table, new_section, section
from rpd.report.judges.bound import c6_tests
from rpd.report.tables import fmt, outcome_table, verdict_table, wide_table


def is_bound_metric(metric: str) -> bool:
    return metric.startswith("elbo") or metric.startswith("j2")


@section("e8")
def build_e8(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)  # not start_section: bound rows lie outside the experiment's (sampler, K) grid
    m = ctx.metrics
    rows = m[m["dataset"].isin(exp["datasets"]) & m["model"].isin(exp["models"]) & m["size"].isin(exp["sizes"])
             & m["metric"].map(is_bound_metric)]
    if rows.empty:
        sec.notes.append("Not run: metrics.csv holds no elbo* or j2 rows for this experiment's runs.")
        return sec
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    sec.notes.append(
        "What C6 measures: J₂ = KL(q(x_T | x₀, z) ‖ N(μ̂(z), σ̂(z)²)) per held-out point, the gap between where a "
        "family's forward process ends and the prior's decoder distribution, under one reference process for "
        "every family; RPD's is ≈ ½ ᾱ_T |r₀|² by construction. It is compared for RPD and DiffuseVAE on the same "
        "prior (same prior name and size on that dataset). Each family's own terminal term is ≈ 0 (each starts "
        "its sampler where its forward process ends), so the whole bound (−ELBO) is shown beside J₂, not deciding.")
    pairs = c6_tests(ctx.config, ctx.metrics, exp) + c6_tests(ctx.config, ctx.metrics, exp, metric="elbo")
    if pairs:
        sec.summarise(outcome_table("RPD against DiffuseVAE on the same prior, seed-paired: J₂ (deciding; log "
                                    "ratio) and the whole bound −ELBO beside it (difference).", pairs))
    sec.summarise(wide_table(ctx, rows, "The variational bound and its terms (elbo*, as the negative bound: lower "
                                        "is better) and the terminal-mismatch term J₂, over seeds.",
                             ["dataset", "model", "family", "size"]))
    if (rows["sampler"] == "bound").any():
        # Bound rows carry `se` and `unit` (rpd.elbo); tables from elsewhere may not.
        bound = elbo_table(rows.assign(**{c: rows[c] if c in rows else v for c, v in (("se", float("nan")),
                                                                                      ("unit", ""))}))
        sec.tables.append(Table(
            "The bound per term with its estimation error: mean over seeds, se = √Σ se_k² / seeds (the Monte Carlo "
            "error of that mean over the reference set), sd over seeds where there are several "
            "(rpd.analysis.elbo_table).",
            ["dataset", "model", "size", "term", "mean", "se", "sd over seeds", "seeds", "unit"],
            [[r.dataset, r.model, r.size, str(r.metric), fmt(r.mean), fmt(r.se), fmt(r.sd_seeds), str(int(r.seeds)),
              str(r.unit)] for r in bound.itertuples()], [False] * 4 + [True] * 4 + [False]))
    return sec
