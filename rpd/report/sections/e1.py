"""E1 fine structure (claim C1, paper Fig. 2): sample scatter grids and RW-1WD / 1WD tables.

The zoom row overlays every grid cell on its own centre (x − c(cell)), pooled over all seeds: RW-1WD scores
exactly that local picture, and it shows every sample instead of the few dozen that fall in one cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.data.grid import assign_regions, grid_centres
from rpd.report import figures as F
from rpd.report.context import Context, start_section
from rpd.report.document import Figure, Section, section
from rpd.report.floor import FLOOR_DRAWS, FLOOR_MODEL, floor_rows, floor_series
from rpd.report.inputs import points
from rpd.report.plots import at_best_setting, full_window, line_data
from rpd.report.sanity import SANITY_METRICS
from rpd.report.sizes import ordered_sizes
from rpd.report.stats import t_interval
from rpd.report.tables import fmt, paired_table, sanity_table, verdict_table, wide_table
from rpd.report.verdicts import headline_pair

#: Half-width of the zoom window, in units of the dataset's scale (the local shape spans about ±0.5).
ZOOM_HALF_WIDTH = 0.65
E1_METRICS = ["rw1wd", "1wd", "mass_error"]


def local_offsets(x: np.ndarray | None, centres: np.ndarray) -> np.ndarray | None:
    """Every point relative to the centre of its own grid cell: all cells overlaid on one local frame."""
    if x is None:
        return None
    x = np.asarray(x, dtype=float)
    return x - centres[assign_regions(x, centres)]


def pooled(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    present = [a for a in arrays if a is not None]
    return np.concatenate(present) if present else None


class ScatterColumns:
    """The panels of one row of the E1 grid (reference, prior, each model), full view or zoomed."""

    def __init__(self, ctx: Context, exp: dict, dataset: str, rows: pd.DataFrame) -> None:
        self.ctx, self.dataset, self.rows = ctx, dataset, rows
        self.grid = int(ctx.config["datasets"][dataset].get("grid", 4))
        self.scale = float(ctx.config["datasets"][dataset]["scale"])
        self.centres = grid_centres(self.grid)
        self.seeds = ctx.experiment_seeds(exp)
        self.models = ctx.ordered_models(exp["models"])
        rpd = ctx.models_of(self.models, "rpd") or [m for m in self.models if ctx.prior_of(m)] or [None]
        self.prior_source = rpd[0]
        self.prior = ctx.prior_of(rpd[0]) if rpd[0] else None
        self.reference = points(ctx.inputs.reference(dataset))

    def _samples(self, name: str, size: str, pair: tuple[str, int], seeds: list[int]) -> np.ndarray | None:
        return pooled([points(self.ctx.inputs.samples_of(self.ctx.run(self.dataset, name, size, s), *pair))
                       for s in seeds])

    def panels(self, size: str, zoom: bool) -> list[F.ScatterPanel]:
        """Full view: seed ctx.seed as drawn. Zoom: all cells overlaid on their centres, pooled over seeds."""
        seeds = self.seeds if zoom else [self.ctx.seed]
        h = ZOOM_HALF_WIDTH * self.scale
        window = ((-h, h), (-h, h)) if zoom else full_window(self.grid)
        centres = np.zeros((1, 2)) if zoom else self.centres

        def panel(title: str, pts: np.ndarray | None, family: str, note: str = "") -> F.ScatterPanel:
            pts = local_offsets(pts, self.centres) if zoom else pts
            if zoom and pts is not None:
                title = f"{title}\nn = {len(pts)}"
            return F.ScatterPanel(title, pts, F.family_colour(family), *window, note=note, centres=centres,
                                  point_size=2.0 if zoom else 1.5, count_outside=not zoom)

        out = [panel("real (reference)", self.reference, "reference")]
        if self.prior is not None:
            name, psize = self.prior
            out.append(panel(f"prior: {name}-{psize}", self._samples(name, psize, ("prior", 0), seeds),
                             self.ctx.family(name)))
        for m in self.models:
            pair = headline_pair(self.rows[(self.rows["model"] == m) & (self.rows["size"] == size)])
            fam = self.ctx.family(m)
            label = m if m == fam else f"{m} [{F.SHORT_LABELS.get(fam, fam)}]"
            if pair is None:
                out.append(panel(label, None, fam, note="not evaluated"))
            else:
                out.append(panel(f"{label}\n{pair[0]} sampler, K={pair[1]}", self._samples(m, size, pair, seeds), fam))
        return out


def scatter_figure(ctx: Context, fid: str, exp: dict, dataset: str, rows: pd.DataFrame) -> Figure:
    cols = ScatterColumns(ctx, exp, dataset, rows)
    sizes = ordered_sizes(exp["sizes"], rows)
    panels = [cols.panels(size, zoom=False) for size in sizes] + [cols.panels(sizes[0], zoom=True)]
    labels = [f"size {size}" for size in sizes] + [f"size {sizes[0]}, every cell on its centre"]
    path, src = ctx.figure_path(F.figure_name(fid, "scatter", dataset))
    F.scatter_grid(path, panels, labels)
    counts = sorted({len(p.points) for p in panels[-1] if p.points is not None})
    prior_text = f"the prior {cols.prior[0]}-{cols.prior[1]} of {cols.prior_source}" if cols.prior else "no prior"
    n_ref = len(cols.reference) if cols.reference is not None else "?"
    return Figure(
        src, f"Samples on {dataset}",
        f"{dataset} (grid {cols.grid}×{cols.grid}, scale {cols.scale:g}). Columns: the held-out reference set "
        f"(N = {n_ref}), {prior_text}, then each model at its best-available sampler (DDPM sampler at the largest "
        f"K, else DDIM at the largest K). Rows: network size, seed {ctx.seed}, every sample. The last row is the "
        f"local shape: every point minus the centre of its grid cell, all {cols.grid * cols.grid} cells overlaid "
        f"and pooled over seed(s) {', '.join(map(str, cols.seeds))} (the reference set once), "
        f"n = {', '.join(map(str, counts)) or '0'} points per panel (each panel says its n), window "
        f"±{ZOOM_HALF_WIDTH * cols.scale:.3g} around the centre; this is the picture RW-1WD scores. Grey + marks "
        "the grid centres; colour = model family (the same in every figure); a red note gives the share of points "
        "outside the full view, or says the samples are missing.")


@section("e1")
def build_e1(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    priors = ctx.prior_rows(exp)
    if rows.empty and priors.empty:
        return sec
    for dataset in exp["datasets"]:
        sec.figures.append(scatter_figure(ctx, fid, exp, dataset, rows[rows["dataset"] == dataset]))
    floor = floor_rows(ctx.config, ctx.inputs.reference, exp["datasets"])
    if not floor.empty:
        sec.figures.append(floor_figure(ctx, fid, rows, floor))
        sec.notes += floor_notes(rows, floor)
    best = pd.concat([floor, priors, at_best_setting(rows)])
    summary = verdict_table(ctx, fid)
    sec.summarise(wide_table(ctx, best, "Each model at its best-quality setting (the one drawn above), the priors, "
                                        f"and the data's own floor ('{FLOOR_MODEL}': {FLOOR_DRAWS} independent draws "
                                        "of the true distribution at the same N, scored against the same reference "
                                        "set; one 'seed' per draw): RW-1WD, 1WD and mass error over seeds.",
                             metrics=E1_METRICS))
    if summary is not None:
        sec.summarise(summary)
    sec.tables.append(wide_table(
        ctx, pd.concat([priors, rows]),
        "RW-1WD (local-shape units), 1WD (data units) and region mass error over seeds; the 95% interval is the "
        "t-interval of the mean. Priors are sampled directly (no denoising step).", metrics=E1_METRICS))
    sec.tables.append(paired_table(
        ctx, rows,
        "Seed-paired RW-1WD difference, RPD-family model minus the DDPM-family model, at equal dataset, size, "
        "sampler, K and seed. Negative favours RPD; 'RPD wins' counts seeds with a lower RPD RW-1WD."))
    # every 2D model of the suite (E3, E4, E7, E8 runs too), so each model's sanity is shown once in full
    points = ctx.metrics[[not ctx.is_image(d) for d in ctx.metrics["dataset"]]]
    sec.tables.append(sanity_table(ctx, points[points["metric"].isin(SANITY_METRICS)]))
    return sec


def floor_figure(ctx: Context, fid: str, rows: pd.DataFrame, floor: pd.DataFrame) -> Figure:
    """RW-1WD against K per sampler, with the data floor as a grey reference line."""
    rw = rows[rows["metric"] == "rw1wd"]
    many_sizes = rw["size"].nunique() > 1
    s = line_data(ctx, rw, ["dataset", "model", "family", "size", "sampler", "steps"],
                  lambda r: f"{r['dataset']}, {r['sampler']} sampler",
                  lambda r: f"{r['model']} ({F.FAMILY_LABELS.get(r['family'], r['family'])})"
                            + (f", {r['size']}" if many_sizes else ""), ["size", "sampler", "steps"])
    s = pd.concat([s, floor_series(floor, s, "rw1wd", "steps")], ignore_index=True)
    path, src = ctx.figure_path(F.figure_name(fid, "rw1wd-vs-K-floor"))
    F.metric_lines(path, s, "steps", F.STEPS_LABEL, F.RW1WD_LABEL, share_y=False)
    return Figure(src, "RW-1WD against K with the data floor",
                  "RW-1WD (local-shape units) against the number of inference steps K, mean over seeds with 95% "
                  f"t-interval error bars, one panel per sampler. The flat black line is the data's own floor: "
                  f"{FLOOR_DRAWS} independent draws of the true distribution at the same N scored against the same "
                  "reference set (mean and t-interval over draws); no model can be expected below it.")


def floor_notes(rows: pd.DataFrame, floor: pd.DataFrame) -> list[str]:
    """Per dataset: the floor and each RPD-family model's best RW-1WD as a multiple of it."""
    notes = []
    for dataset, f in floor[floor["metric"] == "rw1wd"].groupby("dataset"):
        mean, _, n, lo, hi = t_interval(f["value"])
        text = f"{dataset}: the data floor of RW-1WD is {fmt(mean, 3)} (95% interval [{fmt(lo, 3)}, {fmt(hi, 3)}], {n} draws)"
        rw = rows[(rows["dataset"] == dataset) & (rows["metric"] == "rw1wd") & (rows["family"] == "rpd")]
        for (model, size), g in rw.groupby(["model", "size"], sort=False):
            sampler, k = headline_pair(g)
            value = float(g.loc[(g["sampler"] == sampler) & (g["steps"] == k), "value"].mean())
            text += (f"; {model}-{size} at its best-quality setting ({sampler} sampler, K = {k}) scores "
                     f"{fmt(value, 3)}, {value / mean:.2f}× the floor")
        notes.append(text + ".")
    return notes
