"""rpd.report.tables on small hand-made metrics rows (the columns of metrics.csv), without rendering a report.

Each test checks what a reader sees in a cell (the mean ± sd and interval of the seeds' values, the paired
effect and its verdict words, the row order), so a mutant of a table builder dies in a fraction of a second
instead of after a synthetic report is rendered (issue 18: `make mutation`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rpd.report import tables as T
from rpd.report.context import Context
from rpd.report.stats import (
    DIFFERENCE,
    INCONCLUSIVE,
    LOG_RATIO,
    NOT_SUPPORTED,
    SUPPORTED,
    Outcome,
    Side,
)
from rpd.report.stats import Test as PairedTest
from rpd.report.verdicts import Verdict

CONFIG = {
    "seeds": [0, 1, 2],
    "datasets": {"grid": {"kind": "grid"}},
    "models": {"ddpm": {"family": "ddpm"}, "dvae": {"family": "diffusevae1"}, "rpd": {"family": "rpd"}},
    "priors": {"vq": {"kind": "vqvae"}},
}


def rows(model: str, values: list[float], metric: str = "rw1wd", size: str = "std", sampler: str = "ddim",
         steps: int = 10, parameters: int = 100, **extra: object) -> pd.DataFrame:
    """metrics.csv rows of one model and setting, one per seed (seed i has values[i])."""
    family = CONFIG["models"].get(model, {}).get("family", "vqvae")
    return pd.DataFrame([{"suite": "s", "dataset": "grid", "model": model, "family": family, "size": size,
                          "seed": seed, "sampler": sampler, "steps": steps, "metric": metric, "value": v,
                          "parameters": parameters, **extra} for seed, v in enumerate(values)])


def ctx_of(metrics: pd.DataFrame, config: dict | None = None) -> Context:
    return Context(config or CONFIG, metrics, inputs=None, out_dir=Path("."))


def outcome(status: str = SUPPORTED, seeds: int = 3, mean: float = -0.5, lo: float = -0.8, hi: float = -0.2,
            scale: str = DIFFERENCE, wins: int = 3, where: dict | None = None, metric: str = "rw1wd") -> Outcome:
    test = PairedTest(metric, Side("rpd", {"model": "rpd"}), Side("ddpm", {"model": "ddpm"}),
                where or {"dataset": "grid", "steps": 10})
    return Outcome(test, status, "the reason", seeds, mean, 0.1, lo, hi, 1.5, 2.0, wins, scale)


def test_number_formats() -> None:
    assert T.fmt(1.234567) == "1.235"
    assert T.fmt(1.234567, 2) == "1.2"
    assert T.fmt(None) == T.fmt(float("nan")) == T.fmt(float("inf")) == "—"
    assert T.fmt_mean_sd(1.5, 0.25) == "1.5 ± 0.25"
    assert T.fmt_mean_sd(1.5, 0.123456) == "1.5 ± 0.12"
    assert T.fmt_mean_sd(1.5, float("nan")) == "1.5"
    assert T.fmt_mean_sd(float("nan"), 0.2) == "—"
    assert T.fmt_interval(0.12345, 0.98765) == "[0.123, 0.988]"
    assert T.fmt_interval(float("nan"), 1.0) == T.fmt_interval(0.0, float("nan")) == "— (1 seed)"


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.04, "0.0 s"), (119.94, "119.9 s"), (120.0, "2.0 min"), (7199.0, "120.0 min"), (7200.0, "2.00 h"),
    (9000.0, "2.50 h"), (float("nan"), "—"), (float("inf"), "—")])
def test_seconds_format(seconds: float, shown: str) -> None:
    assert T.fmt_seconds(seconds) == shown


def test_effects_show_ratios_for_log_ratio_tests_and_differences_otherwise() -> None:
    ratio = outcome(mean=np.log(0.5), lo=np.log(0.25), hi=np.log(0.8), scale=LOG_RATIO)
    assert T.fmt_effect(ratio) == "×0.5"
    assert T.fmt_effect_interval(ratio) == "[×0.25, ×0.8]"
    diff = outcome(mean=-0.5, lo=-0.8, hi=-0.2, scale=DIFFERENCE)
    assert T.fmt_effect(diff) == "-0.5"
    assert T.fmt_effect_interval(diff) == "[-0.8, -0.2]"
    one_seed = outcome(seeds=1, mean=np.log(0.5), lo=np.nan, hi=np.nan, scale=LOG_RATIO)
    assert T.fmt_effect(one_seed) == "×0.5"
    assert T.fmt_effect_interval(one_seed) == "— (1 seed)"
    assert T.fmt_effect(outcome(mean=np.nan, scale=LOG_RATIO)) == "—"


def test_key_cells_and_metric_names() -> None:
    assert T.fmt_key("steps", 0) == "—"
    assert T.fmt_key("steps", 10) == "10"
    assert T.fmt_key("family", "rpd") == "RPD"
    assert T.fmt_key("family", "newfamily") == "newfamily"
    assert T.fmt_key("scale", 0.5) == "0.5"
    assert T.fmt_key("scale", 2.0) == "2"
    assert T.fmt_key("size", "std") == "std"
    assert T.metric_name("rw1wd") == "RW-1WD"
    assert T.metric_name("kid", "inception") == "KID [inception]"
    assert T.metric_name("custom") == "custom"


def test_wide_table_cells_are_the_seed_statistics_of_the_metrics_rows() -> None:
    values = [0.1, 0.2, 0.6]
    m = pd.concat([rows("rpd", values), rows("rpd", [3.0, 5.0, 7.0], metric="1wd")])
    t = T.wide_table(ctx_of(m), m, "cap", keys=["model", "sampler", "steps"])
    assert t.caption == "cap"
    assert t.columns == ["model", "sampler", "K", "seeds", "RW-1WD mean ± sd", "RW-1WD 95% interval",
                         "1WD mean ± sd", "1WD 95% interval"]  # the report's metric order, not the rows' order
    assert t.numeric == [False, False, True, True, True, True, True, True]
    mean, sd = np.mean(values), np.std(values, ddof=1)
    half = stats.t.ppf(0.975, 2) * sd / np.sqrt(3)
    assert t.rows == [["rpd", "ddim", "10", "3", f"{mean:.4g} ± {sd:.2g}",
                       f"[{mean - half:.3g}, {mean + half:.3g}]", "5 ± 2", T.fmt_interval(5 - 2 * stats.t.ppf(
                           0.975, 2) / np.sqrt(3), 5 + 2 * stats.t.ppf(0.975, 2) / np.sqrt(3))]]


def test_wide_table_orders_models_by_family_and_sizes_largest_first() -> None:
    m = pd.concat([rows("rpd", [1.0], size="small", parameters=10), rows("rpd", [2.0], size="big", parameters=900),
                   rows("ddpm", [3.0]), rows("vq", [4.0], sampler="prior", steps=0),
                   rows("dvae", [5.0])])
    t = T.wide_table(ctx_of(m), m, "cap")
    assert t.columns[:7] == ["dataset", "model", "family", "size", "sampler", "K", "seeds"]
    assert [(r[1], r[2], r[3], r[5], r[7]) for r in t.rows] == [
        ("vq", "VQ-VAE prior", "std", "—", "4"), ("ddpm", "DDPM", "std", "10", "3"),
        ("dvae", T.F.FAMILY_LABELS["diffusevae1"], "std", "10", "5"),
        ("rpd", "RPD", "big", "10", "2"), ("rpd", "RPD", "small", "10", "1")]
    assert all(r[6] == "1" for r in t.rows)  # one seed each
    assert all(r[8] == "— (1 seed)" for r in t.rows)


def test_wide_table_keeps_the_metrics_asked_for_in_their_order_and_splits_kid_by_extractor() -> None:
    m = pd.concat([rows("rpd", [1.0, 1.0], metric="rw1wd", extractor=""),
                   rows("rpd", [0.2, 0.4], metric="kid", extractor="inception"),
                   rows("rpd", [0.5, 0.7], metric="kid", extractor="lenet"),
                   rows("rpd", [9.0, 9.0], metric="elbo", extractor="")])
    t = T.wide_table(ctx_of(m), m, "cap", keys=["model"], metrics=["kid", "rw1wd"])
    assert t.columns == ["model", "seeds", "KID [inception] mean ± sd", "KID [inception] 95% interval",
                         "KID [lenet] mean ± sd", "KID [lenet] 95% interval", "RW-1WD mean ± sd",
                         "RW-1WD 95% interval"]
    assert t.rows[0][:3] == ["rpd", "2", "0.3 ± 0.14"]
    assert t.rows[0][4] == "0.6 ± 0.14"
    assert t.rows[0][6] == "1 ± 0"
    empty = T.wide_table(ctx_of(m), m, "none", keys=["model"], metrics=["j2"])
    assert (empty.columns, empty.rows) == (["model"], [])


def test_wide_table_marks_a_metric_a_setting_lacks_and_counts_its_most_seeds() -> None:
    m = pd.concat([rows("rpd", [1.0, 2.0, 3.0]), rows("ddpm", [4.0], metric="1wd"),
                   rows("ddpm", [1.0, 1.0], metric="rw1wd")])
    t = T.wide_table(ctx_of(m), m, "cap", keys=["model"])
    assert t.rows == [["ddpm", "2", "1 ± 0", "[1, 1]", "4", "— (1 seed)"],
                      ["rpd", "3", "2 ± 1", T.fmt_interval(2 - stats.t.ppf(0.975, 2) / np.sqrt(3),
                                                           2 + stats.t.ppf(0.975, 2) / np.sqrt(3)), "—", "—"]]


@pytest.mark.parametrize(("o", "words"), [
    (outcome(seeds=1, lo=np.nan, hi=np.nan), "no interval (< 2 seeds)"),
    (outcome(seeds=3, lo=np.nan, hi=-0.1), "no interval (< 2 seeds)"),
    (outcome(seeds=3, lo=-0.1, hi=np.inf), "no interval (< 2 seeds)"),
    (outcome(seeds=2), "inconclusive (seeds: 2 < 3)"),
    (outcome(seeds=3, status=SUPPORTED), "RPD better"),
    (outcome(seeds=3, status=NOT_SUPPORTED), "baseline better"),
    (outcome(seeds=3, status=INCONCLUSIVE), "inconclusive (interval contains 0)")])
def test_status_words(o: Outcome, words: str) -> None:
    assert T.status_words(o) == words


def test_status_words_use_the_given_sides() -> None:
    assert T.status_words(outcome(status=NOT_SUPPORTED), "A wins", "B wins") == "B wins"
    assert T.status_words(outcome(status=SUPPORTED), "A wins", "B wins") == "A wins"


def paired_frame() -> pd.DataFrame:
    """RPD at half of DDPM's RW-1WD on 4 seeds; the DiffuseVAE baseline on 2 seeds only; two sizes."""
    return pd.concat([
        rows("rpd", [1.0, 1.2, 0.9, 1.1], size="small", parameters=10),
        rows("rpd", [0.5, 0.6, 0.45, 0.55], size="big", parameters=500),
        rows("ddpm", [2.0, 2.4, 1.8, 2.2], size="small", parameters=10),
        rows("ddpm", [1.0, 1.2, 0.9, 1.1], size="big", parameters=500),
        rows("dvae", [1.0, 1.0], size="small", parameters=10)])


