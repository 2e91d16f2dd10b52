"""rpd.report.stats.seeds_to_settle: the verdicts' "about n paired seeds would settle it" for an inconclusive test
(the fewest n with t₀.₉₇₅,ₙ₋₁ · sd/√n under the distance from the mean to the decision boundary)."""

from __future__ import annotations

import numpy as np
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
