"""A judged claim's verdict links the section that shows its evidence and states the claim (rpd.report.verdicts):
the claims table and each section's verdict box read them. Tables from tests/test_verdict_branches.py."""

from __future__ import annotations

from rpd.report import verdicts as V
from test_verdict_branches import BASE, CLEAR_BETTER, CLEAR_WORSE, FAST, OVERLAP, SLOW, config, grid, progress, verdict


def test_a_judged_claim_names_its_section_and_states_the_claim() -> None:
    c1 = verdict(config("e1", ["rpd", "ddpm"]), grid("rpd", "rw1wd", CLEAR_BETTER) + grid("ddpm", "rw1wd", BASE), "C1")
    c4 = verdict(config("e4", ["rpd", "rpd_mu"]), progress("rpd", FAST) + progress("rpd_mu", SLOW), "C4")
    assert c1.status == c4.status == V.SUPPORTED
    assert (c1.family, c1.statement) == ("e1", V.CLAIMS["C1"][1])
    assert (c4.family, c4.statement) == ("e4", V.CLAIMS["C4"][1])
    assert c1.statement and c4.statement and c1.statement != c4.statement


def test_c2_names_its_section_and_c3_states_the_parameter_share_on_its_outcome() -> None:
    c2 = verdict(config("e2", ["rpd", "ddpm"]), grid("rpd", "rw1wd", CLEAR_BETTER) + grid("ddpm", "rw1wd", BASE), "C2")
    assert (c2.family, c2.statement) == ("e2", V.CLAIMS["C2"][1])
    cfg = config("e3", ["rpd"], ("std", "small"))
    close = grid("rpd", "rw1wd", [1.0, 1.02, 0.98]) + grid("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small")

    def outcome(small_parameters: float) -> V.Outcome:
        table = [{**r, "parameters": 1000 if r["size"] == "std" else small_parameters} for r in close]
        return verdict(cfg, table, "C3").deciding[0]

    half, forty = outcome(500), outcome(400)
    assert half.status == V.INCONCLUSIVE and forty.status == V.SUPPORTED
    # the test's own reason, then the share (and, at half or more, why it does not count)
    assert half.reason.startswith(forty.reason.split(";")[0]) and not half.reason.startswith(";")
    assert half.reason.endswith("; but RPD_s (size small) has 50% of RPD's parameters (size std) (the claim needs < 50%)")
    assert forty.reason.endswith("; RPD_s (size small) has 40% of RPD's parameters (size std)")
    assert not forty.reason.startswith(";")
    no_large_count = [{**r, "parameters": float("nan") if r["size"] == "std" else 400} for r in close]
    assert "parameters" not in verdict(cfg, no_large_count, "C3").deciding[0].reason


def test_c3_names_its_section_and_needs_two_sizes() -> None:
    close = grid("rpd", "rw1wd", [1.0, 1.02, 0.98]) + grid("rpd", "rw1wd", [1.01, 1.03, 0.99], size="small")
    c3 = verdict(config("e3", ["rpd"], ("std", "small")), close, "C3")
    assert (c3.family, c3.statement, c3.status) == ("e3", V.CLAIMS["C3"][1], V.SUPPORTED)
    one_size = verdict(config("e3", ["rpd"], ("std",)), close, "C3")
    assert one_size.status == V.NOT_RUN and not one_size.deciding  # no smallest-against-largest pair


def test_a_verdicts_reason_lists_each_deciding_test_and_a_two_seed_guard_can_veto() -> None:
    cfg = config("e2", ["rpd", "ddpm"])
    for values, status in ((CLEAR_BETTER, V.SUPPORTED), (CLEAR_WORSE, V.NOT_SUPPORTED), (OVERLAP, V.INCONCLUSIVE)):
        v = verdict(cfg, grid("rpd", "rw1wd", values) + grid("ddpm", "rw1wd", BASE), "C2")
        assert v.status == status and len(v.deciding) == 2  # K = 1 and K = 3
        parts = [f"{o.test.describe()}: {o.reason}" for o in v.deciding]
        if status == V.INCONCLUSIVE:  # with how many seeds would settle each
            parts = [f"{p} ({V.seeds_to_settle(o)})" for p, o in zip(parts, v.deciding)]
        assert v.reason == "; ".join(parts)
    e1 = config("e1", ["rpd", "ddpm"])
    decided = grid("rpd", "rw1wd", CLEAR_BETTER) + grid("ddpm", "rw1wd", BASE)
    two_seeds = grid("rpd", "1wd", [0.9, 0.95]) + grid("ddpm", "1wd", [0.5, 0.52])
    vetoed = verdict(e1, decided + two_seeds, "C1")
    assert vetoed.status == V.NOT_SUPPORTED and vetoed.guards[0].seeds == 2
    assert vetoed.reason.startswith("guard rpd − ddpm, 1WD")


def test_a_claim_not_run_still_states_the_claim() -> None:
    alone = verdict(config("e1", ["rpd"]), grid("rpd", "rw1wd", BASE), "C1")
    assert (alone.status, alone.statement, alone.deciding) == (V.NOT_RUN, V.CLAIMS["C1"][1], [])
    nothing = V.combine("C1", "e1", V.CLAIMS["C1"][1], [])
    assert (nothing.status, nothing.reason, nothing.statement) == (V.NOT_RUN, "no test could be formed", V.CLAIMS["C1"][1])