def test_paired_table_rows_are_the_seed_paired_ratios() -> None:
    m = paired_frame()
    t = T.paired_table(ctx_of(m), m, "cap", baseline_families=("ddpm", "diffusevae1"))
    assert t.columns[:8] == ["dataset", "RPD model", "baseline", "size", "sampler", "K", "paired seeds",
                             "effect on RW-1WD (×: ratio RPD / baseline; else mean Δ RPD − baseline)"]
    assert t.columns[8:] == ["95% t-interval", "RPD wins", "verdict"]
    assert t.numeric == [False] * 5 + [True] * 5 + [False]  # K, seeds, effect, interval, wins
    # baselines in family order (DDPM, then DiffuseVAE), sizes largest first
    assert [r[:7] for r in t.rows] == [["grid", "rpd", "ddpm", "big", "ddim", "10", "4"],
                                       ["grid", "rpd", "ddpm", "small", "ddim", "10", "4"],
                                       ["grid", "rpd", "dvae", "small", "ddim", "10", "2"]]
    assert t.rows[0][7:] == ["×0.5", "[×0.5, ×0.5]", "4/4", "RPD better"]
    assert t.rows[2][7] == "×" + T.fmt(float(np.exp(np.mean(np.log([1.0, 1.2])))))
    assert t.rows[2][9:] == ["0/2", "inconclusive (seeds: 2 < 3)"]
    assert t.row_classes == ["good", "good", "muted"]


