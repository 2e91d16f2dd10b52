"""E7 scale sweep (claim C1 across scales, beyond the paper): RW-1WD against the dataset's scale."""

from __future__ import annotations

import pandas as pd

from rpd.report import figures as F
from rpd.report.context import Context, start_section
from rpd.report.document import Figure, Section, section
from rpd.report.floor import FLOOR_DRAWS, FLOOR_MODEL, floor_rows, floor_series
from rpd.report.plots import line_data
from rpd.report.sanity import SANITY_METRICS
from rpd.report.tables import paired_table, sanity_table, wide_table


@section("e7")
def build_e7(ctx: Context, fid: str, exp: dict) -> Section:
    sec, all_rows = start_section(ctx, fid, exp)
    if all_rows.empty:
        return sec
    datasets = ctx.config["datasets"]
    floor = floor_rows(ctx.config, ctx.inputs.reference, exp["datasets"])
    rows = all_rows[~all_rows["metric"].isin(SANITY_METRICS)]
    rows = pd.concat([floor, rows], ignore_index=True) if not floor.empty else rows
    rows = rows.assign(scale=[float(datasets[d]["scale"]) for d in rows["dataset"]],
                       layout=[f"{datasets[d]['shape']}, G={datasets[d].get('grid', 4)}" for d in rows["dataset"]])
    many_layouts, many_sizes = rows["layout"].nunique() > 1, rows["size"].nunique() > 1
    models = rows[rows["model"] != FLOOR_MODEL]
    s = line_data(ctx, models[models["metric"] == "rw1wd"],
                  ["dataset", "scale", "layout", "model", "family", "size", "sampler", "steps"],
                  lambda r: f"{r['sampler']} sampler, K={r['steps']}" + (f", size {r['size']}" if many_sizes else ""),
                  lambda r: f"{r['model']} ({F.FAMILY_LABELS.get(r['family'], r['family'])})"
                            + (f", {r['layout']}" if many_layouts else ""), ["size", "sampler", "steps", "scale"])
    s = pd.concat([s, floor_series(floor, s, "rw1wd", "scale")], ignore_index=True)
    path, src = ctx.figure_path(F.figure_name(fid, "rw1wd-vs-scale"))
    F.metric_lines(path, s, "scale", F.SCALE_LABEL, F.RW1WD_LABEL)
    sec.figures.append(Figure(
        src, "RW-1WD against scale",
        f"RW-1WD (local-shape units, so comparable across scales) against the dataset's scale, mean over "
        f"{rows['seed'].nunique()} seed(s) with 95% t-interval error bars (none with one seed); one line per model, "
        "one panel per sampler and K. Colour = model family. The black line is the data's own floor at each scale: "
        f"{FLOOR_DRAWS} independent draws of the true distribution at the same N against the same reference set."))
    scale = {"scale": lambda w: f"{float(datasets[w['dataset']]['scale']):g}"}
    sec.summarise(paired_table(ctx, models, "Seed-paired RW-1WD difference RPD − DDPM per scale (negative favours "
                                          "RPD).", extra=scale))
    sec.tables.append(wide_table(ctx, rows, f"RW-1WD, 1WD and mass error per scale over seeds, with the data floor "
                                            f"('{FLOOR_MODEL}': {FLOOR_DRAWS} independent draws of the data).",
                                 ["dataset", "scale", "model", "family", "size", "sampler", "steps"],
                                 metrics=["rw1wd", "1wd", "mass_error"]))
    sec.tables.append(sanity_table(ctx, all_rows))
    return sec
