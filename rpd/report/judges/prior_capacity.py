"""C5 (paper Fig. 16): a weaker prior (β-VAE_s) gives worse few-step samples than the standard β-VAE.

Decision rule: RPD on the small prior against RPD on the standard prior, same network, on E5's first dataset
(images), with the few-step sampler (DDIM) at every K ∈ {1, 3} the experiment drew; each seed-paired test
(log ratio of KID where positive, else the difference) must show the weak prior worse. Judged on models whose
target is well-posed at K = 1 (v or x₀ prediction, SPEC §2) when the experiment has any; ε models otherwise.
"""

from __future__ import annotations

import pandas as pd

from rpd.report import verdicts as V

#: The few-step settings C5 is judged at.
FEW_STEPS = (1, 3)


def _well_posed(cfg: dict, names: list[str]) -> list[str]:
    """Those of ``names`` that do not predict ε, or all of them when every one does."""
    posed = [m for m in names if cfg["models"][m].get("target", "eps") != "eps"]
    return posed or names


def prior_pair(cfg: dict, exp: dict) -> tuple[str, str] | None:
    """(weak, strong): RPD on the small prior and RPD on the standard one, both of the same target."""
    strong = _well_posed(cfg, V._family_models(cfg, exp, "rpd", prior_size=("std", "std")))
    weak = _well_posed(cfg, V._family_models(cfg, exp, "rpd", prior_size=("small", "std")))
    for w in weak:
        same = [s for s in strong if cfg["models"][s].get("target", "eps") == cfg["models"][w].get("target", "eps")]
        if same:
            return w, same[0]
    return None


def judge_c5(cfg: dict, metrics: pd.DataFrame, exp: dict) -> V.Verdict:
    pair = prior_pair(cfg, exp)
    rows = V.experiment_frame(cfg, metrics, exp)
    if pair is None or rows.empty:
        return V._not_run("C5", "E5 needs RPD models on the std and the small prior (of one target) with results")
    dataset, size, sub = V._first_setting(rows, exp)
    sampler, metric = V.few_step_sampler(sub), V.primary_metric(sub, dataset)
    if sampler is None or metric is None:
        return V._not_run("C5", f"no diffusion rows on {dataset}")
    drawn = set(sub.loc[sub["sampler"] == sampler, "steps"].astype(int))
    ks = [k for k in FEW_STEPS if k in drawn] or sorted(drawn)[:1]
    weak, strong = (V.Side(x, {"model": x}) for x in pair)
    deciding = [V.run_test(rows, V.Test(metric, weak, strong, {"dataset": dataset, "size": size, "sampler": sampler,
                                                               "steps": k}, expect="higher")) for k in ks]
    return V.combine("C5", "e5", V.CLAIMS["C5"][1], deciding)