def test_paired_table_extra_columns_and_metric() -> None:
    m = pd.concat([rows("rpd", [0.1, 0.2, 0.3], metric="mass_error"),
                   rows("ddpm", [0.3, 0.3, 0.3], metric="mass_error")])
    t = T.paired_table(ctx_of(m), m, "cap", metric="mass_error", extra={"scale": lambda w: f"s{w['steps']}"})
    assert t.columns[:3] == ["dataset", "scale", "RPD model"]
    assert t.columns[8].startswith("effect on mass error")
    assert t.rows == [["grid", "s10", "rpd", "ddpm", "std", "ddim", "10", "3", "-0.1", "[-0.348, 0.148]",
                       "2/3", "inconclusive (interval contains 0)"]]  # Δ, not a ratio: mass error is not one
    one = T.paired_table(ctx_of(m.iloc[[0, 3]]), m.iloc[[0, 3]], "cap", metric="mass_error")
    assert one.row_classes == ["muted"] and one.rows[0][-1] == "no interval (< 2 seeds)"


def test_outcome_table_shows_each_test() -> None:
    o = outcome(mean=np.log(0.5), lo=np.log(0.4), hi=np.log(0.6), scale=LOG_RATIO,
                where={"dataset": "grid", "steps": 10, "sampler": "ddim"})
    bad = outcome(status=NOT_SUPPORTED, wins=0, metric="kid")
    t = T.outcome_table("cap", [o, bad])
    assert t.caption == "cap"
    assert t.rows[0] == ["rpd", "ddpm", "RW-1WD", "dataset grid, K 10, sampler ddim", "3", "1.5", "2", "×0.5",
                         "[×0.4, ×0.6]", "3/3", "supported: the reason"]
    assert t.rows[1][2] == "KID" and t.rows[1][-1] == "not supported: the reason" and t.rows[1][-2] == "0/3"
    assert t.row_classes == ["good", "bad"]
    assert t.numeric == [False] * 4 + [True] * 6 + [False]


