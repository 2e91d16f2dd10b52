"""Derived tables from the tidy metrics (torch-free): the few-step study of E2 and the E8 Methods text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ELBO_METHODS = Path(__file__).resolve().parent / "report" / "elbo_methods.md"
STEP_KEYS = ["dataset", "model", "size", "sampler", "metric"]


def fewest_steps_within(metrics: pd.DataFrame, metric: str, tolerance: float = 0.1,
                        reference_steps: int = 1000) -> pd.DataFrame:
    """Per (dataset, model, size, sampler): the fewest K whose metric is within ``tolerance`` of the sampler's own
    value at K = ``reference_steps`` (or at its largest K when that K was not drawn).

    Values are first averaged over seeds. "Within" is |m(K) − m(ref)| ≤ tolerance · |m(ref)|, the first K in
    increasing order that satisfies it (the reference K always does). Columns: the keys, ``reference_steps``
    (the K used), ``reference_value``, ``fewest_steps``, ``value_at_fewest`` and ``steps_available``.
    """
    if metric not in set(metrics["metric"]):
        raise ValueError(f"metric={metric!r} is not in the table; available: {sorted(set(metrics['metric']))}")
    if tolerance < 0:
        raise ValueError(f"tolerance={tolerance}; must be ≥ 0")
    rows = metrics[(metrics["metric"] == metric) & ~metrics["sampler"].isin(["prior", "bound"])]
    means = rows.groupby(STEP_KEYS + ["steps"], sort=True)["value"].mean().reset_index()
    out = []
    for keys, group in means.groupby(STEP_KEYS, sort=True):
        group = group.sort_values("steps")
        steps = group["steps"].astype(int).tolist()
        ref_k = reference_steps if reference_steps in steps else max(steps)
        ref = float(group.loc[group["steps"] == ref_k, "value"].iloc[0])
        close = group[(group["value"] - ref).abs() <= tolerance * abs(ref)]
        first = close.iloc[0]
        out.append({**dict(zip(STEP_KEYS, keys)), "reference_steps": ref_k, "reference_value": ref,
                    "fewest_steps": int(first["steps"]), "value_at_fewest": float(first["value"]),
                    "steps_available": ",".join(map(str, steps))})
    return pd.DataFrame(out, columns=STEP_KEYS + ["reference_steps", "reference_value", "fewest_steps",
                                                  "value_at_fewest", "steps_available"])


BOUND_ORDER = ["elbo", "elbo_latent", "elbo_diffusion", "elbo_terminal", "elbo_decoder", "j2"]


def elbo_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The E8 table in long form: per (dataset, model, family, size, metric) of the ``bound`` rows, the mean over
    seeds, ``se`` = √Σ se_k² / seeds (the estimation error of that mean for the trained models), ``sd_seeds``
    (the spread over seeds, NaN for one seed), ``seeds`` and ``unit``. Metrics in :data:`BOUND_ORDER` order.
    """
    rows = metrics[metrics["sampler"] == "bound"].copy()
    if rows.empty:
        raise ValueError("no rows with sampler 'bound' in the table: run experiment e8 (rule elbo) first")
    keys = ["dataset", "model", "family", "size", "metric"]
    rows["se2"] = pd.to_numeric(rows["se"], errors="coerce") ** 2
    grouped = rows.groupby(keys, sort=True)
    # A seed without its se makes the pooled se unknown (NaN, shown as "—"): a plain sum would count it as 0.
    out = grouped.agg(mean=("value", "mean"), sd_seeds=("value", "std"), seeds=("value", "count"),
                      se2=("se2", lambda v: v.sum(min_count=len(v))), unit=("unit", "first")).reset_index()
    out["se"] = out.pop("se2") ** 0.5 / out["seeds"]
    out["metric"] = pd.Categorical(out["metric"], BOUND_ORDER, ordered=True)
    out = out.sort_values(["dataset", "size", "model", "metric"]).reset_index(drop=True)
    out["metric"] = out["metric"].astype(str)
    return out[keys + ["mean", "se", "sd_seeds", "seeds", "unit"]]


def elbo_methods_markdown() -> str:
    """The Methods text of E8 (the bound, its terms, J₂ and the samplers) as Markdown."""
    return ELBO_METHODS.read_text(encoding="utf-8")
