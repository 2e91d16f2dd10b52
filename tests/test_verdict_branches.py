"""Every guard and every decision branch of the claim judges (rpd/report/verdicts.py, rpd/report/stats.py) on a
hand-made metric table that triggers it.

tests/test_verdicts.py checks the decision rule on clear wins, losses and overlaps; here each judge's guards are
made to veto, each 'not run' precondition is made to fail, and each choice a judge makes (which sampler, which K,
which metric, which baseline, which seeds) is pinned by a table where another choice would change the verdict.
Branch coverage of both modules by this file and test_verdicts.py was measured with
``coverage run --branch`` (every line and branch of the judges reached).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rpd.report import stats as S
from rpd.report import verdicts as V

CLEAR_BETTER, BASE, CLEAR_WORSE = [0.10, 0.11, 0.12], [0.50, 0.52, 0.55], [0.90, 0.93, 0.95]
OVERLAP = [0.30, 0.70, 0.50]  # against BASE: the ratio's interval contains 1

MODELS = {"rpd": {"family": "rpd", "prior": "vq", "prior_size": "std", "aux": "omega"},
          "rpd_mu": {"family": "rpd", "prior": "vq", "prior_size": "std", "aux": "mu"},
          "rpd_none": {"family": "rpd", "prior": "vq", "prior_size": "std", "aux": "none"},
          "rpd_weak": {"family": "rpd", "prior": "vq", "prior_size": "small", "aux": "omega"},
          "ddpm": {"family": "ddpm"},
          "dvae1": {"family": "diffusevae1", "prior": "vq", "prior_size": "std"},
          "dvae2": {"family": "diffusevae2", "prior": "vq", "prior_size": "std"}}


def config(family: str, models: list[str], sizes: tuple[str, ...] = ("std",), datasets: tuple[str, ...] = ("d",),
           samplers: tuple[str, ...] = ("ddpm", "ddim"), steps: tuple[int, ...] = (1, 3, 10), **exp: object) -> dict:
    experiment = {"datasets": list(datasets), "models": models, "sizes": list(sizes), **exp}
    return {"seeds": [0, 1, 2], "models": MODELS, "experiments": {family: experiment},
            "sampling": [{"samplers": list(samplers), "steps": list(steps)}]}


def rows(model: str, metric: str, values: list[float], sampler: str = "ddpm", steps: int = 10, size: str = "std",
         dataset: str = "d", **extra: object) -> list[dict]:
    return [{"dataset": dataset, "model": model, "size": size, "sampler": sampler, "steps": steps, "metric": metric,
             "seed": seed, "value": v, **extra} for seed, v in enumerate(values)]


def grid(model: str, metric: str, values: list[float], samplers=("ddpm", "ddim"), steps=(1, 3, 10),
         **extra: object) -> list[dict]:
    """The same values at every (sampler, K)."""
    return [r for s in samplers for k in steps for r in rows(model, metric, values, s, k, **extra)]


def verdict(cfg: dict, table: list[dict], claim: str) -> V.Verdict:
    return {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(table))}[claim]


# ---------------------------------------------------------------------------------------------------------
# Guards: each judge's guard vetoes a claim its deciding tests support


def test_c1_global_layout_guard_vetoes_a_local_win() -> None:
    """RPD wins RW-1WD clearly but is clearly worse on 1WD: C1 ('without losing the global layout') fails."""
    cfg = config("e1", ["rpd", "ddpm"])
    table = grid("rpd", "rw1wd", CLEAR_BETTER) + grid("ddpm", "rw1wd", BASE)
    no_layout = verdict(cfg, table, "C1")
    assert no_layout.status == V.SUPPORTED and no_layout.guards == []  # no 1WD rows: no guard (none shown)
    v = verdict(cfg, table + grid("rpd", "1wd", CLEAR_WORSE) + grid("ddpm", "1wd", BASE), "C1")
    assert v.status == V.NOT_SUPPORTED and v.reason.startswith("guard rpd − ddpm, 1WD")
    assert v.deciding[0].status == V.SUPPORTED and v.guards[0].lo > 0
    assert "challenger clearly worse" in v.reason
    # an equal 1WD (interval contains 1) does not veto
    assert verdict(cfg, table + grid("rpd", "1wd", OVERLAP) + grid("ddpm", "1wd", BASE), "C1").status == V.SUPPORTED


def test_c2_diffusevae_guard_vetoes_a_win_over_ddpm() -> None:
    """RPD beats DDPM at K = 1, 3 but DiffuseVAE (either form) is clearly better than RPD: C2 fails."""
    for dvae in ("dvae1", "dvae2"):
        cfg = config("e2", ["rpd", "ddpm", dvae])
        table = grid("rpd", "kid", CLEAR_BETTER) + grid("ddpm", "kid", BASE)
        v = verdict(cfg, table + grid(dvae, "kid", [0.01, 0.011, 0.012]), "C2")
        assert v.status == V.NOT_SUPPORTED and "guard rpd − " + dvae in v.reason
        assert all(o.status == V.SUPPORTED for o in v.deciding)
        assert [(o.test.baseline.label, o.test.where["steps"]) for o in v.guards] == [(dvae, 1), (dvae, 3)]
        # DiffuseVAE merely as good (overlapping) leaves C2 supported: "matches or beats"
        assert verdict(cfg, table + grid(dvae, "kid", [0.09, 0.13, 0.11]), "C2").status == V.SUPPORTED


def progress(model: str, curve: list[list[float]], iterations=(200, 400, 600, 800, 1000), metric="rw1wd",
             dataset: str = "d") -> list[dict]:
    """Snapshot scores (sampler 'progress', K = iteration): ``curve[i]`` holds the three seeds' values at i."""
    return [r for it, values in zip(iterations, curve) for r in rows(model, metric, values, "progress", it,
                                                                        dataset=dataset)]


FAST = [[0.4, 0.42, 0.41], [0.2, 0.21, 0.2], [0.15, 0.16, 0.15], [0.13, 0.13, 0.14], [0.12, 0.12, 0.125]]
SLOW = [[2.0, 2.1, 2.2], [1.0, 1.1, 0.9], [0.5, 0.52, 0.51], [0.2, 0.22, 0.21], [0.12, 0.125, 0.12]]