def test_verdict_table_lists_deciding_tests_then_guards() -> None:
    deciding, guard = outcome(), outcome(status=NOT_SUPPORTED, metric="kid")
    ctx = ctx_of(pd.DataFrame())
    ctx.verdicts = {"e1": Verdict("C1", "e1", "s", SUPPORTED, "r", [deciding], [guard]),
                    "e2": Verdict("C2", "e2", "s", SUPPORTED, "r", [deciding, deciding], [guard, guard]),
                    "e3": Verdict("C3", "e3", "s", SUPPORTED, "r", [deciding]),
                    "e4": Verdict("C4", "e4", "s", INCONCLUSIVE, "r")}
    t = T.verdict_table(ctx, "e1")
    assert t.caption.startswith("The tests that decide claim C1 (1 deciding, 1 guard): ")
    assert [r[2] for r in t.rows] == ["RW-1WD", "KID"]
    assert T.verdict_table(ctx, "e2").caption.startswith("The tests that decide claim C2 (2 deciding, 2 guards): ")
    assert T.verdict_table(ctx, "e3").caption.startswith("The tests that decide claim C3 (1 deciding): ")
    assert T.verdict_table(ctx, "e4") is None
    assert T.verdict_table(ctx, "e9") is None


def test_paired_tables_one_per_metric_and_extractor() -> None:
    m = pd.concat([rows("rpd", [0.1, 0.2, 0.3], metric="kid", extractor="a"),
                   rows("ddpm", [0.3, 0.4, 0.5], metric="kid", extractor="a"),
                   rows("rpd", [0.5, 0.5, 0.5], metric="kid", extractor="b"),
                   rows("ddpm", [0.1, 0.1, 0.1], metric="kid", extractor="b"),
                   rows("rpd", [1.0, 1.0, 1.0]), rows("dvae", [2.0, 2.0, 2.0])])
    a, b, rw = T.paired_tables(ctx_of(m), m, [("kid", "a"), ("kid", "b"), ("rw1wd", "")], "few steps",
                               ("ddpm", "diffusevae1"))
    assert a.caption.startswith("Seed-paired KID [a] difference RPD − baseline (few steps) at equal dataset")
    assert a.caption.endswith("negative favours RPD.")
    assert a.rows[0][7] == "×" + T.fmt(float(np.exp(np.mean(np.log([1 / 3, 0.5, 0.6])))))
    assert b.rows[0][7] == "×5" and b.rows[0][-1] == "baseline better"
    assert [r[2] for r in rw.rows] == ["dvae"] and rw.rows[0][7] == "×0.5"
    assert "effect on KID" in a.columns[7]


