"""Whether the models a claim rests on are fit to judge: the sanity rows and the gate on verdicts (SPEC §7).

Evaluation writes, per model and (sampler, K), the share of raw sample values outside the data range
(``out_of_range``) and, on class-conditional data, the KID feature net's accuracy on the samples
(``class_accuracy``) and its ratio to the net's accuracy on real held-out images (``class_accuracy_ratio``;
rpd.evaluate). A model is *fit* with a sampler when its samples at every K ≥ ``sanity.min_steps`` meet the
suite's thresholds (config key ``sanity``); few-step samples are the claims' subject and are not gated.
A claim whose deciding tests rest on an unfit model is shown as :data:`~rpd.report.stats.UNFIT`.
No torch, no file access.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from rpd.config import modality
from rpd.evaluate import SANITY_METRICS  # defined where the rows are written
from rpd.progress import PROGRESS_SAMPLER, PROGRESS_SAMPLING
from rpd.report.stats import Outcome, select

#: The schema's defaults of the config key ``sanity`` (for configs that were not validated).
DEFAULT_THRESHOLDS = {"max_out_of_range": 0.05, "min_accuracy_ratio": 0.5, "min_steps": 10}
KEYS = ["dataset", "model", "size", "sampler", "steps"]
#: Rows that are not a sampler's output at K steps: training snapshots (E4's ``progress``, K = the iteration),
#: training-loss and bound rows. Their sanity is not a model's fitness to judge.
NOT_SAMPLERS = ("progress", "train", "bound")
#: E4's snapshot rows and the per-run area over them (rpd.report.judges.aux_input): tests on these rest on the
#: final model drawn with the snapshots' sampler (rpd.progress.PROGRESS_SAMPLING), so that sampler's rows gate them.
SNAPSHOT_SAMPLERS = (PROGRESS_SAMPLER, f"{PROGRESS_SAMPLER}-area")


def thresholds(cfg: Mapping) -> dict:
    return {**DEFAULT_THRESHOLDS, **(cfg.get("sanity") or {})}


def sanity_rows(metrics: pd.DataFrame, cfg: Mapping) -> pd.DataFrame:
    """Per (dataset, model, size, sampler, K): seed means of the sanity metrics, seeds, and whether it passes.

    ``gated`` says whether K ≥ min_steps (only those rows decide fitness); ``passes`` is the thresholds' verdict
    (always computed, so a reader sees few-step rows too); ``why`` names the failed threshold.
    """
    cols = KEYS + ["seeds", *SANITY_METRICS, "worst_out_of_range", "gated", "passes", "why"]
    m = metrics[metrics["metric"].isin(SANITY_METRICS) & ~metrics["sampler"].isin(NOT_SAMPLERS)]
    if m.empty:
        return pd.DataFrame(columns=cols)
    t = thresholds(cfg)
    wide = m.pivot_table(index=KEYS + ["seed"], columns="metric", values="value", aggfunc="mean").reset_index()
    out = []
    for key, g in wide.groupby(KEYS, sort=True):
        rec = dict(zip(KEYS, key), seeds=int(g["seed"].nunique()))
        for metric in SANITY_METRICS:
            rec[metric] = float(g[metric].mean()) if metric in g else np.nan
        rec["worst_out_of_range"] = float(g["out_of_range"].max()) if "out_of_range" in g else np.nan
        why = []
        if np.isfinite(rec["out_of_range"]) and not rec["out_of_range"] <= t["max_out_of_range"]:
            why.append(f"{rec['out_of_range']:.1%} of values outside the data range (max {t['max_out_of_range']:.0%})")
        ratio = rec["class_accuracy_ratio"]
        if np.isfinite(ratio) and not ratio >= t["min_accuracy_ratio"]:
            why.append(f"class accuracy on samples {ratio:.2f}× that on real images (min {t['min_accuracy_ratio']:g}×)")
        rec.update(gated=int(key[-1]) >= t["min_steps"], passes=not why, why="; ".join(why))
        out.append(rec)
    return pd.DataFrame(out, columns=cols)


def unfit(rows: pd.DataFrame, filters: Mapping[str, object]) -> list[str]:
    """The failures of the gated rows matching ``filters``, as 'model-size sampler K=k: why'."""
    sub = select(rows, {k: v for k, v in filters.items() if k in rows.columns})
    sub = sub[sub["gated"] & ~sub["passes"]]
    return [f"{r.model}-{r.size} {r.sampler} K={int(r.steps)}: {r.why}" for r in sub.itertuples()]


def snapshot_samplers(cfg: Mapping) -> dict[str, str]:
    """Per dataset of the suite, the sampler its training snapshots are drawn with (rpd.progress)."""
    return {name: PROGRESS_SAMPLING[modality(spec)][0] for name, spec in (cfg.get("datasets") or {}).items()}


def outcome_failures(rows: pd.DataFrame, outcome: Outcome, snapshot_sampler: Mapping[str, str] | None = None
                     ) -> list[str]:
    """Failures of the models on either side of a test, with the test's sampler at every gated K.

    A test on training snapshots (C4) is gated on the final models drawn with the snapshots' sampler
    (``snapshot_sampler``: dataset → sampler, :func:`snapshot_samplers`); tests without a sampler (the bound,
    training loss) are not about samples and have no failures.
    """
    where = dict(outcome.test.where)
    if where.get("sampler") in SNAPSHOT_SAMPLERS:
        where["sampler"] = (snapshot_sampler or {}).get(where.get("dataset"))
    if where.get("sampler") is None or where["sampler"] in ("prior", *NOT_SAMPLERS):
        return []
    where.pop("steps", None)  # fitness is judged at every K ≥ min_steps of the same sampler
    out: list[str] = []
    for side in (outcome.test.challenger, outcome.test.baseline):
        out += [f for f in unfit(rows, {**where, **side.filters}) if f not in out]
    return out
