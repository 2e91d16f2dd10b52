"""The claim verdicts on hand-made metric tables: clear win, clear loss, overlap, one seed, closeness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rpd.report import verdicts as V

WHERE = {"dataset": "d", "size": "std", "sampler": "ddpm", "steps": 10}


def table(challenger: list[float], baseline: list[float], metric: str = "rw1wd", a: str = "rpd", b: str = "ddpm",
          **where: object) -> pd.DataFrame:
    rows = []
    for model, values in ((a, challenger), (b, baseline)):
        for seed, value in enumerate(values):
            rows.append({**WHERE, **where, "model": model, "seed": seed, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def test_one(frame: pd.DataFrame, expect: str = "lower", metric: str = "rw1wd") -> V.Outcome:
    return V.run_test(frame, V.Test(metric, V.Side("rpd", {"model": "rpd"}), V.Side("ddpm", {"model": "ddpm"}),
                                    WHERE, expect))


test_one.__test__ = False  # a helper, not a test


def test_clear_win_is_supported() -> None:
    o = test_one(table([0.10, 0.12, 0.11], [0.60, 0.62, 0.58]))
    assert o.status == V.SUPPORTED and o.seeds == 3 and o.wins == 3
    # RW-1WD is positive and lower is better: the test is on the per-seed log ratio (SPEC §7)
    assert o.scale == V.LOG_RATIO
    assert o.mean == pytest.approx(np.mean(np.log([0.10 / 0.60, 0.12 / 0.62, 0.11 / 0.58]))) and o.hi < 0
    assert o.effect()[0] == pytest.approx(0.1829, abs=1e-4)
    assert "interval of the ratio" in o.reason and "entirely below 1" in o.reason


def test_clear_loss_is_not_supported() -> None:
    o = test_one(table([0.70, 0.72, 0.69], [0.20, 0.21, 0.22]))
    assert o.status == V.NOT_SUPPORTED and o.lo > 0 and o.wins == 0


def test_overlap_is_inconclusive() -> None:
    o = test_one(table([0.10, 0.50, 0.30], [0.30, 0.20, 0.35]))
    assert o.status == V.INCONCLUSIVE and o.lo < 0 < o.hi
    assert "contains 1" in o.reason


def test_single_seed_is_inconclusive_with_reason() -> None:
    o = test_one(table([0.1], [0.9]))
    assert o.status == V.INCONCLUSIVE and o.seeds == 1 and "one paired seed" in o.reason
    assert not np.isfinite(o.lo)


def test_unpaired_seeds_are_not_compared() -> None:
    frame = table([0.1, 0.1], [0.9, 0.9])
    frame.loc[frame["model"] == "ddpm", "seed"] += 5  # the baseline ran on other seeds
    o = test_one(frame)
    assert o.status == V.INCONCLUSIVE and o.seeds == 0 and o.reason == "no seed-paired rows"


def test_interval_is_the_paired_t_interval() -> None:
    # −ELBO can be negative (nats): a plain difference. Paired differences −1, −2, −3: mean −2, sd 1,
    # t_{0.975,2} = 4.3027.
    o = test_one(table([1.0, 2.0, 3.0], [2.0, 4.0, 6.0], "elbo"), metric="elbo")
    assert o.scale == V.DIFFERENCE
    half = 4.302652729911275 / np.sqrt(3)
    assert (o.mean, o.lo, o.hi) == pytest.approx((-2.0, -2.0 - half, -2.0 + half))
    # Unpaired, the same values would overlap; paired they do not: pairing matters.
    assert o.status == V.INCONCLUSIVE  # −2 + 2.48 > 0: still contains 0 with 3 seeds
    o = test_one(table([1.0, 2.0, 3.0, 4.0], [2.1, 3.2, 4.0, 5.1], "elbo"), metric="elbo")
    assert o.status == V.SUPPORTED


def test_log_ratio_interval_and_ratio_shown() -> None:
    # ratios 0.5, 1, 2: logs −ln 2, 0, ln 2; mean 0, sd ln 2; the ratio's interval is exp of the log interval.
    o = test_one(table([1.0, 2.0, 4.0], [2.0, 2.0, 2.0]))
    half = 4.302652729911275 * np.log(2) / np.sqrt(3)
    assert (o.mean, o.lo, o.hi) == pytest.approx((0.0, -half, half), abs=1e-9)
    assert o.effect() == pytest.approx((1.0, np.exp(-half), np.exp(half)))
    assert o.status == V.INCONCLUSIVE and "contains 1" in o.reason
    # a multiplicative effect that a difference would call inconclusive: 10× better at every scale
    o = test_one(table([0.001, 0.1, 10.0], [0.01, 1.0, 100.0]))
    assert o.status == V.SUPPORTED and o.effect()[0] == pytest.approx(0.1)
    assert test_one(table([0.001, 0.1, 10.0], [0.01, 1.0, 100.0], "elbo"), metric="elbo").status == V.INCONCLUSIVE


def test_kid_at_or_below_zero_uses_the_raw_difference_and_says_so() -> None:
    o = test_one(table([-0.01, 0.01, 0.0], [0.2, 0.21, 0.22], "kid"), metric="kid")
    assert o.scale == V.DIFFERENCE and o.status == V.SUPPORTED
    assert "raw difference" in o.reason
    assert test_one(table([0.01, 0.011, 0.012], [0.2, 0.21, 0.22], "kid"), metric="kid").scale == V.LOG_RATIO


def test_a_non_finite_value_decides_its_seed_against_its_side() -> None:
    """Nothing is dropped silently: an infinite challenger value is a lost seed, named in the reason."""
    clear_win = [0.10, 0.12, 0.11, 0.105]
    o = test_one(table(clear_win + [np.inf], [0.60, 0.62, 0.58, 0.61, 0.6]))
    assert o.status == V.INCONCLUSIVE  # the finite seeds alone would support it
    assert "seed 4: rpd value inf (seed decided against rpd)" in o.reason
    assert o.seeds == 5 and o.wins == 4
    o = test_one(table(clear_win + [0.1], [0.60, 0.62, 0.58, 0.61, np.nan]))
    assert o.status == V.SUPPORTED and o.wins == 5 and "seed 4: ddpm value nan (seed decided against ddpm)" in o.reason
    # mirrored for a worse-claim: the challenger's infinite value supports "challenger worse" on that seed
    o = test_one(table([0.70, 0.72, 0.69, np.inf], [0.20, 0.21, 0.22, 0.2]), expect="higher")
    assert o.status == V.SUPPORTED and o.wins == 4
    # an inconclusive test says how many seeds would settle it only where that can be estimated (not from 2)
    o = test_one(table([0.1, 0.7], [0.6, 0.2]))
    two = V.combine("C1", "e1", "", [o])
    assert two.status == V.INCONCLUSIVE and two.reason == f"{o.test.describe()}: {o.reason}", two.reason
    # every such seed is named, in seed order per side, then the seeds where both sides failed
    o = test_one(table([np.inf, 0.1, np.nan, 0.1, np.nan], [0.6, np.nan, 0.6, 0.6, np.inf]))
    assert o.reason.endswith("; seed 0: rpd value inf (seed decided against rpd); seed 2: rpd value nan (seed decided "
                             "against rpd); seed 1: ddpm value nan (seed decided against ddpm); seed 4: both values "
                             "non-finite (no decision)"), o.reason
    assert o.seeds == 4 and o.wins == 2  # seed 3 (finite) and seed 1


def test_worse_claim_is_mirrored() -> None:
    o = test_one(table([0.70, 0.72, 0.69], [0.20, 0.21, 0.22]), expect="higher")
    assert o.status == V.SUPPORTED
    o = test_one(table([0.10, 0.12, 0.11], [0.60, 0.62, 0.58]), expect="higher")
    assert o.status == V.NOT_SUPPORTED


def test_close_uses_a_ten_percent_margin_of_the_baseline() -> None:
    base = [1.00, 1.02, 0.98, 1.01]
    assert test_one(table([1.03, 1.04, 1.01, 1.03], base), "close").status == V.SUPPORTED  # ~3% worse
    assert test_one(table([0.5, 0.52, 0.49, 0.51], base), "close").status == V.SUPPORTED  # better is fine
    assert test_one(table([1.30, 1.33, 1.28, 1.31], base), "close").status == V.NOT_SUPPORTED  # ~30% worse
    o = test_one(table([1.0, 1.3, 0.9, 1.2], base), "close")
    assert o.status == V.INCONCLUSIVE and "straddles the margin" in o.reason


def test_combine_rules() -> None:
    win = test_one(table([0.1, 0.12, 0.11], [0.6, 0.62, 0.58]))
    loss = test_one(table([0.7, 0.72, 0.69], [0.2, 0.21, 0.22]))
    overlap = test_one(table([0.1, 0.5, 0.3], [0.3, 0.2, 0.35]))
    assert V.combine("C1", "e1", "s", [win]).status == V.SUPPORTED
    assert V.combine("C1", "e1", "s", [win, overlap]).status == V.INCONCLUSIVE
    assert V.combine("C1", "e1", "s", [overlap, loss]).status == V.NOT_SUPPORTED
    vetoed = V.combine("C1", "e1", "s", [win], guards=[loss])
    assert vetoed.status == V.NOT_SUPPORTED and "guard" in vetoed.reason
    assert V.combine("C1", "e1", "s", [win], guards=[overlap]).status == V.SUPPORTED
    assert V.combine("C1", "e1", "s", [], not_run_reason="E1 absent").status == V.NOT_RUN
    assert "ratio RW-1WD = 0.183×" in V.combine("C1", "e1", "s", [win]).key_number


def _config(experiments: dict) -> dict:
    models = {"rpd": {"family": "rpd", "prior": "vq", "prior_size": "std", "aux": "omega"},
              "rpd_mu": {"family": "rpd", "prior": "vq", "prior_size": "std", "aux": "mu"},
              "rpd_weak": {"family": "rpd", "prior": "vq", "prior_size": "small", "aux": "omega"},
              "ddpm": {"family": "ddpm"}, "dvae": {"family": "diffusevae1", "prior": "vq", "prior_size": "std"}}
    return {"seeds": [0, 1, 2], "models": models, "experiments": experiments,
            "sampling": [{"samplers": ["ddpm", "ddim"], "steps": [1, 3, 10]}]}


def _rows(model: str, size: str, sampler: str, steps: int, metric: str, values: list[float], **extra) -> list[dict]:
    return [{"dataset": "d", "model": model, "size": size, "sampler": sampler, "steps": steps, "metric": metric,
             "seed": s, "value": v, **extra} for s, v in enumerate(values)]


def test_judge_claims_from_a_suite_table() -> None:
    exp = {"datasets": ["d"], "sizes": ["std"]}
    cfg = _config({"e1": {**exp, "models": ["rpd", "ddpm"]},
                   "e3": {**exp, "models": ["rpd"], "sizes": ["std", "small"]},
                   "e4": {**exp, "models": ["rpd", "rpd_mu"]},
                   "e5": {**exp, "models": ["rpd", "rpd_weak"]}})
    rows = []
    for sampler in ("ddpm", "ddim"):
        for k in (1, 3, 10):
            rows += _rows("rpd", "std", sampler, k, "rw1wd", [0.10, 0.11, 0.12], parameters=1000)
            rows += _rows("rpd", "std", sampler, k, "1wd", [0.05, 0.05, 0.06], parameters=1000)
            rows += _rows("ddpm", "std", sampler, k, "rw1wd", [0.50, 0.52, 0.55])
            rows += _rows("ddpm", "std", sampler, k, "1wd", [0.05, 0.06, 0.05])
            rows += _rows("rpd", "small", sampler, k, "rw1wd", [0.30, 0.31, 0.32], parameters=300)  # far worse
            rows += _rows("rpd_mu", "std", sampler, k, "rw1wd", [0.10, 0.12, 0.11])
            rows += _rows("rpd_weak", "std", sampler, k, "rw1wd", [0.10, 0.13, 0.09])  # overlap
    rows += _rows("rpd", "std", "train", 0, "train_loss_mean", [0.2, 0.21, 0.22])
    rows += _rows("rpd_mu", "std", "train", 0, "train_loss_mean", [0.5, 0.52, 0.51])
    verdicts = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}
    assert verdicts["C1"].status == V.SUPPORTED
    assert verdicts["C1"].deciding[0].test.where == {"dataset": "d", "size": "std", "sampler": "ddpm", "steps": 10}
    assert verdicts["C2"].status == V.NOT_RUN and "E2 is not in this suite" in verdicts["C2"].reason
    assert verdicts["C3"].status == V.NOT_SUPPORTED and "30% of RPD's parameters" in verdicts["C3"].reason
    assert verdicts["C4"].status == V.SUPPORTED
    assert verdicts["C5"].status == V.INCONCLUSIVE
    assert verdicts["C5"].deciding[0].test.where["steps"] == 1 and verdicts["C5"].deciding[0].test.expect == "higher"
    assert verdicts["C6"].status == V.NOT_RUN


def test_c3_needs_under_half_the_parameters() -> None:
    cfg = _config({"e3": {"datasets": ["d"], "models": ["rpd"], "sizes": ["std", "small"]}})
    rows = []
    for k in (1, 3, 10):
        rows += _rows("rpd", "std", "ddpm", k, "rw1wd", [0.10, 0.11, 0.12], parameters=1000)
        rows += _rows("rpd", "small", "ddpm", k, "rw1wd", [0.10, 0.11, 0.12], parameters=700)
    v = {x.claim: x for x in V.judge_claims(cfg, pd.DataFrame(rows))}["C3"]
    assert v.status == V.INCONCLUSIVE and "70%" in v.reason


def test_c2_and_c6_on_image_style_rows() -> None:
    exp = {"datasets": ["d"], "sizes": ["std"], "models": ["rpd", "ddpm", "dvae"]}
    cfg = _config({"e2": exp, "e8": exp})
    rows = []
    for k in (1, 3, 10):
        rows += _rows("rpd", "std", "ddim", k, "kid", [0.01, 0.012, 0.011], extractor="clf")
        rows += _rows("ddpm", "std", "ddim", k, "kid", [0.2 / k, 0.21 / k, 0.22 / k], extractor="clf")
        rows += _rows("dvae", "std", "ddim", k, "kid", [0.03, 0.031, 0.032], extractor="clf")
    rows += _rows("rpd", "std", "bound", 1000, "elbo", [3.1, 3.2, 3.15])
    rows += _rows("dvae", "std", "bound", 1000, "elbo", [3.0, 3.09, 3.06])
    verdicts = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}
    c2 = verdicts["C2"]
    assert c2.status == V.SUPPORTED and [o.test.where["steps"] for o in c2.deciding] == [1, 3]
    assert c2.deciding[0].test.metric == "kid" and c2.deciding[0].test.where["sampler"] == "ddim"
    # C6 is decided on J₂ (the terminal mismatch), not on the whole bound: bound rows alone decide nothing
    assert verdicts["C6"].status == V.NOT_RUN and "J₂" in verdicts["C6"].reason
    rows += _rows("rpd", "std", "bound", 1000, "j2", [4e-5, 5e-5, 4.5e-5])
    rows += _rows("dvae", "std", "bound", 1000, "j2", [1.2, 1.3, 1.25])
    c6 = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}["C6"]
    assert c6.status == V.SUPPORTED  # RPD's bound is higher (worse) here, but it does not decide
    assert [o.test.metric for o in c6.deciding] == ["j2"] and c6.deciding[0].scale == V.LOG_RATIO


def test_c6_with_one_seed_is_inconclusive() -> None:
    """One training seed gives no seed-paired interval (SPEC §7: at least 3): C6 stays undecided, even when the
    bounds' Monte Carlo standard errors are tiny."""
    exp = {"datasets": ["d"], "sizes": ["std"], "models": ["rpd", "dvae"]}
    cfg = _config({"e8": exp})
    rows = _rows("rpd", "std", "bound", 1000, "j2", [4e-5], se=1e-6) + _rows("dvae", "std", "bound", 1000, "j2",
                                                                              [1.2], se=0.01)
    c6 = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}["C6"]
    assert c6.status == V.INCONCLUSIVE and c6.deciding[0].seeds == 1


