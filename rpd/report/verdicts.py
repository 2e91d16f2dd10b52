"""Verdicts on the paper's claims C1–C6 from the tidy metrics table: seed-paired tests, pure functions.

A *test* compares two sides (for example RPD and DDPM) on one metric at one setting (dataset, size, sampler,
K). Rows are paired by seed: per seed the difference Δ = challenger − baseline, then the mean of Δ and its
95% t-interval, mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n. The decision rule (:data:`DECISION_RULE`, also printed in the
report):

* ``lower`` (the claim says the challenger is better, metric lower is better): **supported** if the whole
  interval lies below 0; **not supported** if it lies above 0; otherwise **inconclusive**.
* ``higher`` (the claim says the challenger is worse, e.g. a weaker prior): mirrored.
* ``close`` (C3, "stays close"): non-inferiority with margin m = :data:`CLOSE_TOLERANCE` × |baseline mean|:
  **supported** if the interval's upper end ≤ +m (the challenger is at most 10% worse, better is fine);
  **not supported** if its lower end > +m (surely more than 10% worse); otherwise **inconclusive**.

With no paired seeds, or one (no interval), a test is inconclusive and says why. A claim's verdict is the
combination of its deciding tests (all must be supported; any not supported makes it not supported) and of
its *guards* (a guard only vetoes: if its interval shows the challenger clearly worse, the claim is not
supported). No torch, no file access: everything here is computed from frames and the config dict; the paired
statistics themselves are :mod:`rpd.report.stats` (shared with the report's tables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rpd.report.sanity import outcome_failures, sanity_rows, snapshot_samplers
from rpd.report.sizes import largest_size, ordered_sizes, size_parameters

# The statistics live in rpd.report.stats (shared with the report's tables); re-exported here for the judges' callers.
from rpd.report.stats import (  # noqa: F401
    CLOSE_TOLERANCE,
    DIFFERENCE,
    INCONCLUSIVE,
    LEVEL,
    LOG_RATIO,
    METRIC_NAMES,
    NOT_RUN,
    NOT_SUPPORTED,
    SUPPORTED,
    UNFIT,
    Outcome,
    Side,
    Test,
    decide,
    paired_values,
    run_test,
    seeds_to_settle,
    select,
    sign_status,
    t_interval,
    where_zero,
)

#: C3 precondition: the smallest network has less than this share of the largest network's parameters.
SMALL_SHARE = 0.5
#: Metrics where lower is better. ``elbo`` is read as the negative bound (an upper bound on the NLL, in
#: bits/dim or nats), as bits/dim are conventionally reported; ``j2`` is the terminal-mismatch KL.
LOWER_IS_BETTER = ("rw1wd", "1wd", "cw1wd", "kid", "mass_error", "elbo", "j2", "train_loss_mean")
#: Preferred quality metric of a dataset, first found wins (RW-1WD for 2D grids, KID for images).
PRIMARY_METRICS = ("rw1wd", "kid", "cw1wd", "1wd")

DECISION_RULE = (
    "Seed-paired: per seed Δ = challenger − baseline at equal dataset, size, sampler and K; mean Δ and its 95% "
    "t-interval over seeds. For positive metrics where lower is better (RW-1WD, 1WD, CW-1WD, KID where every "
    "value is > 0, J₂) Δ is the log ratio log(challenger / baseline), shown as a ratio with its interval, and 0 "
    "reads as a ratio of 1. A seed with a non-finite value (NaN, ±inf) is decided against the side that produced "
    "it and named in the reason; while such a seed stands against the side the claim expects to be better, the "
    "test is not supported. Better-claims (lower is better): supported if the interval lies entirely below 0, "
    "not supported if entirely above 0, inconclusive if it contains 0. Worse-claims (C5) mirrored. 'Stays close' "
    f"(C3): non-inferiority with margin {CLOSE_TOLERANCE:.0%} of the largest network's mean — supported if the "
    "interval's upper end is ≤ the margin (on ratio tests: ratio ≤ 1.1), not supported if its lower end is above it, inconclusive otherwise. "
    "Fewer than 3 paired seeds: inconclusive (seeds). A claim needs all its deciding tests supported; any "
    "test not supported, or a guard whose interval shows the challenger clearly worse, makes it not supported. "
    "A claim whose deciding models fail the suite's sanity thresholds (config key 'sanity': share of raw values "
    "outside the data range, class accuracy on the samples against real images, at K ≥ min_steps with the "
    "test's sampler) is shown as 'not fit to judge' instead of supported or not supported."
)


# --------------------------------------------------------------------------------------------------------
# Claims


@dataclass
class Verdict:
    """One claim's verdict: status, the reason, the outcomes that decided it and guards that could veto."""

    claim: str
    family: str  # the report section that shows the evidence (e1 … e8)
    statement: str
    status: str
    reason: str
    deciding: list[Outcome] = field(default_factory=list)
    guards: list[Outcome] = field(default_factory=list)

    @property
    def key_number(self) -> str:
        """The first deciding test that agrees with the verdict (else the first) as 'mean Δ [lo, hi] (n seeds)'."""
        if not self.deciding:
            return "—"
        o = next((x for x in self.deciding if x.status == self.status), self.deciding[0])
        if o.seeds == 0:
            return "no paired rows"
        metric, plural = METRIC_NAMES.get(o.test.metric, o.test.metric), "s" if o.seeds != 1 else ""
        effect, lo, hi = o.effect()
        interval = f" [{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) else ""
        what = f"ratio {metric} = {effect:.3g}×" if o.scale == LOG_RATIO else f"Δ {metric} = {effect:.3g}"
        return (f"{what}{interval} ({o.seeds} seed{plural}; "
                f"{o.test.challenger.label} {o.challenger_mean:.3g} vs {o.test.baseline.label} {o.baseline_mean:.3g})")