def test_c4_is_decided_on_the_area_under_the_log_metric_curve() -> None:
    """ω falls faster (same end point): supported on the log area; the final snapshot alone would not decide."""
    cfg = config("e4", ["rpd", "rpd_mu"])
    v = verdict(cfg, progress("rpd", FAST) + progress("rpd_mu", SLOW), "C4")
    assert v.status == V.SUPPORTED and v.deciding[0].test.where == {"dataset": "d", "size": "std",
                                                                    "sampler": "progress-area"}
    assert v.deciding[0].scale == V.LOG_RATIO and v.deciding[0].hi < 0
    assert v.guards[0].test.where["steps"] == 1000 and v.guards[0].status != V.SUPPORTED  # equal end points
    # the geometric mean over the curve, by the trapezoid rule: FAST seed 0
    from rpd.report.judges.aux_input import log_area

    x, y = np.array([200, 400, 600, 800, 1000]), np.array([c[0] for c in FAST])
    assert log_area(x, y) == pytest.approx(np.exp(np.trapezoid(np.log(y), x) / 800))
    assert verdict(cfg, progress("rpd", SLOW) + progress("rpd_mu", FAST), "C4").status == V.NOT_SUPPORTED


def test_c4_on_snapshots_is_gated_on_the_final_models_drawn_with_the_snapshots_sampler() -> None:
    """The snapshot scores come from the snapshots' sampler (rpd.progress: ancestral, 'ddpm'); final models that
    fail the sanity thresholds with it make C4 not fit to judge, a failure with another sampler does not."""
    cfg = {**config("e4", ["rpd", "rpd_mu"]), "datasets": {"d": {"kind": "fmnist", "resolution": 16}}}
    table = progress("rpd", FAST) + progress("rpd_mu", SLOW)
    assert verdict(cfg, table, "C4").status == V.SUPPORTED  # no sanity rows: nothing to gate
    diverged = rows("rpd_mu", "out_of_range", [0.40, 0.45, 0.42], "ddpm", 10)
    v = verdict(cfg, table + diverged, "C4")
    assert v.status == V.UNFIT and "rpd_mu-std ddpm K=10: 42.3% of values outside" in v.reason
    assert verdict(cfg, table + rows("rpd_mu", "out_of_range", [0.40, 0.45, 0.42], "ddim", 10), "C4").status \
        == V.SUPPORTED