def test_c6_needs_every_e8_dataset_to_agree() -> None:
    """A lower J₂ on one data set and a higher one on another is not support for C6."""
    exp = {"datasets": ["d", "e"], "sizes": ["std"], "models": ["rpd", "dvae"]}
    cfg = _config({"e8": exp})
    rows = _rows("rpd", "std", "bound", 1000, "j2", [2.0, 2.1, 2.05]) + _rows("dvae", "std", "bound", 1000,
                                                                              "j2", [2.5, 2.6, 2.55])
    rows += [{**r, "dataset": "e"} for r in _rows("rpd", "std", "bound", 1000, "j2", [6.4, 6.5, 6.45])]
    rows += [{**r, "dataset": "e"} for r in _rows("dvae", "std", "bound", 1000, "j2", [5.1, 5.2, 5.15])]
    c6 = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}["C6"]
    assert [o.test.where["dataset"] for o in c6.deciding] == ["d", "e"]
    assert [o.status for o in c6.deciding] == [V.SUPPORTED, V.NOT_SUPPORTED]
    assert c6.status == V.NOT_SUPPORTED and "dataset e" in c6.reason
    assert "rpd 6.45 vs dvae 5.15" in c6.key_number  # the key number is the test that decided the verdict


def test_a_consistent_twofold_effect_over_a_noisy_baseline_is_decided() -> None:
    """SPEC §7 on the log ratio: RPD half of DDPM at every seed while DDPM varies 6× across seeds."""
    baseline = [0.5, 3.0, 1.2]
    o = test_one(table([b * r for b, r in zip(baseline, (0.48, 0.52, 0.5))], baseline))
    assert o.status == V.SUPPORTED and o.effect()[0] == pytest.approx(0.5, abs=0.01) and o.effect()[2] < 0.6
    # the raw difference of the same table would not decide: the baseline's spread swamps it
    diffs = np.array([b * r - b for b, r in zip(baseline, (0.48, 0.52, 0.5))])
    assert V.t_interval(diffs)[4] > 0
    # no effect: ratios scattered around 1 over the same noisy baseline
    o = test_one(table([b * r for b, r in zip(baseline, (1.1, 0.9, 1.05))], baseline))
    assert o.status == V.INCONCLUSIVE and o.lo < 0 < o.hi