def sanity_metrics() -> pd.DataFrame:
    def sane(model: str, steps: int, out: list[float], acc: list[float], ratio: list[float], size: str = "std",
             parameters: int = 100) -> pd.DataFrame:
        return pd.concat([rows(model, out, "out_of_range", size=size, steps=steps, parameters=parameters),
                          rows(model, acc, "class_accuracy", size=size, steps=steps, parameters=parameters),
                          rows(model, ratio, "class_accuracy_ratio", size=size, steps=steps, parameters=parameters)])

    return pd.concat([sane("rpd", 20, [0.01, 0.03], [0.8, 0.8], [0.8, 0.8], size="small", parameters=1),
                      sane("rpd", 20, [0.0, 0.0], [0.9, 0.9], [0.9, 0.9], size="big", parameters=9),
                      sane("ddpm", 2, [0.2, 0.4], [0.2, 0.2], [0.25, 0.25]),
                      sane("ddpm", 20, [0.2, 0.4], [0.2, 0.2], [0.25, 0.25]),
                      rows("ddpm", [1.0, 1.0])])


def test_sanity_table_shows_the_shares_accuracies_and_verdicts() -> None:
    m = sanity_metrics()
    cfg = {**CONFIG, "sanity": {"max_out_of_range": 0.1, "min_accuracy_ratio": 0.5, "min_steps": 10}}
    t = T.sanity_table(ctx_of(m, cfg), m)
    assert t.columns[6] == "outside data range (mean; worst seed)"
    assert [r[:6] for r in t.rows] == [["grid", "ddpm", "std", "ddim", "2", "2"], ["grid", "ddpm", "std", "ddim",
                                                                                   "20", "2"],
                                       ["grid", "rpd", "big", "ddim", "20", "2"],
                                       ["grid", "rpd", "small", "ddim", "20", "2"]]
    ddpm_few, ddpm, big, small = t.rows
    assert small[6:10] == ["2.00%; 3.00%", "0.8", "1", "0.8"]  # real held-out accuracy = 0.8 / 0.8
    assert big[6:] == ["0.00%; 0.00%", "0.9", "1", "0.9", "pass"]
    assert ddpm[7:10] == ["0.2", "0.8", "0.25"]
    assert ddpm[10].startswith("fail: 30.0% of values outside the data range (max 10%)")
    assert "class accuracy on samples 0.25×" in ddpm[10]
    assert ddpm_few[10].endswith(" (K < 10: shown, not gated)") and ddpm_few[10].startswith("fail: ")
    assert t.row_classes == ["muted", "bad", "", ""]
    assert "widened by 25% per side (max 10%)" in t.caption
    assert "(ratio at least 0.5)" in t.caption and "Thresholds apply at K ≥ 10;" in t.caption
    assert t.numeric == [False] * 4 + [True] * 6 + [False]


def test_sanity_table_without_class_accuracy_or_rows() -> None:
    m = pd.concat([rows("rpd", [0.5, 0.7], "out_of_range", steps=20),
                   rows("rpd", [float("nan")] * 2, "class_accuracy_ratio", steps=20),
                   rows("rpd", [0.3, 0.3], "class_accuracy", steps=20),
                   rows("ddpm", [0.0, 0.0], "class_accuracy_ratio", steps=20),
                   rows("ddpm", [0.0, 0.0], "class_accuracy", steps=20)])
    t = T.sanity_table(ctx_of(m), m)
    ddpm, rpd = t.rows
    assert ddpm[6] == "—" and ddpm[8] == "—"  # no out-of-range rows; a zero ratio gives no real accuracy
    assert rpd[6] == "60.00%; 70.00%" and rpd[8:10] == ["—", "—"] and rpd[7] == "0.3"
    assert "(max 5%)" in t.caption  # the schema's default thresholds
    assert T.sanity_table(ctx_of(m), rows("rpd", [1.0])).rows == []


