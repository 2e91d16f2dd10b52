"""E4 auxiliary variable (claim C4, paper Fig. 7): training loss against iteration per auxiliary input."""

from __future__ import annotations

import pandas as pd

from rpd.report import figures as F
from rpd.report.context import Context, ordered_sizes, start_section
from rpd.report.document import Figure, Section, section
from rpd.report.stats import Side, Test, run_test, t_interval
from rpd.report.tables import outcome_table, verdict_table, wide_table


def in_experiment(frame: pd.DataFrame, exp: dict) -> pd.DataFrame:
    return frame[frame["dataset"].isin(exp["datasets"]) & frame["model"].isin(exp["models"])
                 & frame["size"].isin(exp["sizes"])]


def loss_figure(ctx: Context, fid: str, losses: pd.DataFrame, aux: dict[str, str]) -> Figure:
    curves = []
    for (dataset, model, family, size, step), g in losses.groupby(["dataset", "model", "family", "size", "step"]):
        mean, sd, _, _, _ = t_interval(g["loss"])
        curves.append({"panel": f"{dataset}, size {size}", "line": f"{model} (aux {aux.get(model, '—')})",
                       "model": model, "family": family, "step": step, "mean": mean, "sd": sd})
    curves = pd.DataFrame(curves)
    order = ctx.ordered_models(curves["model"].unique())
    curves = curves.assign(_m=[order.index(m) for m in curves["model"]]).sort_values(["_m", "step"])
    path, src = ctx.figure_path(F.figure_name(fid, "loss-vs-iteration"))
    F.loss_curves(path, curves, "training loss (MSE of the target, log scale)")
    return Figure(
        src, "Training loss against iteration",
        "Training loss (mean of the logged window) against the optimiser step, mean over seeds with a ± 1 sd band "
        "(none with one seed; the seed-paired test is in the table), per auxiliary input of the network: ω "
        "(omega), μ̂ alone (mu) or none. Same target and schedule for all, so the losses are comparable.")


@section("e4")
def build_e4(ctx: Context, fid: str, exp: dict) -> Section:
    sec, rows = start_section(ctx, fid, exp)
    losses = in_experiment(ctx.losses, exp)
    if rows.empty and losses.empty:
        return sec
    aux = {m: ctx.config["models"].get(m, {}).get("aux", "—") for m in exp["models"]}
    if not losses.empty:
        sec.figures.append(loss_figure(ctx, fid, losses, aux))
    sec.notes.append("The pipeline evaluates the final checkpoint only, so the metric is shown at the end of "
                     "training (table), not against iteration; the loss curve carries the 'falls faster' part.")
    rpd = ctx.models_of(exp["models"], "rpd")
    omega = [m for m in rpd if aux.get(m) == "omega"]
    others = [m for m in rpd if aux.get(m) in ("mu", "none")]
    outcomes = [run_test(ctx.train_metrics, Test("train_loss_mean", Side(a, {"model": a}), Side(b, {"model": b}),
                                                 {"dataset": d, "size": z, "sampler": "train"}))
                for d in exp["datasets"] for z in ordered_sizes(exp["sizes"]) for a in omega for b in others]
    summary = verdict_table(ctx, fid)
    if summary is not None:
        sec.summarise(summary)
    if outcomes:
        sec.summarise(outcome_table("ω against μ̂ / none: seed-paired difference of the mean training loss "
                                    "(lower = falls faster).", outcomes))
    sec.tables.append(wide_table(ctx, pd.concat([rows, in_experiment(ctx.train_metrics, exp)]),
                                 "Mean training loss (sampler 'train') and final metrics per model, sampler and K "
                                 "over seeds."))
    return sec