def test_two_paired_seeds_are_inconclusive_for_lack_of_seeds() -> None:
    o = test_one(table([0.10, 0.11], [0.60, 0.62]))
    assert o.status == V.INCONCLUSIVE and "inconclusive (seeds)" in o.reason and "at least 3" in o.reason


def _c2_rows(eps_ratio: float) -> list[dict]:
    """ε models where RPD loses at K = 1 (the 1/√ᾱ artefact), v models where RPD wins by 2×."""
    rows = []
    for k in (1, 3, 10):
        for model, values in (("rpd", [0.30 * eps_ratio] * 3), ("ddpm", [0.30, 0.31, 0.29]),
                              ("rpd_v", [0.05, 0.052, 0.049]), ("ddpm_v", [0.10, 0.11, 0.095])):
            rows += _rows(model, "std", "ddim", k, "kid", values, extractor="clf")
            rows += _rows(model, "std", "ddim", k, "out_of_range", [0.01, 0.0, 0.02])
    return rows


def _c2_config() -> dict:
    cfg = _config({"e2": {"datasets": ["d"], "sizes": ["std"], "models": ["rpd", "ddpm", "rpd_v", "ddpm_v"]}})
    cfg["models"].update({"rpd_v": {**cfg["models"]["rpd"], "target": "v"}, "ddpm_v": {"family": "ddpm", "target": "v"}})
    return cfg


