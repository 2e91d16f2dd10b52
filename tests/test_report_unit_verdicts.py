"""A judged claim's verdict links the section that shows its evidence and states the claim (rpd.report.verdicts):
the claims table and each section's verdict box read them. Tables from tests/test_verdict_branches.py."""

from __future__ import annotations

from rpd.report import verdicts as V
from test_verdict_branches import BASE, CLEAR_BETTER, FAST, SLOW, config, grid, progress, verdict


def test_a_judged_claim_names_its_section_and_states_the_claim() -> None:
    c1 = verdict(config("e1", ["rpd", "ddpm"]), grid("rpd", "rw1wd", CLEAR_BETTER) + grid("ddpm", "rw1wd", BASE), "C1")
    c4 = verdict(config("e4", ["rpd", "rpd_mu"]), progress("rpd", FAST) + progress("rpd_mu", SLOW), "C4")
    assert c1.status == c4.status == V.SUPPORTED
    assert (c1.family, c1.statement) == ("e1", V.CLAIMS["C1"][1])
    assert (c4.family, c4.statement) == ("e4", V.CLAIMS["C4"][1])
    assert c1.statement and c4.statement and c1.statement != c4.statement