def combine(claim: str, family: str, statement: str, deciding: Sequence[Outcome],
            guards: Sequence[Outcome] = (), not_run_reason: str = "") -> Verdict:
    """Combine tests into a claim verdict (rule in the module docstring)."""
    if not deciding:
        return Verdict(claim, family, statement, NOT_RUN, not_run_reason or "no test could be formed")
    failed = [o for o in deciding if o.status == NOT_SUPPORTED]
    vetoes = [g for g in guards if g.seeds >= 2 and np.isfinite(g.lo) and g.lo > 0]
    if failed:
        status, reason = NOT_SUPPORTED, "; ".join(f"{o.test.describe()}: {o.reason}" for o in failed)
    elif vetoes:
        status, reason = NOT_SUPPORTED, "; ".join(f"guard {g.test.describe()}: challenger clearly worse, "
                                                  f"{g.reason}" for g in vetoes)
    elif all(o.status == SUPPORTED for o in deciding):
        status, reason = SUPPORTED, "; ".join(f"{o.test.describe()}: {o.reason}" for o in deciding)
    else:
        status, reason = INCONCLUSIVE, "; ".join(
            f"{o.test.describe()}: {o.reason}" + (f" ({settle})" if (settle := seeds_to_settle(o)) else "")
            for o in deciding if o.status != SUPPORTED)
    return Verdict(claim, family, statement, status, reason, list(deciding), list(guards))


def primary_metric(frame: pd.DataFrame, dataset: str) -> str | None:
    """The quality metric a claim uses on ``dataset``: the first of :data:`PRIMARY_METRICS` present."""
    present = set(frame.loc[frame["dataset"] == dataset, "metric"])
    return next((m for m in PRIMARY_METRICS if m in present), None)


def headline_pair(frame: pd.DataFrame) -> tuple[str, int] | None:
    """The best-quality setting: the ancestral (ddpm) sampler at its largest K, else any sampler's largest K."""
    pairs = {(s, int(k)) for s, k in zip(frame["sampler"], frame["steps"]) if s not in ("prior", "train")}
    if not pairs:
        return None
    ddpm = [p for p in pairs if p[0] == "ddpm"]
    return max(ddpm, key=lambda p: p[1]) if ddpm else max(pairs, key=lambda p: (p[1], p[0]))


def few_step_sampler(frame: pd.DataFrame) -> str | None:
    """The sampler few-step claims are judged with: DDIM (deterministic) when present, else the first one."""
    samplers = [s for s in dict.fromkeys(frame["sampler"]) if s not in ("prior", "train")]
    return "ddim" if "ddim" in samplers else (samplers[0] if samplers else None)


# --------------------------------------------------------------------------------------------------------
# The claims of SPEC §1, each judged in the family that mirrors the paper's evidence