def test_c2_is_judged_on_the_v_prediction_models() -> None:
    c2 = {v.claim: v for v in V.judge_claims(_c2_config(), pd.DataFrame(_c2_rows(eps_ratio=3.0)))}["C2"]
    assert c2.status == V.SUPPORTED
    assert {(o.test.challenger.label, o.test.baseline.label) for o in c2.deciding} == {("rpd_v", "ddpm_v")}


def test_a_claim_on_models_failing_the_sanity_thresholds_is_not_fit_to_judge() -> None:
    rows = pd.DataFrame(_c2_rows(eps_ratio=3.0))
    # DDPM-v's samples at K = 10 leave the data range (30% of values): the comparison judges a broken model
    bad = (rows["model"] == "ddpm_v") & (rows["metric"] == "out_of_range") & (rows["steps"] == 10)
    rows.loc[bad, "value"] = 0.3
    cfg = _c2_config()
    c2 = {v.claim: v for v in V.judge_claims(cfg, rows)}["C2"]
    assert c2.status == V.UNFIT and "ddpm_v-std ddim K=10: 30.0% of values outside" in c2.reason
    # K = 3 is below min_steps: few-step samples are the claim's subject, not a sanity failure
    rows.loc[bad, "value"] = 0.0
    rows.loc[(rows["model"] == "ddpm_v") & (rows["metric"] == "out_of_range") & (rows["steps"] == 3), "value"] = 0.9
    assert {v.claim: v for v in V.judge_claims(cfg, rows)}["C2"].status == V.SUPPORTED
    # a stricter threshold from the config key makes the same rows unfit
    cfg["sanity"] = {"max_out_of_range": 0.005}
    assert {v.claim: v for v in V.judge_claims(cfg, rows)}["C2"].status == V.UNFIT
    # the class-accuracy threshold: samples classified at a fifth of the real images' accuracy
    cfg.pop("sanity")
    acc = pd.DataFrame(_rows("rpd_v", "std", "ddim", 10, "class_accuracy_ratio", [0.2, 0.2, 0.2]))
    c2 = {v.claim: v for v in V.judge_claims(cfg, pd.concat([rows, acc]))}["C2"]
    assert c2.status == V.UNFIT and "0.20× that on real images" in c2.reason
    # both failures at once: each named, one after the other, before the tests' own reason
    rows.loc[bad, "value"] = 0.3
    c2 = {v.claim: v for v in V.judge_claims(cfg, pd.concat([rows, acc]))}["C2"]
    failures = c2.reason.split("(config key 'sanity'): ")[1].split(". Tests: ")[0].split("; ")
    assert len(failures) == 2 and any("30.0% of values outside" in f for f in failures), failures
    assert any("0.20× that on real images" in f for f in failures), failures


