"""C4 (paper Fig. 7): giving the network ω makes the loss and the metric fall faster over training than μ̂ alone.

The evidence is E4's rows: per run the metric of each EMA snapshot taken during training (sampler ``progress``,
K = the iteration; :mod:`rpd.progress`) and the mean logged training loss (sampler ``train``, from losses.npz).
Decision rule (also in the report's Methods): per dataset of E4, the seed-paired log ratio ω / μ̂ of the
*area under the log-metric curve* — the geometric mean of the metric over the snapshots, exp(∫ log m(i) di / span)
by the trapezoid rule — must have its 95% interval below 1 (ω lower over training), and the mean training loss
must be lower (paired difference below 0). Guard: ω's metric at the last snapshot (the final model) is not
clearly worse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.report import verdicts as V
from rpd.report.sanity import SNAPSHOT_SAMPLERS
from rpd.runs import excluded

#: The rows' sampler of the snapshot scores (rpd.progress.PROGRESS_SAMPLER) and that of the derived per-run
#: area rows; the sanity gate maps both to the sampler the snapshots are drawn with (rpd.report.sanity).
PROGRESS, AREA = SNAPSHOT_SAMPLERS
#: The metric C4 is judged on, first present wins (positive, lower is better, so the log area exists; KID is
#: not computed for snapshots).
PROGRESS_METRICS = ("rw1wd", "cw1wd", "1wd")
RUN_KEYS = ["dataset", "model", "size", "seed", "metric"]


def log_area(iterations: np.ndarray, values: np.ndarray) -> float:
    """exp of the trapezoid mean of log(value) over the iterations: the geometric mean of the curve.

    A non-finite or non-positive value makes the area +inf, which decides the seed against its model (SPEC §7).
    """
    if len(values) == 0:
        return float("nan")
    if not (np.isfinite(values).all() and (values > 0).all()):
        return float("inf")
    if len(values) == 1:
        return float(values[0])
    order = np.argsort(iterations)
    x, y = np.asarray(iterations, float)[order], np.log(np.asarray(values, float)[order])
    return float(np.exp(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0])))


def area_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per run and metric with the log-area of its snapshot curve (sampler ``progress-area``, K = the
    last snapshot's iteration)."""
    p = metrics[metrics["sampler"] == PROGRESS]
    out = []
    for key, g in p.groupby(RUN_KEYS, sort=False):
        out.append({**dict(zip(RUN_KEYS, key)), "sampler": AREA, "steps": int(g["steps"].max()),
                    "value": log_area(g["steps"].to_numpy(), pd.to_numeric(g["value"]).to_numpy())})
    return pd.DataFrame(out, columns=RUN_KEYS + ["sampler", "steps", "value"]).astype({"value": float})


def progress_metric(metrics: pd.DataFrame, dataset: str) -> str | None:
    """The metric C4 is judged on for ``dataset``: the first of :data:`PROGRESS_METRICS` with snapshot rows."""
    present = set(metrics.loc[(metrics["dataset"] == dataset) & (metrics["sampler"] == PROGRESS), "metric"])
    return next((m for m in PROGRESS_METRICS if m in present), None)


def sides(cfg: dict, exp: dict, dataset: str) -> tuple[str, str] | None:
    """(ω model, baseline) on ``dataset``: the first RPD model with aux ω that the experiment runs there, against
    one of the same target with μ̂ alone (else no auxiliary input). Datasets may differ through ``exclude``: e.g.
    ε-prediction on 2D, v-prediction on images, where the ε-models are not fit to judge at a short training."""
    def here(**settings: tuple[object, object]) -> list[str]:
        return [m for m in V._family_models(cfg, exp, "rpd", **settings) if not excluded(exp, dataset, m)]

    for omega in here(aux=("omega", "omega")):
        target = (cfg["models"][omega].get("target", "eps"), "eps")
        base = here(aux=("mu", "omega"), target=target) or here(aux=("none", "omega"), target=target)
        if base:
            return omega, base[0]
    return None


def c4_tests(cfg: dict, metrics: pd.DataFrame, exp: dict) -> tuple[list[V.Outcome], list[V.Outcome]]:
    """(deciding, guards) of C4 on every dataset of E4 (the tables of section E4 show the same outcomes)."""
    m_all = V.experiment_frame(cfg, metrics, exp, extra_samplers=("train", PROGRESS))
    deciding, guards = [], []
    for dataset in exp["datasets"]:
        pair = sides(cfg, exp, dataset)
        if pair is None:
            continue
        m = m_all[(m_all["dataset"] == dataset) & m_all["model"].isin(pair)]
        size = V.first_size(exp, m)
        m = m[m["size"] == size]
        areas = area_rows(m)
        rows = pd.concat([m, areas], ignore_index=True) if len(areas) else m
        omega, base = (V.Side(x, {"model": x}) for x in pair)
        metric = progress_metric(m, dataset)
        where = {"dataset": dataset, "size": size}
        if metric is not None:
            deciding.append(V.run_test(rows, V.Test(metric, omega, base, {**where, "sampler": AREA})))
            last = int(m.loc[m["sampler"] == PROGRESS, "steps"].max())
            guards.append(V.run_test(rows, V.Test(metric, omega, base,
                                                  {**where, "sampler": PROGRESS, "steps": last})))
        if (m["metric"] == "train_loss_mean").any():
            deciding.append(V.run_test(rows, V.Test("train_loss_mean", omega, base, {**where, "sampler": "train"})))
    return deciding, guards


def judge_c4(cfg: dict, metrics: pd.DataFrame, exp: dict) -> V.Verdict:
    deciding, guards = c4_tests(cfg, metrics, exp)
    if not deciding:
        return V._not_run("C4", "E4 needs RPD models with aux omega and aux mu (or none) with results (snapshot "
                                "scores or training-loss rows)")
    return V.combine("C4", "e4", V.CLAIMS["C4"][1], deciding, guards)
