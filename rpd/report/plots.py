"""Figures shared by several sections: metric against K, image galleries and 2D sample grids.

Each function reads what it draws through the loader (:class:`rpd.report.inputs.ReportInputs`), draws with
:mod:`rpd.report.figures` and returns the :class:`~rpd.report.document.Figure` with its caption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.data.grid import grid_centres
from rpd.report import figures as F
from rpd.report.context import Context
from rpd.report.document import Figure
from rpd.report.inputs import images, points
from rpd.report.sizes import size_ranker
from rpd.report.stats import summarise
from rpd.report.verdicts import few_step_sampler, first_size, headline_pair

#: Metrics shown as figures, in this order (mass error stays in tables: it is a diagnostic of RW-1WD).
FIGURE_METRICS = ("kid", "cw1wd", "rw1wd", "1wd")
GALLERY_COLUMNS = 8


def figure_metrics(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric, extractor) pairs present in ``frame`` worth a figure, in :data:`FIGURE_METRICS` order."""
    ext = frame["extractor"] if "extractor" in frame else pd.Series("", index=frame.index)
    present = list(dict.fromkeys(zip(frame["metric"], ext)))
    return sorted([p for p in present if p[0] in FIGURE_METRICS], key=lambda p: (FIGURE_METRICS.index(p[0]), p[1]))


def only(frame: pd.DataFrame, metric: str, extractor: str) -> pd.DataFrame:
    """The rows of one metric (and KID extractor)."""
    rows = frame[frame["metric"] == metric]
    if extractor and "extractor" in rows:
        rows = rows[rows["extractor"] == extractor]
    return rows


def extractor_note(extractor: str) -> str:
    return f" [KID features: {extractor}]" if extractor else ""


def few_pair(frame: pd.DataFrame) -> tuple[str, int] | None:
    """The few-step setting: the few-step sampler at its smallest K."""
    sampler = few_step_sampler(frame)
    if sampler is None:
        return None
    return sampler, int(frame.loc[frame["sampler"] == sampler, "steps"].min())


def line_data(ctx: Context, frame: pd.DataFrame, keys: list[str], panel, line, sort: list[str]) -> pd.DataFrame:
    """Mean and interval per ``keys`` with ``panel`` / ``line`` labels (functions of a record), in report order.

    Models in family order, then ``sort``; a size in ``sort`` orders largest network first (per dataset and model).
    """
    s = summarise(frame.drop(columns=["extractor"], errors="ignore"), keys)
    if s.empty:
        return s
    models = ctx.ordered_models(s["model"].unique())
    size_rank = size_ranker(frame, [k for k in ("dataset", "model") if k in keys])
    s = s.assign(_m=[models.index(m) for m in s["model"]])
    if "size" in s:
        s = s.assign(_s=[size_rank(r) for r in s.to_dict("records")])
    s = s.sort_values(["_m", *["_s" if c == "size" else c for c in sort]])
    records = s.to_dict("records")
    return s.assign(panel=[panel(r) for r in records], line=[line(r) for r in records])


def steps_figures(ctx: Context, fid: str, rows: pd.DataFrame, what: str) -> list[Figure]:
    """Per metric: mean (95% interval) against K, one line per model (and size), one panel per dataset and sampler."""
    figures = []
    rows = rows[~rows["sampler"].isin(["prior", "train"])]
    many_datasets, many_sizes = rows["dataset"].nunique() > 1, rows["size"].nunique() > 1
    for metric, ext in figure_metrics(rows):
        sub = only(rows, metric, ext)
        s = line_data(ctx, sub, ["dataset", "model", "family", "size", "sampler", "steps"],
                      lambda r: (f"{r['dataset']}, " if many_datasets else "") + f"{r['sampler']} sampler",
                      lambda r: f"{r['model']} ({F.FAMILY_LABELS.get(r['family'], r['family'])})"
                                + (f", {r['size']}" if many_sizes else ""), ["size", "sampler", "steps"])
        label = ctx.metric_label(metric, sub["dataset"].unique())
        path, src = ctx.figure_path(F.figure_name(fid, metric, ext, "vs-K"))
        F.metric_lines(path, s, "steps", F.STEPS_LABEL, label, share_y=False)
        figures.append(Figure(
            src, f"{label} against K{extractor_note(ext)}",
            f"{label}{extractor_note(ext)} against the number of inference steps K ({what}); mean over "
            f"{sub['seed'].nunique()} seed(s) with 95% t-interval error bars (none with one seed). Log x axis: K "
            "spans decades. Colour = model family, the same in every figure."))
    return figures


def gallery_rows(x: np.ndarray, y: np.ndarray | None, classes: list | None) -> tuple[list[list[np.ndarray]], list[str]]:
    """Class rows (first samples of each class) when labels exist, else rows of the first samples."""
    if y is not None and classes:
        rows = [[x[i] for i in np.flatnonzero(y == c)[:GALLERY_COLUMNS]] for c in classes]
        return rows, [f"class {c}" for c in classes]
    n = min(len(x), 2 * GALLERY_COLUMNS)
    starts = range(0, n, GALLERY_COLUMNS)
    return ([[x[i] for i in range(j, min(j + GALLERY_COLUMNS, n))] for j in starts],
            [f"samples {j + 1}–{min(j + GALLERY_COLUMNS, n)}" for j in starts])


