"""E4 auxiliary variable (claim C4, paper Fig. 7): the metric and the training loss against iteration, per
auxiliary input of the network (ω, μ̂ alone, or none), the network's main input being x_t in data space."""

from __future__ import annotations

import pandas as pd

from rpd.progress import PROGRESS_SAMPLING
from rpd.report import figures as F
from rpd.report import verdicts as V
from rpd.report.context import Context, start_section
from rpd.report.document import Figure, Section, section
from rpd.report.judges.aux_input import AREA, PROGRESS, area_rows, c4_tests, progress_metric
from rpd.report.stats import t_interval
from rpd.report.tables import outcome_table, verdict_table, wide_table

#: One line style per auxiliary input, the same on every panel (2D and images use different models for each).
AUX_LINESTYLES = {"omega": "-", "mu": "--", "none": ":"}


def in_experiment(frame: pd.DataFrame, exp: dict) -> pd.DataFrame:
    return frame[V.in_experiment(frame, exp)] if len(frame) else frame


def _curves(ctx: Context, frame: pd.DataFrame, value: str, aux: dict[str, str]) -> pd.DataFrame:
    """Mean and sd over seeds per (dataset, model, size, step) of ``value``, in loss_curves' columns."""
    curves = []
    for (dataset, model, size, step), g in frame.groupby(["dataset", "model", "size", "step"]):
        mean, sd, _, _, _ = t_interval(g[value])
        curves.append({"panel": f"{dataset}, size {size}", "line": f"{model} (aux {aux.get(model, '—')})",
                       "model": model, "family": ctx.family(model), "step": step, "mean": mean, "sd": sd,
                       "linestyle": AUX_LINESTYLES.get(aux.get(model, "—"), ":")})
    curves = pd.DataFrame(curves)
    order = ctx.ordered_models(curves["model"].unique())
    return curves.assign(_m=[order.index(m) for m in curves["model"]]).sort_values(["_m", "step"])


def loss_figure(ctx: Context, fid: str, losses: pd.DataFrame, aux: dict[str, str]) -> Figure:
    path, src = ctx.figure_path(F.figure_name(fid, "loss-vs-iteration"))
    F.loss_curves(path, _curves(ctx, losses, "loss", aux), "training loss (MSE of the target, log scale)")
    return Figure(
        src, "Training loss against iteration",
        "Training loss (mean of the logged window) against the optimiser step, mean over seeds with a ± 1 sd band, "
        "per auxiliary input of the network: ω (omega), μ̂ alone (mu) or none. The network's main input is x_t in "
        "data space for all; same target and schedule, so the losses are comparable.")


def metric_figure(ctx: Context, fid: str, snapshots: pd.DataFrame, dataset: str, metric: str,
                  aux: dict[str, str]) -> Figure:
    rows = snapshots[(snapshots["dataset"] == dataset) & (snapshots["metric"] == metric)]
    curves = _curves(ctx, rows.rename(columns={"steps": "step"}), "value", aux)
    path, src = ctx.figure_path(F.figure_name(fid, "metric-vs-iteration", dataset, metric))
    label = ctx.metric_label(metric, [dataset])
    F.loss_curves(path, curves, f"{label}, log scale")
    sampler, k = PROGRESS_SAMPLING["images" if ctx.is_image(dataset) else "points"]
    return Figure(
        src, f"{label} against training iteration ({dataset})",
        f"The metric of the EMA weights kept at evenly spaced iterations of each training run (the last is the final "
        f"model), each sampled with {sampler} at K = {k} (N = the dataset's evaluation N), mean over seeds with a "
        "± 1 sd band. C4 is decided on the area under the log-metric curve (the geometric mean over the snapshots).")


@section("e4")
def build_e4(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    losses = in_experiment(ctx.losses, exp)
    snapshots = in_experiment(ctx.metrics[ctx.metrics["sampler"] == PROGRESS], exp)
    if rows.empty and losses.empty and snapshots.empty:
        return sec
    if not snapshots.empty:
        sec.notes = [n for n in sec.notes if "no rows" not in n]
    aux = {m: ctx.config["models"].get(m, {}).get("aux", "—") for m in exp["models"]}
    for dataset in exp["datasets"]:
        metric = progress_metric(snapshots, dataset) if not snapshots.empty else None
        if metric is not None:
            sec.figures.append(metric_figure(ctx, fid, snapshots, dataset, metric, aux))
    if not losses.empty:
        sec.figures.append(loss_figure(ctx, fid, losses, aux))
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    deciding, guards = c4_tests(ctx.config, pd.concat([ctx.metrics, ctx.train_metrics], ignore_index=True), exp)
    if deciding or guards:
        sec.tables.append(outcome_table(
            "ω against μ̂ alone (or none), seed-paired: the area under the log-metric curve (sampler "
            f"'{AREA}': the geometric mean of the metric over the snapshots, shown as a ratio), the mean training "
            "loss (sampler 'train', difference) and the metric of the last snapshot (the final model).",
            deciding + guards))
    scored = pd.concat([snapshots, area_rows(snapshots).assign(family=lambda f: [ctx.family(m) for m in f["model"]])],
                       ignore_index=True)
    sec.tables.append(wide_table(ctx, pd.concat([scored, in_experiment(ctx.train_metrics, exp)], ignore_index=True),
                                 "The metric of each training snapshot (sampler 'progress', K = the iteration), its "
                                 f"area ('{AREA}') and the mean training loss ('train') per model, over seeds."))
    if not rows.empty:
        sec.tables.append(wide_table(ctx, rows, "Final metrics per model, sampler and K over seeds."))
    return sec
