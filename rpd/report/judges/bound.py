"""C6 (paper Prop. 1): on the same prior, RPD's forward process ends where its reverse process starts; DiffuseVAE's
does not. Measured by the terminal-mismatch term J₂ = KL(q(x_T | x₀, z) ‖ N(μ̂(z), σ̂(z)²)) on the held-out set
(:func:`rpd.elbo.consistency_j2`), one reference process for every family.

Decision rule: per dataset of E8, every RPD / DiffuseVAE pair whose prior on that dataset is the same (name and
size: a β-VAE for both), seed-paired log ratio of J₂ (RPD / DiffuseVAE); supported if every interval lies below
1. The whole variational bound (−ELBO) of the same pairs is tested and shown beside it (section E8), not deciding:
the families' own terminal terms are about zero by construction, and their bounds differ in the diffusion and
decoder terms too.
"""

from __future__ import annotations

import pandas as pd

from rpd.data.specs import is_image_dataset
from rpd.report import verdicts as V
from rpd.runs import excluded

DIFFUSEVAE = ("diffusevae1", "diffusevae2")


def prior_on(cfg: dict, model: str, dataset: str) -> tuple[str, str] | None:
    """(prior name, prior size) a model uses on ``dataset`` (image datasets: its ``image_prior`` when set)."""
    spec = cfg["models"].get(model, {})
    if "prior" not in spec:
        return None
    image = is_image_dataset(cfg.get("datasets", {}).get(dataset, {"kind": "grid"}))
    return (spec.get("image_prior", spec["prior"]) if image else spec["prior"]), spec.get("prior_size", "std")


def same_prior_pairs(cfg: dict, exp: dict, dataset: str) -> list[tuple[str, str]]:
    """(RPD model, DiffuseVAE model) pairs of E8 that share their prior on ``dataset`` (first RPD per baseline)."""
    rpd = [m for m in V._family_models(cfg, exp, "rpd") if not excluded(exp, dataset, m)]
    out = []
    for b in [m for f in DIFFUSEVAE for m in V._family_models(cfg, exp, f) if not excluded(exp, dataset, m)]:
        match = [r for r in rpd if prior_on(cfg, r, dataset) == prior_on(cfg, b, dataset)]
        if match:
            out.append((match[0], b))
    return out


def bound_rows(cfg: dict, metrics: pd.DataFrame, exp: dict) -> pd.DataFrame:
    """E8's rows (its datasets, models, sizes and seeds), whatever their sampler (bound rows have ``bound``)."""
    m = metrics
    keep = m["dataset"].isin(exp["datasets"]) & m["model"].isin(exp["models"]) & m["size"].isin(exp["sizes"])
    seeds = exp.get("seeds", cfg.get("seeds"))
    return m[keep & m["seed"].isin(seeds)] if seeds is not None else m[keep]


def c6_tests(cfg: dict, metrics: pd.DataFrame, exp: dict, metric: str = "j2") -> list[V.Outcome]:
    """The seed-paired ``metric`` tests (J₂ decides; ``elbo`` is shown beside) of every same-prior pair."""
    rows = bound_rows(cfg, metrics, exp)
    size = V.first_size(exp, rows)
    return [V.run_test(rows, V.Test(metric, V.Side(r, {"model": r}), V.Side(b, {"model": b}),
                                    {"dataset": d, "size": size}))
            for d in exp["datasets"] if metric in set(rows.loc[rows["dataset"] == d, "metric"])
            for r, b in same_prior_pairs(cfg, exp, d)]


def judge_c6(cfg: dict, metrics: pd.DataFrame, exp: dict) -> V.Verdict:
    deciding = c6_tests(cfg, metrics, exp)
    if not deciding:
        return V._not_run("C6", "E8 needs RPD and DiffuseVAE models on the same prior, with J₂ rows")
    return V.combine("C6", "e8", V.CLAIMS["C6"][1], deciding)
