"""rpd.report.stats.seeds_to_settle: the verdicts' "about n paired seeds would settle it" for an inconclusive test
(the fewest n with t₀.₉₇₅,ₙ₋₁ · sd/√n under the distance from the mean to the decision boundary)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from rpd.report import stats as S


def outcome(expect: str = "lower", scale: str = S.LOG_RATIO, status: str = S.INCONCLUSIVE, **numbers: float) -> S.Outcome:
    test = S.Test("rw1wd", S.Side("rpd", {}), S.Side("ddpm", {}), {}, expect=expect, tolerance=0.1)
    return S.Outcome(test, status, "the interval contains 0", scale=scale, **numbers)


def fewest_seeds(gap: float, sd: float, seeds: int) -> int:
    n = max(seeds + 1, 3)
    while st.t.ppf(0.975, n - 1) * sd / np.sqrt(n) >= gap:
        n += 1
    return n


def settles(n: int) -> str:
    return f"at this effect and spread about {n} paired seeds would settle it"


def test_seeds_to_settle_measures_from_the_decision_boundary() -> None:
    assert S.seeds_to_settle(outcome(seeds=3, mean=0.2, sd=0.3)) == settles(fewest_seeds(0.2, 0.3, 3))
    assert fewest_seeds(0.2, 0.3, 3) > 4
    assert S.seeds_to_settle(outcome(seeds=3, mean=5.0, sd=0.1)) == settles(4)  # one seed more than drawn
    # 'close': the boundary is the margin, log(1 + 10%) on the log-ratio scale, 10% of |baseline| on differences
    near = outcome(expect="close", seeds=3, mean=0.02, sd=0.05)
    assert S.seeds_to_settle(near) == settles(fewest_seeds(np.log1p(0.1) - 0.02, 0.05, 3))
    diff = outcome(expect="close", scale=S.DIFFERENCE, seeds=4, mean=0.1, sd=0.4, baseline_mean=-4.0)
    assert S.seeds_to_settle(diff) == settles(fewest_seeds(0.4 - 0.1, 0.4, 4))
    noise = outcome(seeds=3, mean=0.001, sd=1.0)
    assert S.seeds_to_settle(noise) == ("the effect is within the seeds' noise: more than 200 paired seeds would be "
                                        "needed (no effect seen)")


def test_seeds_to_settle_only_for_an_inconclusive_test_with_an_interval() -> None:
    assert S.seeds_to_settle(outcome(status=S.SUPPORTED, seeds=5, mean=0.2, sd=0.3)) == ""
    assert S.seeds_to_settle(outcome(seeds=2, mean=0.2, sd=0.3)) == ""  # fewer seeds than the rule needs
    assert S.seeds_to_settle(outcome(seeds=3, mean=0.2, sd=np.nan)) == ""
    assert S.seeds_to_settle(outcome(seeds=3, mean=np.nan, sd=0.3)) == ""


def test_an_interval_touching_0_contains_it_and_a_metric_without_a_name_keeps_its_own() -> None:
    assert [S.where_zero(lo, hi) for lo, hi in ((-2, -1), (-1, 0), (0, 1), (1, 2))] == [
        "entirely below 0", "contains 0", "contains 0", "entirely above 0"]
    test = S.Test("fid_custom", S.Side("rpd", {}), S.Side("ddpm", {}), {"dataset": "d", "steps": 10})
    assert test.describe() == "rpd − ddpm, fid_custom (dataset d, steps 10)"


def test_sanity_thresholds_are_inclusive() -> None:
    """A model exactly at max_out_of_range or at min_accuracy_ratio passes; just beyond fails and says why."""
    from rpd.report.sanity import sanity_rows

    cfg = {"sanity": {"max_out_of_range": 0.25, "min_accuracy_ratio": 0.5, "min_steps": 10}}

    def rows(out_of_range: float, ratio: float) -> pd.DataFrame:
        return pd.DataFrame([{"dataset": "f", "model": "m", "size": "s", "sampler": "ddim", "steps": 10, "seed": seed,
                              "metric": metric, "value": value}
                             for seed in (0, 1) for metric, value in (("out_of_range", out_of_range),
                                                                     ("class_accuracy_ratio", ratio))])

    at = sanity_rows(rows(0.25, 0.5), cfg).iloc[0]
    assert bool(at["passes"]) and at["why"] == "" and bool(at["gated"])
    beyond = sanity_rows(rows(0.375, 0.25), cfg).iloc[0]
    assert not beyond["passes"] and beyond["why"] == ("37.5% of values outside the data range (max 25%); class accuracy "
                                                      "on samples 0.25× that on real images (min 0.5×)")