def test_effect_intervals_and_hours_keep_their_digits() -> None:
    ratio = outcome(mean=np.log(0.5), lo=np.log(0.123456), hi=np.log(0.987654), scale=LOG_RATIO)
    assert T.fmt_effect_interval(ratio) == "[×0.123, ×0.988]"
    assert T.fmt_seconds(360000.0) == "100.00 h"


def sized(model: str, dataset: str, size: str, parameters: int, value: float, metric: str = "rw1wd",
          **extra: object) -> pd.DataFrame:
    """Three seeds of one setting, on ``dataset``."""
    return rows(model, [value, value * 1.1, value * 0.9], metric=metric, size=size, parameters=parameters,
                **extra).assign(dataset=dataset)


def test_sizes_are_ordered_per_dataset_and_model_by_parameter_count() -> None:
    """'alpha' is the larger network of rpd on grid and of ddpm on other; 'zeta' elsewhere (names say nothing)."""
    m = pd.concat([sized("rpd", "grid", "alpha", 900, 1.0), sized("rpd", "grid", "zeta", 10, 2.0),
                   sized("rpd", "other", "alpha", 10, 1.0), sized("rpd", "other", "zeta", 900, 2.0),
                   sized("ddpm", "grid", "alpha", 10, 2.0), sized("ddpm", "grid", "zeta", 900, 4.0),
                   sized("ddpm", "other", "alpha", 900, 2.0), sized("ddpm", "other", "zeta", 10, 4.0)])
    ctx = ctx_of(m)
    wide = T.wide_table(ctx, m, "cap", keys=["dataset", "model", "size"])
    assert [r[:3] for r in wide.rows] == [["grid", "ddpm", "zeta"], ["grid", "ddpm", "alpha"],
                                          ["grid", "rpd", "alpha"], ["grid", "rpd", "zeta"],
                                          ["other", "ddpm", "alpha"], ["other", "ddpm", "zeta"],
                                          ["other", "rpd", "zeta"], ["other", "rpd", "alpha"]]
    paired = T.paired_table(ctx, m, "cap")
    assert [(r[0], r[3]) for r in paired.rows] == [("grid", "alpha"), ("grid", "zeta"), ("other", "zeta"),
                                                   ("other", "alpha")]  # each dataset: rpd's largest first
    by_setting = T.wide_table(ctx, m, "cap", keys=["sampler", "steps"])
    assert [r[:2] for r in by_setting.rows] == [["ddim", "10"]]  # no model key: rows need no model order


def test_wide_table_numeric_keys_unknown_metrics_and_short_extractors() -> None:
    m = pd.concat([rows("rpd", [1.0, 2.0], scale=0.5), rows("rpd", [3.0, 3.0], metric="zzz", scale=0.5),
                   rows("rpd", [0.2, 0.4], metric="kid", extractor="a", scale=0.5),
                   rows("rpd", [5.0, 5.0], metric="aaa", scale=0.5)])
    t = T.wide_table(ctx_of(m), m, "cap", keys=["model", "parameters", "scale"])
    assert t.numeric[:4] == [False, True, True, True]
    assert [c for c in t.columns if c.endswith("mean ± sd")] == [
        "RW-1WD mean ± sd", "KID [a] mean ± sd", "aaa mean ± sd", "zzz mean ± sd"]  # unknown metrics last, by name
    assert t.rows[0][:3] == ["rpd", "100", "0.5"]
    assert T.wide_table(ctx_of(m), m, "nothing to show", metrics=["j2"]).caption == "nothing to show"


