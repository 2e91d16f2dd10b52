"""Table formatting: numbers as text, and the table kinds every section uses.

Every number comes from :mod:`rpd.report.stats` (:func:`~rpd.report.stats.summarise` for per-setting means,
:func:`~rpd.report.stats.paired_outcomes` / :func:`~rpd.report.stats.run_test` for seed-paired
differences), so a table and a verdict on the same comparison cannot disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.evaluate import RANGE_MARGIN
from rpd.report import figures as F
from rpd.report.context import Context
from rpd.report.document import STATUS_CLASS, Table
from rpd.report.sizes import size_ranker
from rpd.report.stats import (
    LOG_RATIO,
    METRIC_NAMES,
    MIN_SEEDS,
    NOT_SUPPORTED,
    SUPPORTED,
    Outcome,
    paired_outcomes,
    summarise,
)

#: The families RPD is compared with in the few-step and conditional sections (E2, E6).
BASELINE_FAMILIES = ("ddpm", "diffusevae1", "diffusevae2")
#: Column order of metrics in wide tables.
TABLE_METRIC_ORDER = ("rw1wd", "kid", "cw1wd", "1wd", "mass_error", "train_loss_mean", "elbo", "j2")


def fmt(x: float | None, digits: int = 4) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def fmt_mean_sd(mean: float, sd: float) -> str:
    if not np.isfinite(mean):
        return "—"
    return fmt(mean) if not np.isfinite(sd) else f"{fmt(mean)} ± {fmt(sd, 2)}"


def fmt_interval(lo: float, hi: float) -> str:
    return "— (1 seed)" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{fmt(lo, 3)}, {fmt(hi, 3)}]"


def fmt_effect(o: Outcome) -> str:
    """A paired test's effect as shown: '×0.85' (ratio challenger / baseline) or the mean difference."""
    effect = o.effect()[0]
    return fmt(effect) if o.scale != LOG_RATIO or not np.isfinite(effect) else f"×{fmt(effect)}"


def fmt_effect_interval(o: Outcome) -> str:
    """The effect's 95% interval, on the ratio for log-ratio tests."""
    _, lo, hi = o.effect()
    return fmt_interval(lo, hi) if o.scale != LOG_RATIO or not np.isfinite(lo) else f"[×{fmt(lo, 3)}, ×{fmt(hi, 3)}]"


