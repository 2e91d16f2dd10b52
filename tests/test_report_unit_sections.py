"""The E2, E3 and E8 section builders on hand-made metrics rows: which rows each table and figure of a section
shows (the sizes C3 compares, the ε twins E2 draws beside the judged models, the fewest-steps table, the bound
rows of E8), with the figure writers replaced by a recorder. No report is rendered (issue 18: `make mutation`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.report import figures as F
from rpd.report.context import NO_ROWS, Context
from rpd.report.sections import e2 as E2
from rpd.report.sections import e3 as E3
from rpd.report.sections import e8 as E8
from rpd.report.stats import SUPPORTED

CONFIG = {
    "seeds": [0, 1, 2],
    "datasets": {"g": {"kind": "grid"}},
    "sampling": [{"samplers": ["ddim"], "steps": [1, 10]}],
    "models": {"rpd": {"family": "rpd", "prior": "vq", "target": "v"},
               "rpd_eps": {"family": "rpd", "prior": "vq", "target": "eps"},
               "rpd_eps_other": {"family": "rpd", "prior": "beta", "target": "eps"},
               "ddpm": {"family": "ddpm", "target": "v"}, "dv": {"family": "diffusevae1", "prior": "vq"}},
    "priors": {"vq": {"kind": "vqvae"}},
    "experiments": {"e2": {"datasets": ["g"], "models": ["rpd", "ddpm"], "sizes": ["std"]},
                    "e3": {"datasets": ["g"], "models": ["rpd"], "sizes": ["tiny", "huge"]},
                    "e8": {"datasets": ["g"], "models": ["rpd", "dv"], "sizes": ["std"]}},
}


def rows(model: str, size: str, sampler: str, steps: int, values: list[float], metric: str = "rw1wd",
         parameters: float = 100, **extra: object) -> pd.DataFrame:
    family = CONFIG["models"][model]["family"]
    return pd.DataFrame([{"suite": "s", "dataset": "g", "model": model, "family": family, "size": size, "seed": seed,
                          "sampler": sampler, "steps": steps, "metric": metric, "value": v, "n": 50,
                          "parameters": parameters, "extractor": "", **extra} for seed, v in enumerate(values)])


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(F, "metric_lines", lambda *args, **kwargs: calls.append(args))
    monkeypatch.setattr(F, "scatter_grid", lambda *args, **kwargs: None)
    return calls


def e3_metrics() -> pd.DataFrame:
    """'tiny' is the larger network by its parameter count (the names say nothing)."""
    return pd.concat([rows("rpd", "tiny", "ddim", 10, [1.0, 1.02, 0.98], parameters=5000),
                      rows("rpd", "huge", "ddim", 10, [1.0, 1.01, 0.99], parameters=50),
                      rows("rpd", "tiny", "ddim", 1, [1.0, 1.0, 1.0], parameters=5000),
                      rows("rpd", "huge", "ddim", 1, [3.0, 3.3, 2.7], parameters=50),
                      rows("rpd", "huge", "ddim", 1, [0.01, 0.01, 0.01], metric="out_of_range", parameters=50)])


def test_e3_compares_the_smallest_network_with_the_largest_by_parameter_count(lines: list) -> None:
    ctx = Context(CONFIG, e3_metrics(), inputs=None, out_dir=Path("."))
    sec = E3.build_e3(ctx, "e3", CONFIG["experiments"]["e3"])
    (path, data, x, xlabel, label) = lines[0]
    assert (x, xlabel, label) == ("parameters", "trainable parameters of the denoiser (log scale)",
                                  "RW-1WD (local-shape units)")
    assert sorted(zip(data["panel"], data["parameters"], data["mean"])) == [
        ("ddim sampler, K=1", 50, pytest.approx(3.0)), ("ddim sampler, K=1", 5000, 1.0),
        ("ddim sampler, K=10", 50, pytest.approx(1.0)), ("ddim sampler, K=10", 5000, pytest.approx(1.0))]
    assert set(data["line"]) == {"rpd (RPD)"}
    assert sec.figures[0].alt == "RW-1WD (local-shape units) against parameter count on g"
    assert path == Path(".") / sec.figures[0].src and sec.figures[0].src.startswith("figures/e3-g-rw1wd-vs-params-")
    assert "(sizes tiny, huge)" in sec.figures[0].caption
    outcomes = next(t for t in sec.tables if t.caption.endswith("per model and setting."))
    assert [r[:4] for r in outcomes.rows] == [["rpd-huge", "rpd-tiny", "RW-1WD", "dataset g, sampler ddim, K 1"],
                                              ["rpd-huge", "rpd-tiny", "RW-1WD", "dataset g, sampler ddim, K 10"]]
    assert outcomes.rows[0][-1].startswith("not supported") and outcomes.rows[1][-1].startswith(SUPPORTED)
    assert "within 10% of the largest network's mean" in outcomes.caption
    (best,) = sec.summary
    assert [r[3] for r in best.rows] == ["dataset g, sampler ddim, K 10", "dataset g, sampler ddim, K 1"][::-1]
    wide = sec.tables[0]
    assert wide.columns[:7] == ["dataset", "model", "family", "size", "parameters", "sampler", "K"]
    assert [r[3] for r in wide.rows][:2] == ["tiny", "tiny"]  # largest first
    assert sec.tables[-1].columns[-1] == "sanity" and [r[2] for r in sec.tables[-1].rows] == ["huge"]


def test_e3_on_images_draws_one_figure_per_metric_and_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(F, "metric_lines", lambda *args, **kwargs: drawn.append((args, kwargs)))
    exp = {"datasets": ["f"], "models": ["rpd"], "sizes": ["tiny", "huge"]}
    cfg = {**CONFIG, "datasets": {"f": {"kind": "fmnist"}}, "experiments": {"e3": exp}}

    def on_f(size: str, metric: str, value: float, parameters: int, extractor: str = "") -> pd.DataFrame:
        return rows("rpd", size, "ddim", 10, [value] * 3, metric=metric, parameters=parameters,
                    extractor=extractor).assign(dataset="f")

    m = pd.concat([on_f("tiny", "kid", 1, 5000, "lenet"), on_f("huge", "kid", 2, 50, "lenet"),
                   on_f("tiny", "kid", 3, 5000, "inception"), on_f("huge", "kid", 4, 50, "inception"),
                   on_f("tiny", "1wd", 5, 5000), on_f("huge", "1wd", 6, 50)])
    sec = E3.build_e3(Context(cfg, m, inputs=None, out_dir=Path(".")), "e3", exp)
    # each extractor's KID alone in its own figure; 1WD on images in pixel units; each panel its own y scale
    assert [sorted(args[1]["mean"]) for args, _ in drawn] == [[3.0, 4.0], [1.0, 2.0], [5.0, 6.0]]
    assert [args[4] for args, _ in drawn] == ["KID (unitless)"] * 2 + ["1WD (pixel units, [0, 1] scale)"]
    assert all(kwargs == {"share_y": False} for _, kwargs in drawn)
    assert [Path(args[0]).name.rsplit("-", 1)[0] for args, _ in drawn] == [
        "e3-f-kid-inception-vs-params", "e3-f-kid-lenet-vs-params", "e3-f-1wd-vs-params"]
    assert [f.src for f in sec.figures] == [f"figures/{Path(args[0]).name}" for args, _ in drawn]


def test_e3_without_counts_or_rows_or_a_second_size(lines: list) -> None:
    m = e3_metrics().assign(parameters=np.nan)
    sec = E3.build_e3(Context(CONFIG, m, inputs=None, out_dir=Path(".")), "e3", CONFIG["experiments"]["e3"])
    assert sec.notes == ["metrics.csv has no parameter counts: no figure against parameters."] and not lines
    assert sec.tables[0].rows == [] and sec.tables[0].columns[4] == "parameters"  # no count: no key to group by
    empty = E3.build_e3(Context(CONFIG, m.iloc[:0], inputs=None, out_dir=Path(".")), "e3", CONFIG["experiments"]["e3"])
    assert empty.notes == [NO_ROWS] and not empty.tables
    one = {**CONFIG["experiments"]["e3"], "sizes": ["tiny"]}
    single = E3.build_e3(Context(CONFIG, e3_metrics(), inputs=None, out_dir=Path(".")), "e3", one)
    assert not single.summary and not any(t.caption.endswith("per model and setting.") for t in single.tables)


def test_e2_eps_twins_are_the_same_models_with_target_eps() -> None:
    ctx = Context(CONFIG, pd.DataFrame(), inputs=None, out_dir=Path("."))
    assert E2.eps_twins(ctx, CONFIG["experiments"]["e2"]) == ["rpd_eps"]
    assert E2.eps_twins(ctx, {"models": ["rpd_eps"]}) == []  # an ε model has no twin
    assert E2.eps_twins(ctx, {"models": ["dv"]}) == []  # no target: ε by default
    copy = Context({**CONFIG, "models": {**CONFIG["models"], "rpd_copy": dict(CONFIG["models"]["rpd"])}},
                   pd.DataFrame(), inputs=None, out_dir=Path("."))
    assert E2.eps_twins(copy, CONFIG["experiments"]["e2"]) == ["rpd_eps"]  # same target v: a copy, not a twin
    # a spec without `target` predicts ε (the schema's default), whether it is the experiment's model or the twin
    implicit = {"rpd": {"family": "rpd", "prior": "vq", "target": "v"}, "rpd_e": {"family": "rpd", "prior": "vq"},
                "dv": {"family": "diffusevae1", "prior": "vq"},
                "dv_e": {"family": "diffusevae1", "prior": "vq", "target": "eps"}}
    ctx = Context({**CONFIG, "models": implicit}, pd.DataFrame(), inputs=None, out_dir=Path("."))
    assert E2.eps_twins(ctx, {"models": ["rpd"]}) == ["rpd_e"]
    assert E2.eps_twins(ctx, {"models": ["dv"]}) == []  # dv already predicts ε: dv_e is the same model


def test_e2_twin_rows_at_the_experiments_data_sizes_and_settings() -> None:
    m = pd.concat([rows("rpd_eps", "std", "ddim", 1, [5.0]), rows("rpd_eps", "std", "ddim", 3, [5.0]),
                   rows("rpd_eps", "big", "ddim", 1, [5.0]), rows("rpd_eps", "std", "ddim", 10, [6.0], dataset="h"),
                   rows("ddpm", "std", "ddim", 1, [1.0])])
    ctx = Context(CONFIG, m, inputs=None, out_dir=Path("."))
    twins = E2.twin_frame(ctx, CONFIG["experiments"]["e2"], ["rpd_eps"])
    assert twins[["model", "size", "steps"]].values.tolist() == [["rpd_eps", "std", 1]]


def test_e2_fewest_steps_table() -> None:
    m = pd.concat([rows("rpd", "std", "ddim", 1, [2.0, 2.0]), rows("rpd", "std", "ddim", 10, [1.05, 1.05]),
                   rows("rpd", "std", "ddim", 100, [1.0, 1.0]), rows("ddpm", "std", "ddim", 1, [1.0]),
                   rows("ddpm", "std", "ddim", 100, [1.0]), rows("rpd", "std", "prior", 0, [9.0])])
    (t,) = E2.fewest_steps_tables(Context(CONFIG, m, inputs=None, out_dir=Path(".")))
    assert t.rows == [["g", "ddpm", "std", "ddim", "100", "1", "1", "1", "1,100"],
                      ["g", "rpd", "std", "ddim", "100", "1", "10", "1.05", "1,10,100"]]
    assert t.caption == ("g: fewest steps K at which each sampler comes within 10% of its own RW-1WD at K = 1000 (or "
                         "at its largest K where K = 1000 was not drawn; see the reference K column), seed means, over "
                         "every experiment of the suite (rpd.analysis.fewest_steps_within).")
    assert t.columns == ["dataset", "model", "size", "sampler", "reference K", "value at reference K", "fewest K",
                         "value at fewest K", "K drawn"]
    assert t.numeric == [False] * 4 + [True] * 4 + [False]
    one_k = rows("rpd", "std", "ddim", 1, [2.0])
    assert E2.fewest_steps_tables(Context(CONFIG, one_k, inputs=None, out_dir=Path("."))) == []
    no_metric = rows("rpd", "std", "ddim", 1, [2.0], metric="mass_error")
    assert E2.fewest_steps_tables(Context(CONFIG, pd.concat([no_metric, no_metric.assign(steps=3)]), inputs=None,
                                          out_dir=Path("."))) == []


def test_e2_fewest_steps_needs_two_ks_not_counting_prior_bound_or_training_rows() -> None:
    one_k = rows("rpd", "std", "ddim", 10, [1.0, 1.0])
    for sampler, metric in (("prior", "rw1wd"), ("bound", "elbo"), ("train", "train_loss_mean")):
        m = pd.concat([one_k, rows("rpd", "std", sampler, 0, [5.0, 5.0], metric=metric)])
        assert E2.fewest_steps_tables(Context(CONFIG, m, inputs=None, out_dir=Path("."))) == [], sampler
    # a dataset with one K is skipped, not the end of the list; rows without an extractor column are read as well
    m = pd.concat([rows("rpd", "std", "ddim", 10, [1.0], dataset="a"), rows("rpd", "std", "ddim", 1, [2.0]),
                   rows("rpd", "std", "ddim", 10, [1.0])]).drop(columns=["extractor"])
    (t,) = E2.fewest_steps_tables(Context(CONFIG, m, inputs=None, out_dir=Path(".")))
    assert t.rows == [["g", "rpd", "std", "ddim", "10", "1", "10", "1", "1,10"]]


def test_e2_notes_the_twins_it_draws_and_pairs_only_the_judged_models(lines: list,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    galleries: list[tuple] = []
    monkeypatch.setattr(E2, "gallery", lambda *args: galleries.append(args) or [])
    m = pd.concat([rows("rpd", "std", "ddim", 1, [1.0, 1.1, 0.9]), rows("ddpm", "std", "ddim", 1, [2.0, 2.2, 1.8]),
                   rows("rpd_eps", "std", "ddim", 1, [50.0, 60.0]), rows("rpd", "std", "ddim", 10, [1.0, 1.0, 1.0]),
                   rows("ddpm", "std", "ddim", 10, [1.0, 1.0, 1.0])])
    sec = E2.build_e2(Context(CONFIG, m, inputs=None, out_dir=Path(".")), "e2", CONFIG["experiments"]["e2"])
    assert sec.notes[0].startswith("Judged on rpd, ddpm. Shown beside them, not judged: their ε-prediction twins "
                                   "rpd_eps (seed(s) 0, 1).")
    drawn = lines[0][1]
    assert set(drawn["model"]) == {"rpd", "ddpm", "rpd_eps"}
    (_, fid, exp, shown, models), *_ = galleries
    assert (fid, exp, models) == ("e2", CONFIG["experiments"]["e2"], ["ddpm", "rpd", "rpd_eps"])
    assert sorted(set(shown["model"])) == ["ddpm", "rpd", "rpd_eps"]
    wide = sec.tables[0]
    assert [r[1] for r in wide.rows] == ["ddpm", "ddpm", "rpd", "rpd", "rpd_eps"]
    paired = next(t for t in sec.tables if t.caption.startswith("Seed-paired RW-1WD"))
    assert [(r[1], r[2], r[5]) for r in paired.rows] == [("rpd", "ddpm", "1"), ("rpd", "ddpm", "10")]
    assert paired.rows[0][7] == "×0.5"
    assert sec.tables[-1].caption.startswith("g: fewest steps")
    no_twins = E2.build_e2(Context(CONFIG, m[m["model"] != "rpd_eps"], inputs=None, out_dir=Path(".")), "e2",
                           CONFIG["experiments"]["e2"])
    assert no_twins.notes == []
    empty = E2.build_e2(Context(CONFIG, m.iloc[:0], inputs=None, out_dir=Path(".")), "e2", CONFIG["experiments"]["e2"])
    assert empty.notes == [NO_ROWS]


def test_e8_shows_the_bound_rows_of_its_runs() -> None:
    assert E8.is_bound_metric("elbo") and E8.is_bound_metric("elbo_terminal") and E8.is_bound_metric("j2")
    assert not E8.is_bound_metric("rw1wd") and not E8.is_bound_metric("kid")
    m = pd.concat([rows("rpd", "std", "bound", 0, [3.0, 3.2], metric="elbo", se=0.1, unit="nats"),
                   rows("rpd", "std", "bound", 0, [0.5, 0.7], metric="j2", se=0.0, unit="nats"),
                   rows("dv", "std", "bound", 0, [4.0, 4.0], metric="elbo", se=0.1, unit="nats"),
                   rows("rpd", "std", "ddim", 1, [1.0, 1.0]), rows("rpd", "big", "bound", 0, [9.0], metric="elbo")])
    sec = E8.build_e8(Context(CONFIG, m, inputs=None, out_dir=Path(".")), "e8", CONFIG["experiments"]["e8"])
    wide = sec.summary[-1]
    assert [r[:4] for r in wide.rows] == [["g", "dv", "DiffuseVAE (form 1)", "std"], ["g", "rpd", "RPD", "std"]]
    assert wide.rows[1][5] == "3.1 ± 0.14" and wide.rows[1][7] == "0.6 ± 0.14"
    assert sec.notes[0].startswith("What C6 measures: J₂ = KL(")
    bound = sec.tables[0]
    assert bound.columns == ["dataset", "model", "size", "term", "mean", "se", "sd over seeds", "seeds", "unit"]
    rpd_elbo = next(r for r in bound.rows if r[1] == "rpd" and r[3] == "elbo")
    assert rpd_elbo[4:] == ["3.1", E8.fmt(np.sqrt(0.01 + 0.01) / 2), "0.1414", "2", "nats"]
    empty = E8.build_e8(Context(CONFIG, m[m["sampler"] == "ddim"], inputs=None, out_dir=Path(".")), "e8",
                        CONFIG["experiments"]["e8"])
    assert empty.notes == ["Not run: metrics.csv holds no elbo* or j2 rows for this experiment's runs."]
    no_se = E8.build_e8(Context(CONFIG, m.drop(columns=["se", "unit"]), inputs=None, out_dir=Path(".")), "e8",
                        CONFIG["experiments"]["e8"])
    assert next(r for r in no_se.tables[0].rows if r[1] == "rpd" and r[3] == "elbo")[4] == "3.1"