def test_paired_and_outcome_tables_name_metrics_without_a_display_name() -> None:
    m = pd.concat([rows("rpd", [1.0, 1.0, 1.0], metric="custom"), rows("ddpm", [2.0, 2.0, 2.0], metric="custom")])
    t = T.paired_table(ctx_of(m), m, "cap", metric="custom")
    assert t.columns[7].startswith("effect on custom (×: ratio")
    o = outcome(metric="custom")
    table = T.outcome_table("cap", [o])
    assert table.columns == ["challenger", "baseline", "metric", "setting", "paired seeds", "challenger mean",
                             "baseline mean", "effect (× ratio, else Δ)", "95% t-interval", "challenger better",
                             "decision"]
    assert table.rows[0][2] == "custom"


def test_verdict_table_caption_in_full() -> None:
    ctx = ctx_of(pd.DataFrame())
    ctx.verdicts = {"e1": Verdict("C1", "e1", "s", SUPPORTED, "r", [outcome()])}
    assert T.verdict_table(ctx, "e1").caption == (
        "The tests that decide claim C1 (1 deciding): seed-paired ratio challenger / baseline (×) or "
        "Δ = challenger − baseline.")


def test_sanity_table_rows_in_report_order_with_three_digits() -> None:
    """Models by family (DDPM before RPD whatever their names), sizes by parameter count, then sampler and K."""
    cfg = {**CONFIG, "models": {**CONFIG["models"], "a_rpd": {"family": "rpd"}, "z_ddpm": {"family": "ddpm"}}}
    m = pd.concat([
        rows("a_rpd", [0.012345], "class_accuracy", size="alpha", parameters=10, steps=20),
        rows("a_rpd", [0.5], "class_accuracy_ratio", size="alpha", parameters=10, steps=20),
        rows("a_rpd", [0.012345], "class_accuracy", size="zeta", parameters=900, steps=20),
        rows("a_rpd", [0.012345], "class_accuracy", size="zeta", parameters=900, steps=20, sampler="ancestral"),
        rows("z_ddpm", [0.98765], "class_accuracy", steps=20), rows("z_ddpm", [0.3], "class_accuracy_ratio", steps=20)])
    t = T.sanity_table(ctx_of(m, cfg), m)
    assert t.columns == ["dataset", "model", "size", "sampler", "K", "seeds", "outside data range (mean; worst seed)",
                         "class accuracy: samples", "real held-out", "ratio", "sanity"]
    assert [r[1:4] for r in t.rows] == [["z_ddpm", "std", "ddim"], ["a_rpd", "zeta", "ancestral"],
                                        ["a_rpd", "zeta", "ddim"], ["a_rpd", "alpha", "ddim"]]
    assert t.rows[0][7:10] == ["0.988", "3.29", "0.3"]
    assert t.rows[3][7:10] == ["0.0123", "0.0247", "0.5"]
    assert t.caption.endswith("a claim resting on a failing model is shown as not fit to judge.")


def test_sanity_sizes_are_ordered_within_each_dataset_and_model() -> None:
    """Pooled over models or datasets the counts would order the sizes the other way round."""
    cfg = {**CONFIG, "models": {**CONFIG["models"], "a_rpd": {"family": "rpd"}, "z_ddpm": {"family": "ddpm"}}}

    def acc(model: str, size: str, parameters: int, seeds: int, dataset: str = "grid") -> pd.DataFrame:
        return rows(model, [0.5] * seeds, "class_accuracy", size=size, parameters=parameters, steps=20).assign(
            dataset=dataset)

    m = pd.concat([acc("a_rpd", "alpha", 10, 1), acc("a_rpd", "zeta", 900, 1),
                   acc("z_ddpm", "alpha", 1000, 3), acc("z_ddpm", "zeta", 5, 3),
                   acc("a_rpd", "alpha", 900, 3, "other"), acc("a_rpd", "zeta", 10, 3, "other")])
    t = T.sanity_table(ctx_of(m, cfg), m)
    assert [r[:3] for r in t.rows] == [["grid", "z_ddpm", "alpha"], ["grid", "z_ddpm", "zeta"],
                                       ["grid", "a_rpd", "zeta"], ["grid", "a_rpd", "alpha"],
                                       ["other", "a_rpd", "alpha"], ["other", "a_rpd", "zeta"]]
    ratio = rows("a_rpd", [0.31234], "class_accuracy_ratio", steps=20)
    assert T.sanity_table(ctx_of(ratio, cfg), ratio).rows[0][9] == "0.312"