def _classes(ctx: Context, dataset: str) -> list | None:
    ref = images(ctx.inputs.reference(dataset))
    return sorted(set(ref[1].tolist())) if ref is not None and ref[1] is not None else None


def image_gallery(ctx: Context, fid: str, dataset: str, model: str, size: str,
                  pairs: list[tuple[str, int]]) -> list[Figure]:
    """One image grid per (sampler, K) of a model's own samples: class rows for labelled data (seed ctx.seed)."""
    figures = []
    classes, fam = _classes(ctx, dataset), ctx.family(model)
    for sampler, k in pairs:
        loaded = images(ctx.inputs.samples_of(ctx.run(dataset, model, size, ctx.seed), sampler, k))
        if loaded is None:
            continue
        rows, labels = gallery_rows(*loaded, classes)
        path, src = ctx.figure_path(F.figure_name(fid, "gallery", dataset, model, size, sampler, k))
        what = "prior samples" if sampler == "prior" else f"{sampler} sampler, K = {k}"
        F.image_grid(path, rows, labels, f"{model}-{size}: {what}", F.family_colour(fam))
        figures.append(Figure(
            src, f"Samples of {model}-{size}, {what}",
            f"{dataset}: samples of {model}-{size} ({F.FAMILY_LABELS.get(fam, fam)}), {what}, seed {ctx.seed}; "
            + ("one row per class, the first samples generated for it." if classes and loaded[1] is not None
               else "the first samples in file order.")))
    return figures


def reference_gallery(ctx: Context, fid: str, dataset: str) -> list[Figure]:
    """The held-out reference images of a dataset, as a gallery like the models'."""
    ref = images(ctx.inputs.reference(dataset))
    if ref is None:
        return []
    classes = sorted(set(ref[1].tolist())) if ref[1] is not None else None
    rows, labels = gallery_rows(*ref, classes)
    path, src = ctx.figure_path(F.figure_name(fid, "gallery", dataset, "reference"))
    F.image_grid(path, rows, labels, "real (held-out reference)", F.family_colour("reference"))
    return [Figure(src, f"Reference images of {dataset}", f"{dataset}: held-out reference images"
                   + (", one row per class." if classes else "."))]


def full_window(grid: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """The view that holds every grid cell (centres 1 apart around 0)."""
    half = (grid - 1) / 2 + 0.5
    return (-half, half), (-half, half)


def points_by_steps(ctx: Context, fid: str, dataset: str, models: list[str], size: str, sampler: str,
                    ks: list[int]) -> Figure:
    """2D: a scatter grid, one row per model, one column per K, for one sampler (seed ctx.seed)."""
    grid = int(ctx.config["datasets"][dataset].get("grid", 4))
    centres, window = grid_centres(grid), full_window(grid)
    panels = [[F.ScatterPanel(f"{m}, K={k}", points(ctx.inputs.samples_of(ctx.run(dataset, m, size, ctx.seed),
                                                                          sampler, k)),
                              F.family_colour(ctx.family(m)), *window, centres=centres) for k in ks] for m in models]
    path, src = ctx.figure_path(F.figure_name(fid, "scatter-by-K", dataset, size, sampler))
    F.scatter_grid(path, panels, [f"{m}-{size}" for m in models])
    return Figure(src, f"Samples on {dataset} against K ({sampler} sampler)",
                  f"{dataset}: samples of seed {ctx.seed}, {sampler} sampler; rows = models at size {size}, columns "
                  f"= K. Colour = model family; grey + marks the grid centres.")


def gallery(ctx: Context, fid: str, exp: dict, rows: pd.DataFrame, models: list[str], max_k: int = 4) -> list[Figure]:
    """Sample galleries of an experiment: per dataset, its models at several K (images or 2D points)."""
    figures: list[Figure] = []
    size = first_size(exp, rows)
    for dataset in exp["datasets"]:
        sub = rows[(rows["dataset"] == dataset) & (rows["size"] == size)]
        sampler = few_step_sampler(sub)
        if sampler is None:
            continue
        ks = sorted(set(sub.loc[sub["sampler"] == sampler, "steps"].astype(int)))
        ks = ks if len(ks) <= max_k else [ks[0], ks[1], ks[len(ks) // 2], ks[-1]]
        if ctx.is_image(dataset):
            figures += reference_gallery(ctx, fid, dataset)
            for m in models:
                figures += image_gallery(ctx, fid, dataset, m, size, [(sampler, k) for k in ks])
        else:
            figures.append(points_by_steps(ctx, fid, dataset, models, size, sampler, ks))
    return figures


def headline_and_few(frame: pd.DataFrame) -> list[tuple[str, int]]:
    """The best-quality and the few-step settings present in ``frame`` (without repeats)."""
    return list(dict.fromkeys(p for p in (headline_pair(frame), few_pair(frame)) if p is not None))


def at_best_setting(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of each (dataset, model, size) at its best-quality setting (:func:`headline_pair`)."""
    parts = []
    for _, g in rows.groupby(["dataset", "model", "size"], sort=False):
        pair = headline_pair(g)
        parts.append(g[[(s, int(k)) == pair for s, k in zip(g["sampler"], g["steps"])]])
    return pd.concat(parts) if parts else rows.iloc[:0]
