"""E8 ELBO consistency (claim C6, paper Prop. 1): the variational bound and its terms."""

from __future__ import annotations

from rpd.analysis import elbo_table
from rpd.report.context import Context
from rpd.report.document import Section, Table, new_section, section
from rpd.report.tables import fmt, verdict_table, wide_table


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
