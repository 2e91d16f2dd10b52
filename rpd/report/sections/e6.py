"""E6 conditional FMNIST (claim C2 on images, paper Table 4): class-wise galleries, CW-1WD, KID."""

from __future__ import annotations

from rpd.report.context import Context, start_section
from rpd.report.document import Section, section
from rpd.report.plots import (
    at_best_setting,
    figure_metrics,
    headline_and_few,
    image_gallery,
    reference_gallery,
    steps_figures,
)
from rpd.report.sanity import SANITY_METRICS
from rpd.report.tables import BASELINE_FAMILIES, paired_tables, sanity_table, wide_table
from rpd.report.verdicts import first_size


@section("e6")
def build_e6(ctx: Context, fid: str, exp: dict) -> Section:
    sec, all_rows = start_section(ctx, fid, exp)
    if all_rows.empty:
        return sec
    rows = all_rows[~all_rows["metric"].isin(SANITY_METRICS)]
    size = first_size(exp, rows)
    for dataset in [d for d in exp["datasets"] if ctx.is_image(d)]:
        sec.figures += reference_gallery(ctx, fid, dataset)
        d = rows[(rows["dataset"] == dataset) & (rows["size"] == size)]
        for m in ctx.ordered_models(exp["models"]):
            sec.figures += image_gallery(ctx, fid, dataset, m, size, headline_and_few(d[d["model"] == m]))
    sec.figures += steps_figures(ctx, fid, rows, "class-conditional generation")
    sec.summarise(wide_table(ctx, at_best_setting(rows), "Each model at its best-quality setting: CW-1WD, KID and "
                                                         "1WD over seeds."))
    sec.tables.append(wide_table(ctx, rows, "CW-1WD, KID and 1WD per model, sampler and K over seeds (KID says "
                                            "which feature extractor)."))
    sec.tables.append(sanity_table(ctx, all_rows))
    sec.tables += paired_tables(ctx, rows, figure_metrics(rows), "DDPM and DiffuseVAE", BASELINE_FAMILIES)
    return sec