#: claim → (family id that decides it, short statement).
CLAIMS: dict[str, tuple[str, str]] = {
    "C1": ("e1", "On fine local structure RPD beats DDPM on RW-1WD without losing the global layout (1WD)."),
    "C2": ("e2", "With few steps (K = 1, 3) RPD beats DDPM, and matches or beats DiffuseVAE (judged on models "
                 "whose target is well-posed at K = 1: v-prediction where the experiment has it)."),
    "C3": ("e3", "RPD with a network of under half the parameters (RPD_s) stays within 10% of RPD, at the "
                 "best-quality setting and at a few-step setting."),
    "C4": ("e4", "Given x_t, the auxiliary input ω makes the metric and the training loss fall faster over training "
                 "than μ̂ alone (geometric mean of the metric over the training snapshots, and mean loss, lower on "
                 "every E4 dataset; the final metric not clearly worse)."),
    "C5": ("e5", "A weaker prior (β-VAE_s) gives worse few-step samples (K = 1 and 3) than the standard β-VAE "
                 "(RPD on each, v-prediction where the experiment has it)."),
    "C6": ("e8", "On the same β-VAE prior, RPD's forward process ends at the prior's N(μ̂, σ̂²) and DiffuseVAE's "
                 "does not: the terminal mismatch J₂ = KL(q(x_T|x₀,z) ‖ N(μ̂, σ̂²)) is lower for RPD (decided on "
                 "J₂; the whole bound is shown beside it, not deciding)."),
}


def in_experiment(frame: pd.DataFrame, exp: dict) -> pd.Series:
    """Which rows of ``frame`` are the experiment's: its datasets, models and sizes, less its ``exclude`` pairs."""
    from rpd.runs import excluded

    keep = frame["dataset"].isin(exp["datasets"]) & frame["model"].isin(exp["models"]) & frame["size"].isin(exp["sizes"])
    dropped = [excluded(exp, d, n) for d, n in zip(frame["dataset"], frame["model"])]
    return keep & ~pd.Series(dropped, index=frame.index, dtype=bool)


def experiment_frame(cfg: dict, metrics: pd.DataFrame, exp: dict, extra_samplers: Sequence[str] = ()) -> pd.DataFrame:
    """Rows of one experiment: its datasets, models, sizes, seeds and (sampler, K) pairs (plus ``extra_samplers``),
    without the (dataset, model) pairs its ``exclude`` leaves out (a run another experiment made is not this one's)."""
    from rpd.runs import experiment_pairs  # torch-free

    pairs = experiment_pairs(cfg, exp)
    seeds = exp.get("seeds", cfg.get("seeds"))
    m = metrics
    keep = in_experiment(m, exp)
    if seeds is not None:
        keep &= m["seed"].isin(seeds)
    in_pairs = [(s, int(k)) in pairs or s in extra_samplers for s, k in zip(m["sampler"], m["steps"])]
    return m[keep & pd.Series(in_pairs, index=m.index, dtype=bool)]


def _family_models(cfg: dict, exp: dict, family: str, **settings: tuple[object, object]) -> list[str]:
    """The experiment's models of ``family`` whose settings match: key=(wanted value, default when unset)."""
    out = []
    for name in exp["models"]:
        spec = cfg["models"].get(name, {})
        if spec.get("family") == family and all(spec.get(k, d) == v for k, (v, d) in settings.items()):
            out.append(name)
    return out


def first_size(exp: dict, rows: pd.DataFrame) -> str:
    """The size a single-size verdict or figure uses: the experiment's largest network by the parameter counts
    in ``rows`` (its first size in config order while none has a count)."""
    return largest_size(exp["sizes"], rows)


def _first_setting(rows: pd.DataFrame, exp: dict) -> tuple[str, str, pd.DataFrame]:
    """The dataset and size a claim is judged on (the experiment's first dataset, its largest size) and their rows."""
    dataset = exp["datasets"][0]
    on_dataset = rows[rows["dataset"] == dataset]
    size = first_size(exp, on_dataset)
    return dataset, size, on_dataset[on_dataset["size"] == size]


def _not_run(claim: str, reason: str) -> Verdict:
    family, statement = CLAIMS[claim]
    return combine(claim, family, statement, [], not_run_reason=reason)


@dataclass
class _Judged:
    """What C1 and C2 are judged on: the experiment's rows, its first RPD and DDPM models, the first setting."""

    rows: pd.DataFrame
    rpd: str
    ddpm: str
    dataset: str
    size: str
    sub: pd.DataFrame
    metric: str


