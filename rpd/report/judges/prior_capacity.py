"""C5 (paper Fig. 16): a weaker prior (β-VAE_s) gives worse few-step samples than the standard β-VAE.

Decision rule: RPD on the prior size with the fewest parameters against RPD on the one with the most (the same
prior, the same network), on E5's first dataset (images), with the few-step sampler (DDIM) at every K ∈ {1, 3}
the experiment drew; each seed-paired test (log ratio of KID where positive, else the difference) must show the
weak prior worse. Judged on models whose target is well-posed at K = 1 (v or x₀ prediction, SPEC §2) when the
experiment has any; ε models otherwise.

Prior sizes are free names: they are ordered by the prior's own parameter count, the median ``parameters`` of
the prior runs' rows in metrics.csv (sampler ``prior``; every prior a model sits on is scored, so the table the
report reads has them), by :mod:`rpd.report.sizes` like every other size in the report. A size without a count
there follows in config order (``prior_sizes`` / ``image_prior_sizes``), and the verdict says so.
"""

from __future__ import annotations

import pandas as pd

from rpd.config import MODALITY_KEYS, modality
from rpd.report import verdicts as V
from rpd.report.judges.bound import prior_on
from rpd.report.sizes import ordered_sizes, size_parameters

#: The few-step settings C5 is judged at.
FEW_STEPS = (1, 3)


def _target(cfg: dict, model: str) -> str:
    return cfg["models"][model].get("target", "eps")


def _prior_name(cfg: dict, model: str, dataset: str) -> str | None:
    """The prior ``model`` sits on, on ``dataset`` (its ``image_prior`` on images)."""
    on = prior_on(cfg, model, dataset)
    return None if on is None else on[0]


def prior_rows(metrics: pd.DataFrame | None, dataset: str, prior: str) -> pd.DataFrame:
    """The rows of ``prior``'s own runs on ``dataset`` (sampler ``prior``): they carry its parameter counts."""
    if metrics is None or metrics.empty:
        return pd.DataFrame(columns=["size", "parameters"])
    return metrics[(metrics["sampler"] == "prior") & (metrics["dataset"] == dataset) & (metrics["model"] == prior)]


def _config_order(cfg: dict, dataset: str, sizes: list[str]) -> list[str]:
    """``sizes`` in the order the dataset's prior sizes key lists them (the others after, as given)."""
    spec = cfg.get("datasets", {}).get(dataset)
    listed = list(cfg.get(MODALITY_KEYS[modality(spec)]["prior_sizes"], {})) if spec else []
    return [s for s in listed if s in sizes] + [s for s in sizes if s not in listed]


def prior_groups(cfg: dict, exp: dict, dataset: str) -> list[list[str]]:
    """The experiment's RPD models grouped by (prior on ``dataset``, target): well-posed targets first."""
    groups: dict[tuple, list[str]] = {}
    for model in V._family_models(cfg, exp, "rpd"):
        groups.setdefault((_prior_name(cfg, model, dataset), _target(cfg, model)), []).append(model)
    return sorted(groups.values(), key=lambda g: _target(cfg, g[0]) == "eps")  # stable: config order within


def prior_pair(cfg: dict, exp: dict, metrics: pd.DataFrame | None = None) -> tuple[str, str] | None:
    """(weak, strong): RPD on the prior size with the fewest and on the one with the most parameters, of one
    prior and one target (v where the experiment has such a pair), on E5's first dataset."""
    dataset = exp["datasets"][0] if exp.get("datasets") else ""
    for group in prior_groups(cfg, exp, dataset):
        size_of = {m: cfg["models"][m].get("prior_size", "std") for m in group}  # the schema's default
        sizes = _config_order(cfg, dataset, list(dict.fromkeys(size_of.values())))
        if len(sizes) < 2:
            continue
        order = ordered_sizes(sizes, prior_rows(metrics, dataset, _prior_name(cfg, group[0], dataset)))
        weak = next(m for m in group if size_of[m] == order[-1])
        strong = next(m for m in group if size_of[m] == order[0])
        return weak, strong
    return None


def count_note(cfg: dict, exp: dict, metrics: pd.DataFrame, pair: tuple[str, str]) -> str:
    """What the verdict says about the priors' parameter counts it ordered the pair by."""
    dataset = exp["datasets"][0]
    prior = _prior_name(cfg, pair[0], dataset)
    counts = size_parameters(prior_rows(metrics, dataset, prior))
    weak, strong = (cfg["models"][m].get("prior_size", "std") for m in pair)
    if weak not in counts or strong not in counts:
        return (f"prior sizes {strong} and {weak} of {prior} ordered by config order: metrics.csv has no parameter "
                "count of both (rows with sampler 'prior')")
    return f"prior {prior} size {weak} has {counts[weak]:.0f} parameters, size {strong} {counts[strong]:.0f}"


def judge_c5(cfg: dict, metrics: pd.DataFrame, exp: dict) -> V.Verdict:
    pair = prior_pair(cfg, exp, metrics)
    rows = V.experiment_frame(cfg, metrics, exp)
    if pair is None or rows.empty:
        return V._not_run("C5", "E5 needs RPD models on two sizes of one prior (models.<name>.prior_size; of one "
                                "target) with results")
    dataset, size, sub = V._first_setting(rows, exp)
    sampler, metric = V.few_step_sampler(sub), V.primary_metric(sub, dataset)
    if sampler is None or metric is None:
        return V._not_run("C5", f"no diffusion rows on {dataset}")
    drawn = set(sub.loc[sub["sampler"] == sampler, "steps"].astype(int))
    ks = [k for k in FEW_STEPS if k in drawn] or sorted(drawn)[:1]
    weak, strong = (V.Side(x, {"model": x}) for x in pair)
    deciding = [V.run_test(rows, V.Test(metric, weak, strong, {"dataset": dataset, "size": size, "sampler": sampler,
                                                               "steps": k}, expect="higher")) for k in ks]
    note = count_note(cfg, exp, metrics, pair)
    for outcome in deciding:
        outcome.reason += f"; {note}"
    return V.combine("C5", "e5", V.CLAIMS["C5"][1], deciding)