def test_c3_is_judged_at_the_best_quality_and_a_few_step_setting() -> None:
    cfg = _config({"e3": {"datasets": ["d"], "models": ["rpd"], "sizes": ["std", "small"]}})
    rows = []
    for sampler in ("ddpm", "ddim"):
        for k in (1, 3, 10):
            rows += _rows("rpd", "std", sampler, k, "rw1wd", [0.10, 0.11, 0.12], parameters=1000)
            # close at the best setting (ancestral K = 10), 50% worse with DDIM at K = 3
            worse = 1.5 if (sampler, k) == ("ddim", 3) else 1.0
            rows += _rows("rpd", "small", sampler, k, "rw1wd", [0.10 * worse, 0.11 * worse, 0.12 * worse],
                          parameters=300)
    c3 = {v.claim: v for v in V.judge_claims(cfg, pd.DataFrame(rows))}["C3"]
    assert [(o.test.where["sampler"], o.test.where["steps"]) for o in c3.deciding] == [("ddpm", 10), ("ddim", 3)]
    assert [o.status for o in c3.deciding] == [V.SUPPORTED, V.NOT_SUPPORTED]
    assert c3.status == V.NOT_SUPPORTED


def test_an_inconclusive_claim_says_how_many_seeds_would_settle_it() -> None:
    from scipy import stats

    # ratios 0.8, 0.95, 0.7: mean log ratio −0.19, sd 0.18; at 3 seeds the interval contains 1
    o = test_one(table([0.8, 0.95, 0.7], [1.0, 1.0, 1.0]))
    assert o.status == V.INCONCLUSIVE
    v = V.combine("C1", "e1", "s", [o])
    n = int(v.reason.split("about ")[1].split(" paired")[0])
    assert 3 < n < 20
    half = stats.t.ppf(0.975, n - 1) * o.sd / np.sqrt(n)
    assert half < abs(o.mean) <= stats.t.ppf(0.975, n - 2) * o.sd / np.sqrt(n - 1)  # the fewest such n
    # no effect at all: more seeds would not settle it, and the note says so
    flat = V.combine("C1", "e1", "s", [test_one(table([1.1, 0.9, 1.0], [1.0, 1.0, 1.0]))])
    assert "no effect seen" in flat.reason