def fmt_seconds(s: float) -> str:
    if not np.isfinite(s):
        return "—"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def fmt_key(key: str, value: object) -> str:
    """A key cell: K of a prior or training row is '—'; floats compact; family by its label."""
    if key == "steps" and value == 0:
        return "—"
    if key == "family":
        return F.FAMILY_LABELS.get(str(value), str(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def metric_name(metric: str, extractor: str = "") -> str:
    return METRIC_NAMES.get(metric, metric) + (f" [{extractor}]" if extractor else "")


def _ordered_groups(ctx: Context, s: pd.DataFrame, keys: list[str], has_ext: bool,
                    frame: pd.DataFrame) -> dict[tuple, dict]:
    """Summary records grouped by ``keys`` (in report order) → {(metric, extractor): record}.

    Models in family order; sizes largest first by the parameter counts of ``frame`` (the rows summarised in
    ``s``), per dataset and model.
    """
    groups: dict[tuple, dict] = {}
    for r in s.to_dict("records"):
        ext = r.get("extractor", "") if has_ext else ""
        groups.setdefault(tuple(r[k] for k in keys), {})[(r["metric"], ext)] = r
    models = ctx.ordered_models(k[keys.index("model")] for k in groups) if "model" in keys else []
    size_rank = size_ranker(frame, [k for k in ("dataset", "model") if k in keys])

    def order(k: tuple) -> tuple:
        record = dict(zip(keys, k))
        return tuple(models.index(v) if key == "model" else size_rank(record) if key == "size" else v
                     for key, v in zip(keys, k))

    return {k: groups[k] for k in sorted(groups, key=order)}


def wide_table(ctx: Context, frame: pd.DataFrame, caption: str, keys: list[str] | None = None,
               metrics: list[str] | None = None) -> Table:
    """Mean ± sd and 95% interval over seeds of each metric (all in ``frame``, or ``metrics``), one row per setting."""
    keys = keys or ["dataset", "model", "family", "size", "sampler", "steps"]
    if metrics is not None:
        frame = frame[frame["metric"].isin(metrics)]
    if frame.empty:
        return Table(caption, keys, [])
    s = summarise(frame, keys)
    has_ext = "extractor" in s and s["extractor"].astype(str).str.len().gt(0).any()
    order = metrics or sorted(dict.fromkeys(frame["metric"]), key=lambda m: (
        TABLE_METRIC_ORDER.index(m) if m in TABLE_METRIC_ORDER else 99, m))
    metric_keys = sorted(dict.fromkeys(zip(s["metric"], s["extractor"] if has_ext else [""] * len(s))),
                         key=lambda p: (order.index(p[0]), p[1]))
    cols = [c if c != "steps" else "K" for c in keys] + ["seeds"]
    numeric = [c in ("steps", "parameters", "scale") for c in keys] + [True]
    for metric, ext in metric_keys:
        cols += [f"{metric_name(metric, ext)} mean ± sd", f"{metric_name(metric, ext)} 95% interval"]
        numeric += [True, True]
    rows = []
    for k, per in _ordered_groups(ctx, s, keys, has_ext, frame).items():
        cells = [fmt_key(key, v) for key, v in zip(keys, k)]
        cells.append(str(max(int(p["seeds"]) for p in per.values())))
        for mk in metric_keys:
            p = per.get(mk)
            cells += ([fmt_mean_sd(p["mean"], p["sd"]), fmt_interval(p["lo"], p["hi"])] if p else ["—", "—"])
        rows.append(cells)
    return Table(caption, cols, rows, numeric)


def status_words(o: Outcome, better: str = "RPD better", worse: str = "baseline better") -> str:
    """A paired row's verdict in words, from the same decision as the claim judges'."""
    if o.seeds < 2 or not (np.isfinite(o.lo) and np.isfinite(o.hi)):
        return "no interval (< 2 seeds)"
    if o.seeds < MIN_SEEDS:
        return f"inconclusive (seeds: {o.seeds} < {MIN_SEEDS})"
    return {SUPPORTED: better, NOT_SUPPORTED: worse}.get(o.status, "inconclusive (interval contains 0)")


def paired_table(ctx: Context, frame: pd.DataFrame, caption: str, baseline_families: tuple[str, ...] = ("ddpm",),
                 metric: str = "rw1wd", extra: dict | None = None) -> Table:
    """Seed-paired differences of ``metric``, every RPD-family model against every baseline-family model."""
    models = frame["model"].unique()
    challengers, baselines = ctx.models_of(models, "rpd"), ctx.models_of(models, *baseline_families)
    size_rank = size_ranker(frame, ["dataset", "model"])
    outcomes = sorted(paired_outcomes(frame, challengers, baselines, metric), key=lambda o: (
        challengers.index(o.test.challenger.label), baselines.index(o.test.baseline.label), o.test.where["dataset"],
        size_rank({**o.test.where, "model": o.test.challenger.label})))  # stable: sampler and K stay sorted
    extra = extra or {}
    cols = ["dataset", *extra, "RPD model", "baseline", "size", "sampler", "K", "paired seeds",
            f"effect on {METRIC_NAMES.get(metric, metric)} (×: ratio RPD / baseline; else mean Δ RPD − baseline)",
            "95% t-interval", "RPD wins", "verdict"]
    rows, classes = [], []
    for o in outcomes:
        w = o.test.where
        rows.append([w["dataset"], *[f(w) for f in extra.values()], o.test.challenger.label, o.test.baseline.label,
                     w["size"], w["sampler"], str(w["steps"]), str(o.seeds), fmt_effect(o), fmt_effect_interval(o),
                     f"{o.wins}/{o.seeds}", status_words(o)])
        classes.append(STATUS_CLASS[o.status])  # under 2 seeds a test is inconclusive (stats.decide): muted
    numeric = [False] * (len(cols) - 6) + [True] * 5 + [False]
    return Table(caption, cols, rows, numeric, classes)


def outcome_table(caption: str, outcomes: list[Outcome]) -> Table:
    """Seed-paired tests (challenger − baseline) with their decision under the report's rule."""
    cols = ["challenger", "baseline", "metric", "setting", "paired seeds", "challenger mean", "baseline mean",
            "effect (× ratio, else Δ)", "95% t-interval", "challenger better", "decision"]
    rows, classes = [], []
    for o in outcomes:
        t = o.test
        setting = ", ".join(f"{'K' if k == 'steps' else k} {v}" for k, v in t.where.items())
        rows.append([t.challenger.label, t.baseline.label, METRIC_NAMES.get(t.metric, t.metric), setting,
                     str(o.seeds), fmt(o.challenger_mean), fmt(o.baseline_mean), fmt_effect(o),
                     fmt_effect_interval(o), f"{o.wins}/{o.seeds}", f"{o.status}: {o.reason}"])
        classes.append(STATUS_CLASS[o.status])
    numeric = [False] * 4 + [True] * 6 + [False]
    return Table(caption, cols, rows, numeric, classes)


def verdict_table(ctx: Context, fid: str) -> Table | None:
    """The tests behind a family's claim verdict (deciding tests, then guards), or None without a verdict."""
    v = ctx.verdicts.get(fid)
    if v is None or not (v.deciding or v.guards):
        return None
    guards = [o for o in v.guards]
    return outcome_table(f"The tests that decide claim {v.claim} ({len(v.deciding)} deciding"
                         + (f", {len(guards)} guard{'s' if len(guards) != 1 else ''}" if guards else "")
                         + "): seed-paired ratio challenger / baseline (×) or Δ = challenger − baseline.", v.deciding + guards)


def paired_tables(ctx: Context, rows: pd.DataFrame, metrics: list[tuple[str, str]], what: str,
                  baseline_families: tuple[str, ...]) -> list[Table]:
    """One :func:`paired_table` per (metric, KID extractor): RPD − each baseline model at equal settings."""
    tables = []
    for metric, ext in metrics:
        sub = rows[rows["metric"] == metric]
        sub = sub[sub["extractor"] == ext] if ext and "extractor" in sub else sub
        tables.append(paired_table(
            ctx, sub, f"Seed-paired {metric_name(metric, ext)} difference RPD − baseline ({what}) at equal dataset, "
                      "size, sampler and K; negative favours RPD.", baseline_families=baseline_families, metric=metric))
    return tables


def sanity_table(ctx: Context, rows: pd.DataFrame) -> Table:
    """Per model and (sampler, K): the sanity metrics over seeds and whether they meet the suite's thresholds."""
    from rpd.report.sanity import sanity_rows, thresholds

    t = thresholds(ctx.config)
    s = sanity_rows(rows, ctx.config)
    if not s.empty:  # report order: models by family, sizes largest first (sanity_rows sorts by name)
        models, size_rank = ctx.ordered_models(s["model"].unique()), size_ranker(rows, ["dataset", "model"])
        records = s.to_dict("records")
        s = s.assign(_m=[models.index(r["model"]) for r in records], _s=[size_rank(r) for r in records])
        s = s.sort_values(["dataset", "_m", "_s", "sampler", "steps"])  # unique keys: any sort gives one order
    cols = ["dataset", "model", "size", "sampler", "K", "seeds", "outside data range (mean; worst seed)",
            "class accuracy: samples", "real held-out", "ratio", "sanity"]
    out, classes = [], []
    for r in s.itertuples():
        real = r.class_accuracy / r.class_accuracy_ratio if np.isfinite(r.class_accuracy_ratio) and r.class_accuracy_ratio else np.nan
        verdict = ("pass" if r.passes else f"fail: {r.why}") + ("" if r.gated else f" (K < {t['min_steps']}: shown, not gated)")
        out.append([r.dataset, r.model, r.size, r.sampler, str(int(r.steps)), str(r.seeds),
                    f"{r.out_of_range:.2%}; {r.worst_out_of_range:.2%}" if np.isfinite(r.out_of_range) else "—",
                    fmt(r.class_accuracy, 3), fmt(real, 3), fmt(r.class_accuracy_ratio, 3), verdict])
        classes.append("" if r.passes else "bad" if r.gated else "muted")
    caption = (f"Sanity of the samples (config key 'sanity'): share of raw values outside the data range widened by "
               f"{RANGE_MARGIN:.0%} per side "
               f"(max {t['max_out_of_range']:.0%}) and, on class-conditional data, the KID feature net's accuracy on "
               f"the samples against its accuracy on real held-out images (ratio at least {t['min_accuracy_ratio']:g}). "
               f"Thresholds apply at K ≥ {t['min_steps']}; a claim resting on a failing model is shown as not fit "
               "to judge.")
    return Table(caption, cols, out, [False] * 4 + [True] * 6 + [False], classes)