def test_c4_pairs_omega_and_mu_of_one_target_per_dataset() -> None:
    """E4 may run ε models on one dataset and v models on another (``exclude``): each dataset is judged on its
    own ω / μ̂ pair of one target, never ω of one target against μ̂ of the other."""
    models = {**MODELS, "rpd_v": {**MODELS["rpd"], "target": "v"}, "rpd_mu_v": {**MODELS["rpd_mu"], "target": "v"}}
    exclude = [{"dataset": "a", "model": "rpd_v"}, {"dataset": "a", "model": "rpd_mu_v"},
               {"dataset": "b", "model": "rpd"}, {"dataset": "b", "model": "rpd_mu"}]
    cfg = {**config("e4", ["rpd", "rpd_mu", "rpd_v", "rpd_mu_v"], datasets=("a", "b"), exclude=exclude),
           "models": models}
    table = (progress("rpd", FAST, dataset="a") + progress("rpd_mu", SLOW, dataset="a")
             + progress("rpd_v", FAST, dataset="b") + progress("rpd_mu_v", SLOW, dataset="b"))
    v = verdict(cfg, table, "C4")
    assert v.status == V.SUPPORTED
    assert [(o.test.where["dataset"], o.test.challenger.label, o.test.baseline.label) for o in v.deciding] == [
        ("a", "rpd", "rpd_mu"), ("b", "rpd_v", "rpd_mu_v")]
    # the v pair loses on its dataset: C4 ('on every E4 dataset') is not supported
    table = table[: len(table) // 2] + progress("rpd_v", SLOW, dataset="b") + progress("rpd_mu_v", FAST, dataset="b")
    assert verdict(cfg, table, "C4").status == V.NOT_SUPPORTED


def test_an_experiment_s_rows_leave_out_its_excluded_pairs() -> None:
    """A run another experiment made (the ε RPD on images, E6's) is not in E4's rows, tables or figures when E4
    excludes that (dataset, model) pair."""
    exp = {"datasets": ["a", "b"], "models": ["rpd", "rpd_mu"], "sizes": ["std"],
           "exclude": [{"dataset": "b", "model": "rpd"}]}
    frame = pd.DataFrame(rows("rpd", "rw1wd", BASE, dataset="a") + rows("rpd", "rw1wd", BASE, dataset="b")
                         + rows("rpd_mu", "rw1wd", BASE, dataset="b"))
    kept = frame[V.in_experiment(frame, exp)]
    assert sorted(set(zip(kept["dataset"], kept["model"]))) == [("a", "rpd"), ("b", "rpd_mu")]


def test_c4_metric_guard_vetoes_a_faster_falling_loss() -> None:
    """ω lowers the loss and the curve's area, but the final model is clearly worse: C4 fails."""
    cfg = config("e4", ["rpd", "rpd_mu"])
    table = (rows("rpd", "train_loss_mean", [0.2, 0.21, 0.22], "train", 0)
             + rows("rpd_mu", "train_loss_mean", [0.5, 0.52, 0.51], "train", 0))
    v = verdict(cfg, table, "C4")  # only loss rows: no snapshot metric, no guard
    assert v.status == V.SUPPORTED and v.guards == []
    late_worse = FAST[:-1] + [[0.9, 0.93, 0.95]]
    v = verdict(cfg, table + progress("rpd", late_worse) + progress("rpd_mu", SLOW[:-1] + [BASE]), "C4")
    assert v.status == V.NOT_SUPPORTED and "guard rpd − rpd_mu, RW-1WD" in v.reason
    assert v.guards[0].test.where == {"dataset": "d", "size": "std", "sampler": "progress", "steps": 1000}


def test_c4_a_non_finite_snapshot_decides_against_its_model() -> None:
    cfg = config("e4", ["rpd", "rpd_mu"])
    broken = [row if i else [float("nan"), 0.42, 0.41] for i, row in enumerate(FAST)]
    v = verdict(cfg, progress("rpd", broken) + progress("rpd_mu", SLOW), "C4")
    area = v.deciding[0]
    assert v.status != V.SUPPORTED and area.status != V.SUPPORTED  # the other two seeds would have supported it
    assert "seed 0: rpd value inf (seed decided against rpd)" in area.reason


def test_a_guard_needs_two_seeds_and_a_finite_interval_to_veto() -> None:
    win = V.run_test(pd.DataFrame(rows("rpd", "rw1wd", CLEAR_BETTER) + rows("ddpm", "rw1wd", BASE)),
                     V.Test("rw1wd", V.Side("rpd", {"model": "rpd"}), V.Side("ddpm", {"model": "ddpm"}),
                            {"dataset": "d"}))
    one_seed_loss = V.run_test(pd.DataFrame(rows("rpd", "1wd", [9.0]) + rows("ddpm", "1wd", [0.1])),
                               V.Test("1wd", V.Side("rpd", {"model": "rpd"}), V.Side("ddpm", {"model": "ddpm"}),
                                      {"dataset": "d"}))
    assert one_seed_loss.seeds == 1 and one_seed_loss.mean > 0
    assert V.combine("C1", "e1", "s", [win], [one_seed_loss]).status == V.SUPPORTED


def test_a_failed_deciding_test_is_reported_before_a_guard() -> None:
    t = V.Test("rw1wd", V.Side("rpd", {"model": "rpd"}), V.Side("ddpm", {"model": "ddpm"}), {"dataset": "d"})
    loss = V.run_test(pd.DataFrame(rows("rpd", "rw1wd", CLEAR_WORSE) + rows("ddpm", "rw1wd", BASE)), t)
    overlap = V.run_test(pd.DataFrame(rows("rpd", "rw1wd", OVERLAP) + rows("ddpm", "rw1wd", BASE)), t)
    win = V.run_test(pd.DataFrame(rows("rpd", "rw1wd", CLEAR_BETTER) + rows("ddpm", "rw1wd", BASE)), t)
    v = V.combine("C1", "e1", "s", [loss], guards=[loss])
    assert v.status == V.NOT_SUPPORTED and not v.reason.startswith("guard")
    v = V.combine("C1", "e1", "s", [win, overlap])  # the reason lists only what kept it from support
    assert v.status == V.INCONCLUSIVE and v.reason.count("rpd − ddpm") == 1 and "contains 1" in v.reason


# ---------------------------------------------------------------------------------------------------------
# 'Not run': each judge's preconditions

#: The whole of C4's 'not run' reason: it tells the user both ways of giving C4 its evidence.
C4_NEEDS = ("E4 needs RPD models with aux omega and aux mu (or none) with results (snapshot scores or training-loss "
            "rows)")


@pytest.mark.parametrize("claim,family,models,sizes,needs", [
    ("C1", "e1", ["rpd"], ("std",), "E1 needs an RPD and a DDPM model"),
    ("C2", "e2", ["ddpm"], ("std",), "E2 needs an RPD and a DDPM model"),
    ("C3", "e3", ["rpd"], ("std",), "E3 needs an RPD model at two network sizes"),
    ("C3", "e3", ["ddpm"], ("std", "small"), "E3 needs an RPD model at two network sizes"),
    ("C4", "e4", ["rpd"], ("std",), C4_NEEDS),
    ("C4", "e4", ["rpd_mu"], ("std",), C4_NEEDS),
    ("C5", "e5", ["rpd"], ("std",), "E5 needs RPD models on two sizes of one prior"),
    ("C6", "e8", ["rpd"], ("std",), "E8 needs RPD and DiffuseVAE models on the same prior"),
])
def test_a_judge_without_its_models_is_not_run(claim, family, models, sizes, needs) -> None:
    table = [r for m in MODELS for size in sizes for r in grid(m, "rw1wd", BASE, size=size)]
    table += [r for m in MODELS for r in rows(m, "elbo", BASE, "bound", 1000)]
    v = verdict(config(family, models, sizes), table, claim)
    assert v.status == V.NOT_RUN and needs in v.reason and v.key_number == "—"


@pytest.mark.parametrize("claim,family,models,sizes", [
    ("C1", "e1", ["rpd", "ddpm"], ("std",)), ("C2", "e2", ["rpd", "ddpm"], ("std",)),
    ("C3", "e3", ["rpd"], ("std", "small")), ("C4", "e4", ["rpd", "rpd_mu"], ("std",)),
    ("C5", "e5", ["rpd", "rpd_weak"], ("std",)),
])
def test_a_judge_without_rows_is_not_run(claim, family, models, sizes) -> None:
    """The models exist, but the table has no rows of the experiment (here: other seeds only)."""
    cfg = config(family, models, sizes, seeds=[7])
    table = [r for m in models for size in sizes for r in grid(m, "rw1wd", BASE, size=size)]
    v = verdict(cfg, table, claim)
    assert v.status == V.NOT_RUN and "with results" in v.reason


@pytest.mark.parametrize("claim,family,models", [("C1", "e1", ["rpd", "ddpm"]), ("C2", "e2", ["rpd", "ddpm"]),
                                                 ("C5", "e5", ["rpd", "rpd_weak"])])
def test_a_judge_without_a_quality_metric_is_not_run(claim, family, models) -> None:
    """Rows exist, but none of a quality metric (only mass error): no test can be formed on the dataset."""
    table = [r for m in models for r in grid(m, "mass_error", BASE)]
    v = verdict(config(family, models), table, claim)
    assert v.status == V.NOT_RUN and v.reason == "no diffusion rows on d"


def test_c3_without_rows_of_its_rpd_model_is_not_run() -> None:
    cfg = config("e3", ["rpd", "ddpm"], ("std", "small"))
    table = grid("ddpm", "rw1wd", BASE) + grid("ddpm", "rw1wd", BASE, size="small")
    v = verdict(cfg, table, "C3")
    assert v.status == V.NOT_RUN and v.reason == "no RPD rows on d"


def test_c6_is_decided_on_j2_of_same_prior_pairs_with_the_bound_beside() -> None:
    cfg = config("e8", ["rpd", "dvae1"])
    assert verdict(cfg, grid("rpd", "rw1wd", BASE) + grid("dvae1", "rw1wd", BASE), "C6").status == V.NOT_RUN
    table = rows("rpd", "j2", CLEAR_BETTER, "bound", 1000) + rows("dvae1", "j2", BASE, "bound", 1000)
    v = verdict(cfg, table, "C6")
    assert v.status == V.SUPPORTED and v.deciding[0].test.metric == "j2" and v.deciding[0].scale == V.LOG_RATIO
    # the whole bound is shown beside it, not deciding: an elbo loss leaves the J₂ verdict
    both = table + rows("rpd", "elbo", [3.3, 3.4, 3.35], "bound", 1000) + rows("dvae1", "elbo", [3.0, 3.1, 3.05],
                                                                                 "bound", 1000)
    v = verdict(cfg, both, "C6")
    assert v.status == V.SUPPORTED and [o.test.metric for o in v.deciding] == ["j2"]
    # a model left out on a dataset (experiment key `exclude`) forms no pair there
    two = {**MODELS, "rpd_beta": {**MODELS["rpd"], "prior": "beta"}}
    excl = {**config("e8", ["rpd", "rpd_beta", "dvae1"], exclude=[{"dataset": "d", "model": "rpd"}]), "models": two}
    assert verdict(excl, both, "C6").status == V.NOT_RUN  # rpd_beta's prior differs from dvae1's, rpd left out
    # a DiffuseVAE on another prior than RPD's is no pair: nothing to decide
    other = {**MODELS, "dvae1": {**MODELS["dvae1"], "prior": "beta"}}
    v = verdict({**cfg, "models": other}, both, "C6")
    assert v.status == V.NOT_RUN and "same prior" in v.reason


def test_c6_pairs_per_dataset_by_the_prior_used_there_and_reads_only_e8s_rows() -> None:
    from rpd.report.judges import bound as B

    models = {"rpd": {"family": "rpd", "prior": "vq", "image_prior": "beta"},
              "dvae1": {"family": "diffusevae1", "prior": "vq2", "image_prior": "beta"}}
    cfg = {**config("e8", ["rpd", "dvae1"], datasets=("d", "img", "e")), "models": models,
           "datasets": {"d": {"kind": "grid"}, "e": {"kind": "grid"}, "img": {"kind": "fmnist", "resolution": 8}}}
    exp = cfg["experiments"]["e8"]
    # on images both use their image prior (beta): a pair; on 2D data their priors differ (vq, vq2): none
    assert B.same_prior_pairs(cfg, exp, "img") == [("rpd", "dvae1")] and B.same_prior_pairs(cfg, exp, "d") == []
    same = {m: {**spec, "prior": "vq"} for m, spec in models.items()}
    left_out = {**exp, "exclude": [{"dataset": "d", "model": "dvae1"}]}
    assert B.same_prior_pairs({**cfg, "models": same}, left_out, "d") == []  # left out on d only
    assert B.same_prior_pairs({**cfg, "models": same}, left_out, "e") == [("rpd", "dvae1")]
    table = pd.DataFrame(rows("rpd", "j2", [1.0, 2.0, 3.0, 4.0], "bound", 1000)
                         + rows("dvae1", "j2", [1.0], "bound", 1000, dataset="x")  # not an E8 dataset
                         + rows("ddpm", "j2", [1.0], "bound", 1000) + rows("rpd", "j2", [1.0], "bound", 1000, size="big"))
    kept = B.bound_rows(cfg, table, exp)  # E8's datasets, models, sizes and the suite's seeds 0, 1, 2
    assert (kept["model"].tolist(), kept["seed"].tolist()) == (["rpd"] * 3, [0, 1, 2])
    assert B.bound_rows(cfg, table, {**exp, "seeds": [3]})["seed"].tolist() == [3]  # the experiment's own seeds
    assert len(B.bound_rows({k: v for k, v in cfg.items() if k != "seeds"}, table, exp)) == 4  # no seeds: all
    v = B.judge_c6(cfg, pd.DataFrame(rows("rpd", "j2", CLEAR_BETTER, "bound", 1000, dataset="img")
                                     + rows("dvae1", "j2", BASE, "bound", 1000, dataset="img")), exp)
    assert (v.claim, v.family, v.statement, v.status) == ("C6", "e8", V.CLAIMS["C6"][1], V.SUPPORTED)
    # prior_on: a dataset the config does not list is 2D; no image_prior means the prior on images too; the prior
    # size is the schema's default std when unset; a model without a prior (or unknown) has none
    assert B.prior_on(cfg, "rpd", "unlisted") == ("vq", "std") and B.prior_on(cfg, "rpd", "img") == ("beta", "std")
    plain = {**cfg, "models": {"m": {"family": "rpd", "prior": "p", "prior_size": "small"}, "d": {"family": "ddpm"}}}
    assert B.prior_on(plain, "m", "img") == ("p", "small")
    assert B.prior_on(plain, "d", "img") is None and B.prior_on(plain, "nobody", "d") is None
    none = B.judge_c6(cfg, pd.DataFrame(rows("rpd", "rw1wd", BASE)), exp)
    assert none.status == V.NOT_RUN and none.reason.startswith("E8 needs RPD and DiffuseVAE models on the same prior")


def test_every_claim_is_not_run_when_its_family_is_absent() -> None:
    cfg = {"seeds": [0], "models": MODELS, "experiments": {}, "sampling": []}
    verdicts = V.judge_claims(cfg, pd.DataFrame(rows("rpd", "rw1wd", BASE)))
    assert [v.claim for v in verdicts] == ["C1", "C2", "C3", "C4", "C5", "C6"]
    for v in verdicts:
        assert v.status == V.NOT_RUN and v.reason == f"{V.CLAIMS[v.claim][0].upper()} is not in this suite"


# ---------------------------------------------------------------------------------------------------------
# The choices a judge makes


def test_c1_without_the_ancestral_sampler_judges_the_largest_k_of_another() -> None:
    """No ddpm sampler: the largest K of what exists (DDIM 10). RPD wins only there."""
    cfg = config("e1", ["rpd", "ddpm"], samplers=("ddim",))
    table = grid("ddpm", "rw1wd", BASE, samplers=("ddim",))
    table += rows("rpd", "rw1wd", CLEAR_BETTER, "ddim", 10)
    table += rows("rpd", "rw1wd", CLEAR_WORSE, "ddim", 1) + rows("rpd", "rw1wd", CLEAR_WORSE, "ddim", 3)
    v = verdict(cfg, table, "C1")
    assert v.status == V.SUPPORTED and v.deciding[0].test.where["sampler"] == "ddim"
    assert v.deciding[0].test.where["steps"] == 10
    assert V.headline_pair(pd.DataFrame(rows("rpd", "rw1wd", BASE, "prior", 0))) is None


def test_c1_prefers_rw1wd_then_kid_then_cw1wd_then_1wd() -> None:
    frame = pd.DataFrame(rows("rpd", "1wd", BASE) + rows("rpd", "cw1wd", BASE) + rows("rpd", "kid", BASE)
                         + rows("rpd", "1wd", BASE, dataset="e"))
    assert V.primary_metric(frame, "d") == "kid" and V.primary_metric(frame, "e") == "1wd"
    assert V.primary_metric(frame, "f") is None


def test_c2_without_ddim_or_small_k_takes_the_first_sampler_and_its_smallest_k() -> None:
    """Few-step claims use DDIM; without it the first sampler listed; without K ≤ 3 the smallest K there is."""
    cfg = config("e2", ["rpd", "ddpm"], samplers=("ddpm",), steps=(5, 10))
    table = grid("ddpm", "rw1wd", BASE, samplers=("ddpm",), steps=(5, 10))
    table += rows("rpd", "rw1wd", CLEAR_BETTER, "ddpm", 5) + rows("rpd", "rw1wd", CLEAR_WORSE, "ddpm", 10)
    v = verdict(cfg, table, "C2")
    assert v.status == V.SUPPORTED and [(o.test.where["sampler"], o.test.where["steps"]) for o in v.deciding] == [
        ("ddpm", 5)]
    assert V.few_step_sampler(pd.DataFrame(rows("rpd", "rw1wd", BASE, "train", 0))) is None


def test_c2_needs_every_few_step_k() -> None:
    """RPD better at K = 1 but not at K = 3: not supported, and the reason names K = 3."""
    cfg = config("e2", ["rpd", "ddpm"])
    table = grid("ddpm", "rw1wd", BASE) + rows("rpd", "rw1wd", CLEAR_BETTER, "ddim", 1)
    table += rows("rpd", "rw1wd", CLEAR_WORSE, "ddim", 3) + rows("rpd", "rw1wd", CLEAR_BETTER, "ddim", 10)
    v = verdict(cfg, table, "C2")
    assert v.status == V.NOT_SUPPORTED and "steps 3" in v.reason and "steps 1" not in v.reason


def test_an_experiments_own_seeds_select_its_rows() -> None:
    """E1 lists seeds 0–2; seed 3 (a clear loss) belongs to another experiment and must not count."""
    cfg = config("e1", ["rpd", "ddpm"])
    table = grid("rpd", "rw1wd", CLEAR_BETTER + [5.0]) + grid("ddpm", "rw1wd", BASE + [0.1])
    v = verdict(cfg, table, "C1")
    assert v.status == V.SUPPORTED and v.deciding[0].seeds == 3
    cfg_all = {**cfg, "seeds": None}  # no seed list anywhere: every seed counts
    assert verdict(cfg_all, table, "C1").deciding[0].seeds == 4
    cfg_exp = config("e1", ["rpd", "ddpm"], seeds=[0, 1, 2, 3])  # the experiment's list overrides the suite's
    assert verdict(cfg_exp, table, "C1").deciding[0].seeds == 4


def test_rows_outside_the_experiments_sampling_pairs_are_ignored() -> None:
    cfg = config("e1", ["rpd", "ddpm"], steps=(1, 3))
    table = grid("rpd", "rw1wd", CLEAR_WORSE, steps=(1, 3)) + grid("ddpm", "rw1wd", BASE, steps=(1, 3))
    table += rows("rpd", "rw1wd", CLEAR_BETTER, "ddpm", 10) + rows("ddpm", "rw1wd", BASE, "ddpm", 10)
    v = verdict(cfg, table, "C1")  # K = 10 is not one of E1's pairs: judged at ddpm K = 3
    assert v.status == V.NOT_SUPPORTED and v.deciding[0].test.where["steps"] == 3


def test_c3_parameter_share_branches() -> None:
    cfg = config("e3", ["rpd"], ("std", "small"))
    close = grid("rpd", "rw1wd", [1.0, 1.02, 0.98]) + grid("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small")
    v = verdict(cfg, close, "C3")  # no parameters column: decided on the metric alone
    assert v.status == V.SUPPORTED and "parameters" not in v.reason
    assert v.deciding[0].test.expect == "close" and v.deciding[0].test.challenger.label == "rpd-small"
    with_params = [{**r, "parameters": 1000 if r["size"] == "std" else 400} for r in close]
    v = verdict(cfg, with_params, "C3")
    assert v.status == V.SUPPORTED and "RPD_s (size small) has 40% of RPD's parameters (size std)" in v.reason
    half = [{**r, "parameters": 1000 if r["size"] == "std" else 500} for r in close]
    v = verdict(cfg, half, "C3")  # exactly half is not "under half"
    assert v.status == V.INCONCLUSIVE and "50%" in v.reason and "needs < 50%" in v.reason
    zero = [{**r, "parameters": 0 if r["size"] == "std" else 500} for r in close]
    assert "parameters" not in verdict(cfg, zero, "C3").reason  # no share from a zero count
    std_rows = [{**r, "parameters": 1000} for r in close if r["size"] == "std"]
    v = verdict(cfg, std_rows, "C3")  # no small rows at all: no pair, no share
    assert v.status == V.INCONCLUSIVE and "no seed-paired rows" in v.reason and "parameters" not in v.reason


def test_c4_falls_back_to_the_model_without_aux_input() -> None:
    cfg = config("e4", ["rpd", "rpd_none"])
    table = (rows("rpd", "train_loss_mean", [0.2, 0.21, 0.22], "train", 0)
             + rows("rpd_none", "train_loss_mean", [0.5, 0.52, 0.51], "train", 0))
    v = verdict(cfg, table, "C4")
    assert v.status == V.SUPPORTED and v.deciding[0].test.baseline.label == "rpd_none"
    both = config("e4", ["rpd", "rpd_none", "rpd_mu"])  # μ̂ alone is the baseline when both exist
    table += (rows("rpd_mu", "train_loss_mean", [0.1, 0.11, 0.12], "train", 0))
    v = verdict(both, table, "C4")
    assert v.status == V.NOT_SUPPORTED and v.deciding[0].test.baseline.label == "rpd_mu"


def test_c5_weak_prior_judged_at_k_1_and_3_of_the_few_step_sampler() -> None:
    cfg = config("e5", ["rpd", "rpd_weak"])
    table = grid("rpd", "rw1wd", BASE)
    table += rows("rpd_weak", "rw1wd", CLEAR_WORSE, "ddim", 1) + rows("rpd_weak", "rw1wd", BASE, "ddim", 3)
    table += rows("rpd_weak", "rw1wd", CLEAR_BETTER, "ddpm", 1)
    v = verdict(cfg, table, "C5")
    assert [o.test.where for o in v.deciding] == [{"dataset": "d", "size": "std", "sampler": "ddim", "steps": k}
                                                  for k in (1, 3)]
    assert v.status == V.INCONCLUSIVE  # worse at K = 1, no different at K = 3
    assert v.deciding[0].test.challenger.label == "rpd_weak" and v.deciding[0].test.expect == "higher"
    worse = table + rows("rpd_weak", "rw1wd", CLEAR_WORSE, "ddim", 3)
    worse = [r for r in worse if not (r["model"] == "rpd_weak" and r["steps"] == 3 and r["value"] in BASE)]
    assert verdict(cfg, worse, "C5").status == V.SUPPORTED
    better = grid("rpd", "rw1wd", BASE) + rows("rpd_weak", "rw1wd", CLEAR_BETTER, "ddim", 1)
    assert verdict(cfg, better, "C5").status == V.NOT_SUPPORTED


def test_c5_prefers_v_prediction_models() -> None:
    """Few-step claims are judged on a target well-posed at K = 1 (SPEC §2): v models when the experiment has them."""
    models = {**MODELS, "rpd_v": {**MODELS["rpd"], "target": "v"}, "rpd_weak_v": {**MODELS["rpd_weak"], "target": "v"}}
    cfg = {**config("e5", ["rpd", "rpd_weak", "rpd_v", "rpd_weak_v"]), "models": models}
    table = grid("rpd", "rw1wd", BASE) + grid("rpd_weak", "rw1wd", CLEAR_BETTER)
    table += grid("rpd_v", "rw1wd", BASE) + grid("rpd_weak_v", "rw1wd", CLEAR_WORSE)
    v = verdict(cfg, table, "C5")
    assert v.status == V.SUPPORTED and v.deciding[0].test.challenger.label == "rpd_weak_v"
    assert v.deciding[0].test.baseline.label == "rpd_v"


def test_c6_one_seed_is_inconclusive() -> None:
    """One seed: no seed-paired interval; the bounds' standard errors do not stand in for seeds (SPEC §7)."""
    cfg = config("e8", ["rpd", "dvae1"])
    j2 = rows("rpd", "j2", [0.1], "bound", 1000, se=0.01) + rows("dvae1", "j2", [0.5], "bound", 1000, se=0.01)
    v = verdict(cfg, j2, "C6")
    assert v.status == V.INCONCLUSIVE and v.deciding[0].seeds == 1


# ---------------------------------------------------------------------------------------------------------
# Key numbers and the statistics' own guards


def test_key_number_forms() -> None:
    t = V.Test("elbo", V.Side("rpd", {"model": "rpd"}), V.Side("ddpm", {"model": "ddpm"}), {"dataset": "d"})
    none = V.run_test(pd.DataFrame(rows("rpd", "elbo", BASE)), t)
    assert V.combine("C6", "e8", "s", [none]).key_number == "no paired rows"
    one = V.run_test(pd.DataFrame(rows("rpd", "elbo", [1.0]) + rows("ddpm", "elbo", [1.5])), t)
    assert V.combine("C6", "e8", "s", [one]).key_number == "Δ −ELBO = -0.5 (1 seed; rpd 1 vs ddpm 1.5)"
    loss = V.run_test(pd.DataFrame(rows("rpd", "elbo", [3.0, 3.1, 3.2]) + rows("ddpm", "elbo", [1.0, 1.1, 1.2])), t)
    win = V.run_test(pd.DataFrame(rows("rpd", "elbo", [1.0, 1.1, 1.2]) + rows("ddpm", "elbo", [3.0, 3.1, 3.2])), t)
    key = V.combine("C6", "e8", "s", [win, loss]).key_number  # not supported: the losing test is the key
    assert key.startswith("Δ −ELBO = 2 [") and "(3 seeds; rpd 3.1 vs ddpm 1.1)" in key


def test_statistics_guards() -> None:
    t = V.Test("elbo", V.Side("a", {}), V.Side("b", {}), {}, expect="sideways")
    with pytest.raises(ValueError, match="unknown expectation 'sideways'; allowed: lower, higher, close"):
        S.decide(t, 3, -1.0, 1.0, 1.0)
    assert S.sign_status(np.nan, -1.0) == S.INCONCLUSIVE and S.sign_status(-2.0, np.inf) == S.INCONCLUSIVE
    assert S.sign_status(-2.0, -1.0) == S.SUPPORTED and S.sign_status(1.0, 2.0, "higher") == S.SUPPORTED
    assert S.sign_status(-2.0, -1.0, "higher") == S.NOT_SUPPORTED
    mean, sd, n, lo, hi = S.t_interval([1.0, np.nan, 3.0, np.inf])  # non-finite values are not seeds
    assert (mean, n) == (2.0, 2) and hi - lo == pytest.approx(2 * 12.706204736174703 * np.sqrt(2) / np.sqrt(2))
    assert S.t_interval([])[2] == 0 and np.isnan(S.t_interval([5.0])[3])


def test_close_on_a_difference_uses_ten_percent_of_the_baseline_mean() -> None:
    """−ELBO (not a ratio metric): margin = 0.1 × |baseline mean| = 0.3 for a baseline of −3."""
    t = V.Test("elbo", V.Side("s", {"model": "s"}), V.Side("b", {"model": "b"}), {"dataset": "d"}, expect="close")
    base = [-3.0, -3.0, -3.0, -3.0]
    o = V.run_test(pd.DataFrame(rows("s", "elbo", [-2.8, -2.79, -2.81, -2.8]) + rows("b", "elbo", base)), t)
    assert o.status == V.SUPPORTED and "margin +0.3" in o.reason  # Δ ≈ 0.2 < 0.3
    o = V.run_test(pd.DataFrame(rows("s", "elbo", [-2.6, -2.59, -2.61, -2.6]) + rows("b", "elbo", base)), t)
    assert o.status == V.NOT_SUPPORTED  # Δ ≈ 0.4 > 0.3


def test_summarise_keeps_kid_extractors_apart() -> None:
    frame = pd.DataFrame(rows("rpd", "kid", [0.1, 0.2, 0.3], extractor="net") + rows("rpd", "kid", [1.0, 1.0, 1.0],
                                                                                      extractor="inception"))
    out = S.summarise(frame, ["model"])
    assert sorted(zip(out["extractor"], out["mean"].round(6))) == [("inception", 1.0), ("net", 0.2)]
    no_extractor = S.summarise(frame.assign(extractor=None), ["model"])
    assert len(no_extractor) == 1 and no_extractor["seeds"].iloc[0] == 6  # one group when no extractor is named
    assert "extractor" not in S.summarise(frame.drop(columns="extractor"), ["model"])
    assert list(S.summarise(frame.iloc[:0], ["model"]).columns) == ["model", "metric", "mean", "sd", "seeds", "lo",
                                                                    "hi"]


def test_paired_outcomes_form_one_test_per_setting_both_models_ran() -> None:
    table = grid("rpd", "rw1wd", CLEAR_BETTER, samplers=("ddim",)) + grid("ddpm", "rw1wd", BASE, samplers=("ddim",))
    table += rows("rpd", "rw1wd", CLEAR_BETTER, "ddpm", 10)  # no ddpm-model row here: no test
    outs = S.paired_outcomes(pd.DataFrame(table), ["rpd"], ["ddpm"], "rw1wd")
    assert [(o.test.where["sampler"], o.test.where["steps"]) for o in outs] == [("ddim", 1), ("ddim", 3),
                                                                                ("ddim", 10)]
    assert all(o.status == V.SUPPORTED and isinstance(o.test.where["steps"], int) for o in outs)


def test_c3_judges_the_few_step_setting_only_when_it_differs_from_the_headline() -> None:
    cfg = config("e3", ["rpd"], ("std", "small"), samplers=("ddpm",), steps=(10,))
    close = rows("rpd", "rw1wd", [1.0, 1.02, 0.98]) + rows("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small")
    v = verdict(cfg, close, "C3")  # ddpm K = 10 is both the headline and the few-step setting: one test
    assert v.status == V.SUPPORTED and [(o.test.where["sampler"], o.test.where["steps"]) for o in v.deciding] == [
        ("ddpm", 10)]
    cfg = config("e3", ["rpd"], ("std", "small"), samplers=("ddpm", "ddim"), steps=(1, 3, 10))
    table = grid("rpd", "rw1wd", [1.0, 1.02, 0.98]) + grid("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small")
    v = verdict(cfg, table, "C3")  # headline ddpm K = 10, few-step DDIM at the fewest K ≥ 3
    assert [(o.test.where["sampler"], o.test.where["steps"]) for o in v.deciding] == [("ddpm", 10), ("ddim", 3)]
    assert V.few_step_setting(pd.DataFrame(rows("rpd", "train_loss_mean", BASE, "train", 0))) is None


def test_c4_area_of_a_single_snapshot_is_its_value_and_no_snapshot_has_none() -> None:
    """A run scored once (one snapshot) is judged on that score; a run without snapshots has no area."""
    from rpd.report.judges.aux_input import area_rows, log_area

    assert log_area(np.array([500]), np.array([0.3])) == pytest.approx(0.3)
    assert np.isnan(log_area(np.array([]), np.array([])))
    assert log_area(np.array([200, 400]), np.array([0.3, 0.0])) == np.inf  # a zero score cannot be logged
    # unsorted iterations are put in order: 0.1 at 200 and 0.4 at 1000 give exp(mean of the two logs) = 0.2
    assert log_area(np.array([1000, 200]), np.array([0.4, 0.1])) == pytest.approx(0.2)
    areas = area_rows(pd.DataFrame(progress("rpd", [[0.3, 0.4, 0.5]], iterations=(700,))))
    assert areas["value"].tolist() == pytest.approx([0.3, 0.4, 0.5]) and set(areas["steps"]) == {700}


def test_paired_outcomes_come_in_setting_order_whatever_the_row_order() -> None:
    """The table lists K ascending within each sampler even when metrics.csv holds the rows in another order."""
    table = (grid("rpd", "rw1wd", CLEAR_BETTER, samplers=("ddim",), steps=(10, 1, 3))
             + grid("ddpm", "rw1wd", BASE, samplers=("ddim",), steps=(3, 10, 1)))
    outs = S.paired_outcomes(pd.DataFrame(table), ["rpd"], ["ddpm"], "rw1wd")
    assert [o.test.where["steps"] for o in outs] == [1, 3, 10]


def test_paired_outcomes_name_k_as_an_integer_when_the_column_is_float() -> None:
    """metrics.csv read back with an empty K somewhere (bound rows) holds K as floats; the row still says K = 10."""
    table = pd.DataFrame(rows("rpd", "rw1wd", CLEAR_BETTER) + rows("ddpm", "rw1wd", BASE)).astype({"steps": float})
    (out,) = S.paired_outcomes(table, ["rpd"], ["ddpm"], "rw1wd")
    assert out.test.describe() == "rpd − ddpm, RW-1WD (dataset d, size std, sampler ddpm, steps 10)"
    assert out.status == V.SUPPORTED and out.seeds == 3


def test_an_unset_aux_or_prior_size_is_read_as_its_schema_default() -> None:
    """A model that leaves out ``aux`` is the ω model of C4 and one that leaves out ``prior_size`` is on the
    standard prior for C5 (the schema's defaults: omega, std)."""
    from rpd.report.judges.aux_input import sides
    from rpd.report.judges.prior_capacity import prior_pair

    cfg = {"models": {"w": {"family": "rpd"}, "m": {"family": "rpd", "aux": "mu"}}}
    assert sides(cfg, {"models": ["w", "m"]}, "d") == ("w", "m")
    cfg = {"models": {"s": {"family": "rpd", "prior": "p"}, "weak": {"family": "rpd", "prior": "p", "prior_size": "small"}}}
    priors = pd.DataFrame(prior_rows("p", {"std": 1000, "small": 400}))
    assert prior_pair(cfg, {"datasets": ["d"], "models": ["weak", "s"]}, priors) == ("weak", "s")


# ---------------------------------------------------------------------------------------------------------
# Sizes are free names: C3 and C5 take the largest and the smallest by parameter count (rpd.report.sizes)


def prior_rows(prior: str, counts: dict[str, int], dataset: str = "d") -> list[dict]:
    """A prior's own rows (sampler 'prior', K 0) at each size, with its parameter count."""
    return [r for size, n in counts.items()
            for r in rows(prior, "rw1wd", BASE, "prior", 0, size=size, dataset=dataset, parameters=n)]


def renamed(table: list[dict], names: dict[str, str]) -> list[dict]:
    return [{**r, "size": names.get(r["size"], r["size"])} for r in table]


def test_c3_compares_the_largest_and_the_smallest_size_by_parameter_count_whatever_their_names() -> None:
    """Sizes alpha (small, listed first) and zeta (large): RPD_s is alpha; std/small gave the same verdict."""
    close = grid("rpd", "rw1wd", [1.0, 1.02, 0.98], parameters=1000)
    close += grid("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small", parameters=400)
    named = verdict(config("e3", ["rpd"], ("std", "small")), close, "C3")
    free = verdict(config("e3", ["rpd"], ("alpha", "zeta")), renamed(close, {"std": "zeta", "small": "alpha"}), "C3")
    assert free.status == named.status == V.SUPPORTED and free.key_number == named.key_number.replace(
        "rpd-small", "rpd-alpha").replace("rpd-std", "rpd-zeta")
    assert [(o.test.challenger.label, o.test.baseline.label) for o in free.deciding] == [("rpd-alpha", "rpd-zeta")] * 2
    assert "RPD_s (size alpha) has 40% of RPD's parameters (size zeta)" in free.reason
    # three sizes: the middle one is left out; an 'alpha' at 60% of zeta fails the precondition, and says so
    three = close + grid("rpd", "rw1wd", [5.0, 5.1, 5.2], size="mid", parameters=700)
    free = verdict(config("e3", ["rpd"], ("mid", "alpha", "zeta")),
                   renamed(three, {"std": "zeta", "small": "alpha"}), "C3")
    assert free.status == V.SUPPORTED and free.deciding[0].test.challenger.label == "rpd-alpha"
    wide = [{**r, "parameters": 600} if r["size"] == "small" else r for r in close]
    free = verdict(config("e3", ["rpd"], ("alpha", "zeta")), renamed(wide, {"std": "zeta", "small": "alpha"}), "C3")
    assert free.status == V.INCONCLUSIVE and "RPD_s (size alpha) has 60% of RPD's parameters (size zeta)" in free.reason


def c5_config(sizes: tuple[str, str]) -> dict:
    """E5 on two RPD models on prior p, at prior sizes ``sizes`` (the first listed first in prior_sizes)."""
    models = {"rpd_a": {"family": "rpd", "prior": "p", "prior_size": sizes[0]},
              "rpd_b": {"family": "rpd", "prior": "p", "prior_size": sizes[1]}}
    return {**config("e5", ["rpd_a", "rpd_b"]), "models": models, "datasets": {"d": {"kind": "grid"}},
            "prior_sizes": {sizes[0]: {"hidden": 8, "depth": 2}, sizes[1]: {"hidden": 32, "depth": 2}}}


def test_c5_compares_the_prior_sizes_with_the_fewest_and_the_most_parameters_whatever_their_names() -> None:
    """Prior sizes alpha (few parameters, listed first) and zeta: RPD on alpha is the weak side, from the prior
    rows' counts; the same table under the names small and std gives the same verdict."""
    table = grid("rpd_a", "rw1wd", CLEAR_WORSE) + grid("rpd_b", "rw1wd", BASE)
    free = verdict(c5_config(("alpha", "zeta")), table + prior_rows("p", {"alpha": 400, "zeta": 1000}), "C5")
    named = verdict(c5_config(("small", "std")), table + prior_rows("p", {"small": 400, "std": 1000}), "C5")
    assert free.status == named.status == V.SUPPORTED and free.key_number == named.key_number
    assert free.deciding[0].test.challenger.label == "rpd_a" and free.deciding[0].test.baseline.label == "rpd_b"
    assert "prior p size alpha has 400 parameters, size zeta 1000" in free.reason
    # the counts decide, not the names or their order: alpha the larger prior makes rpd_b the weak side
    swapped = verdict(c5_config(("alpha", "zeta")), table + prior_rows("p", {"alpha": 1000, "zeta": 400}), "C5")
    assert swapped.status == V.NOT_SUPPORTED and swapped.deciding[0].test.challenger.label == "rpd_b"
    # no prior rows: the config's order (first listed = larger), and the verdict says the counts were missing
    blind = verdict(c5_config(("zeta", "alpha")), table, "C5")
    assert blind.deciding[0].test.challenger.label == "rpd_b" and "ordered by config order" in blind.reason


def test_c5_pairs_models_on_one_prior_only() -> None:
    """Two sizes of different priors are no capacity comparison: not run."""
    cfg = c5_config(("alpha", "zeta"))
    cfg["models"]["rpd_b"] = {**cfg["models"]["rpd_b"], "prior": "q"}
    table = grid("rpd_a", "rw1wd", CLEAR_WORSE) + grid("rpd_b", "rw1wd", BASE) + prior_rows("p", {"alpha": 400})
    v = verdict(cfg, table, "C5")
    assert v.status == V.NOT_RUN and "two sizes of one prior" in v.reason


def test_c5_reads_the_prior_rows_of_its_dataset_and_says_which_counts_it_ordered_by() -> None:
    from rpd.report.judges import prior_capacity as PC
    from rpd.report.sizes import size_parameters

    table = pd.DataFrame(prior_rows("p", {"alpha": 400, "zeta": 1000}) + prior_rows("p", {"alpha": 9}, dataset="e")
                         + prior_rows("q", {"alpha": 7}) + rows("p", "rw1wd", BASE, "ddim", 1, parameters=5))
    assert size_parameters(PC.prior_rows(table, "d", "p")) == {"alpha": 400, "zeta": 1000}  # p's own, on d
    for nothing in (None, table.iloc[0:0]):  # no metrics: no counts (and no error)
        assert size_parameters(PC.prior_rows(nothing, "d", "p")) == {}
    # only one size has a count: the pair is in config order, and the note says the counts were missing
    cfg = c5_config(("alpha", "zeta"))
    exp = cfg["experiments"]["e5"]
    note = PC.count_note(cfg, exp, pd.DataFrame(prior_rows("p", {"alpha": 400})), ("rpd_a", "rpd_b"))
    assert note.startswith("prior sizes zeta and alpha of p ordered by config order")
    # on images the models sit on their image prior: its rows give the counts
    img = {**cfg, "datasets": {"d": {"kind": "fmnist", "resolution": 8}},
           "models": {m: {**spec, "image_prior": "b"} for m, spec in cfg["models"].items()}}
    note = PC.count_note(img, exp, pd.DataFrame(prior_rows("b", {"alpha": 40, "zeta": 90})), ("rpd_a", "rpd_b"))
    assert note == "prior b size alpha has 40 parameters, size zeta 90"
    # the few-step sampler's smallest K decides when it drew neither 1 nor 3 (another sampler's K do not count);
    # the count note follows each test's own reason
    table = (grid("rpd_a", "rw1wd", CLEAR_WORSE, samplers=("ddim",), steps=(10, 30))
             + grid("rpd_b", "rw1wd", BASE, samplers=("ddim",), steps=(10, 30))
             + grid("rpd_a", "rw1wd", CLEAR_WORSE, samplers=("ddpm",), steps=(1000,))
             + grid("rpd_b", "rw1wd", BASE, samplers=("ddpm",), steps=(1000,))
             + prior_rows("p", {"alpha": 400, "zeta": 1000}))
    cfg = {**cfg, "sampling": [{"samplers": ["ddim"], "steps": [10, 30]}, {"samplers": ["ddpm"], "steps": [1000]}]}
    v = PC.judge_c5(cfg, pd.DataFrame(table), exp)
    assert [o.test.where["steps"] for o in v.deciding] == [10] and v.deciding[0].test.where["sampler"] == "ddim"
    reason = v.deciding[0].reason
    assert reason.endswith("; prior p size alpha has 400 parameters, size zeta 1000") and not reason.startswith(";")
    assert (v.claim, v.family, v.statement) == ("C5", "e5", V.CLAIMS["C5"][1])
    none = PC.judge_c5(cfg, pd.DataFrame(rows("rpd_a", "rw1wd", BASE)), {**exp, "models": ["rpd_a"]})
    assert none.status == V.NOT_RUN and none.reason.startswith("E5 needs RPD models on two sizes of one prior")
    assert none.reason.endswith("target) with results")