def _rpd_and_ddpm(cfg: dict, metrics: pd.DataFrame, exp: dict, claim: str) -> _Judged | Verdict:
    """The :class:`_Judged` of C1 / C2, or the claim's 'not run' verdict when the experiment cannot judge it."""
    rows = experiment_frame(cfg, metrics, exp)
    rpd, ddpm = _family_models(cfg, exp, "rpd"), _family_models(cfg, exp, "ddpm")
    if not (rpd and ddpm) or rows.empty:
        return _not_run(claim, f"{CLAIMS[claim][0].upper()} needs an RPD and a DDPM model with results")
    dataset, size, sub = _first_setting(rows, exp)
    metric = primary_metric(sub, dataset)
    if metric is None or sub.empty:
        return _not_run(claim, f"no diffusion rows on {dataset}")
    return _Judged(rows, rpd[0], ddpm[0], dataset, size, sub, metric)


def judge_c1(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    j = _rpd_and_ddpm(cfg, metrics, exp, "C1")
    if isinstance(j, Verdict):
        return j
    pair = headline_pair(j.sub)
    where = {"dataset": j.dataset, "size": j.size, "sampler": pair[0], "steps": pair[1]}
    sides = Side(j.rpd, {"model": j.rpd}), Side(j.ddpm, {"model": j.ddpm})
    deciding = [run_test(j.rows, Test(j.metric, *sides, where))]
    guards = [run_test(j.rows, Test("1wd", *sides, where))] if "1wd" in set(j.sub["metric"]) else []
    return combine("C1", "e1", CLAIMS["C1"][1], deciding, guards)


def well_posed(cfg: dict, exp: dict, family: str) -> list[str]:
    """The experiment's models of ``family`` whose target is well-posed at K = 1 (not ε), else all of them.

    With ε-prediction, K = 1 from t = T − 1 divides the network's error by √ᾱ ≈ 0.006 (SPEC §2): few-step
    claims judge the model family, not that artefact, so they use v-prediction models where there are any.
    """
    models = _family_models(cfg, exp, family)
    posed = [m for m in models if cfg["models"][m].get("target", "eps") != "eps"]
    return posed or models


def judge_c2(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    j = _rpd_and_ddpm(cfg, metrics, exp, "C2")
    if isinstance(j, Verdict):
        return j
    rpd, ddpm = well_posed(cfg, exp, "rpd"), well_posed(cfg, exp, "ddpm")
    j.rpd, j.ddpm = rpd[0], ddpm[0]
    rows, dataset, size, sub, metric = j.rows, j.dataset, j.size, j.sub, j.metric
    sampler = few_step_sampler(sub)
    dvae = [m for f in ("diffusevae1", "diffusevae2") for m in well_posed(cfg, exp, f)]
    ks = sorted(set(sub.loc[sub["sampler"] == sampler, "steps"].astype(int)))
    few = [k for k in ks if k <= 3] or ks[:1]
    challenger = Side(j.rpd, {"model": j.rpd})
    deciding = [run_test(rows, Test(metric, challenger, Side(j.ddpm, {"model": j.ddpm}),
                                    {"dataset": dataset, "size": size, "sampler": sampler, "steps": k}))
                for k in few]
    guards = [run_test(rows, Test(metric, challenger, Side(b, {"model": b}),
                                  {"dataset": dataset, "size": size, "sampler": sampler, "steps": k}))
              for b in dvae for k in few]
    return combine("C2", "e2", CLAIMS["C2"][1], deciding, guards)


def size_extremes(exp: dict, rows: pd.DataFrame) -> tuple[str, str] | None:
    """(largest, smallest) of the experiment's network sizes by the median parameter count in ``rows`` (the
    order of :mod:`rpd.report.sizes`; sizes without a count follow in config order), or None for one size."""
    order = ordered_sizes(exp["sizes"], rows)
    return (order[0], order[-1]) if len(order) > 1 else None


def judge_c3(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    rows = experiment_frame(cfg, metrics, exp)
    rpd = _family_models(cfg, exp, "rpd")
    if not rpd or len(set(exp["sizes"])) < 2 or rows.empty:
        return _not_run("C3", "E3 needs an RPD model at two network sizes (experiments.e3.sizes) with results")
    dataset = exp["datasets"][0]
    sub = rows[(rows["dataset"] == dataset) & (rows["model"] == rpd[0])]
    pair, metric = headline_pair(sub), primary_metric(sub, dataset)
    if pair is None or metric is None:
        return _not_run("C3", f"no RPD rows on {dataset}")
    large, small = size_extremes(exp, sub)
    sides = (Side(f"{rpd[0]}-{small}", {"model": rpd[0], "size": small}),
             Side(f"{rpd[0]}-{large}", {"model": rpd[0], "size": large}))
    settings = [pair]
    few = few_step_setting(sub)
    if few is not None and few != pair:
        settings.append(few)
    outcomes = [run_test(rows, Test(metric, *sides, {"dataset": dataset, "sampler": s, "steps": k}, expect="close"))
                for s, k in settings]
    for outcome in outcomes:
        _check_small_share(sub, outcome, large, small)
    return combine("C3", "e3", CLAIMS["C3"][1], outcomes)


#: C3's few-step setting: the fewest steps K ≥ this with the few-step sampler (K = 1 is the ε artefact).
FEW_STEPS = 3


def few_step_setting(sub: pd.DataFrame) -> tuple[str, int] | None:
    """C3's few-step setting: the few-step sampler (DDIM) at the fewest K ≥ :data:`FEW_STEPS` both sizes have."""
    sampler = few_step_sampler(sub)
    if sampler is None:
        return None
    per_size = [set(g["steps"].astype(int)) for _, g in sub[sub["sampler"] == sampler].groupby("size")]
    common = sorted(set.intersection(*per_size)) if per_size else []
    ks = [k for k in common if k >= FEW_STEPS]
    return (sampler, ks[0]) if ks else None


def _check_small_share(sub: pd.DataFrame, outcome: Outcome, large: str, small: str) -> None:
    """C3 needs RPD_s (size ``small``) under half of RPD's (size ``large``) parameters: otherwise the outcome is
    inconclusive, and says why. No share without a positive count of both sizes."""
    counts = size_parameters(sub)
    if counts.get(large, 0) <= 0 or counts.get(small, 0) <= 0 or large == small:
        return
    share = counts[small] / counts[large]
    what = f"RPD_s (size {small}) has {share:.0%} of RPD's parameters (size {large})"
    if share >= SMALL_SHARE:
        outcome.status = INCONCLUSIVE
        outcome.reason += f"; but {what} (the claim needs < 50%)"
    else:
        outcome.reason += f"; {what}"


def judge_c4(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    """C4 from the metric against training iteration and the loss (rule: :mod:`rpd.report.judges.aux_input`)."""
    from rpd.report.judges.aux_input import judge_c4 as judge  # imports this module: no cycle at import time

    return judge(cfg, metrics, exp)


def judge_c5(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    """C5 at K ∈ {1, 3} on images (rule: :mod:`rpd.report.judges.prior_capacity`)."""
    from rpd.report.judges.prior_capacity import judge_c5 as judge

    return judge(cfg, metrics, exp)


def judge_c6(cfg: dict, metrics: pd.DataFrame, exp: dict) -> Verdict:
    """C6 on J₂ for RPD and DiffuseVAE on the same prior (rule: :mod:`rpd.report.judges.bound`)."""
    from rpd.report.judges.bound import judge_c6 as judge

    return judge(cfg, metrics, exp)


JUDGES = {"C1": judge_c1, "C2": judge_c2, "C3": judge_c3, "C4": judge_c4, "C5": judge_c5, "C6": judge_c6}


def judge_claims(cfg: dict, metrics: pd.DataFrame) -> list[Verdict]:
    """One verdict per claim C1–C6, in order; a claim whose family the suite did not run is 'not run'."""
    out = []
    sanity, snapshot_sampler = sanity_rows(metrics, cfg), snapshot_samplers(cfg)  # the same for every claim
    for claim, (family, _) in CLAIMS.items():
        exp = cfg["experiments"].get(family)
        if exp is None:
            out.append(_not_run(claim, f"{family.upper()} is not in this suite"))
        else:
            out.append(gate_on_sanity(JUDGES[claim](cfg, metrics, exp), sanity, snapshot_sampler))
    return out


def gate_on_sanity(verdict: Verdict, rows: pd.DataFrame, snapshot_sampler: dict[str, str] | None = None) -> Verdict:
    """A verdict decided on models that fail the suite's sanity thresholds becomes :data:`UNFIT` (rpd.report.sanity;
    ``snapshot_sampler``: per dataset, the sampler that gates tests on training snapshots)."""
    if verdict.status not in (SUPPORTED, NOT_SUPPORTED):
        return verdict
    failures = list(dict.fromkeys(f for o in verdict.deciding for f in outcome_failures(rows, o, snapshot_sampler)))
    if not failures:
        return verdict
    reason = (f"the tests say {verdict.status}, but the models they rest on fail the sanity thresholds (config key "
              f"'sanity'): {'; '.join(failures)}. Tests: {verdict.reason}")
    return dataclasses.replace(verdict, status=UNFIT, reason=reason)
