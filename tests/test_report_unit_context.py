"""rpd.report.context and rpd.report.document on a hand-made config: the questions every section builder asks
(which family, which order, which unit, which rows) and the document parts it fills, without rendering a report
(issue 18: `make mutation`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rpd.report import document as D
from rpd.report.context import NO_ROWS, Context, start_section
from rpd.runs import Run

CONFIG = {
    "seeds": [2, 0, 1],
    "datasets": {"g": {"kind": "grid"}, "f": {"kind": "fmnist"}},
    "sampling": [{"samplers": ["ddim"], "steps": [1, 3]}],
    "models": {"r": {"family": "rpd", "prior": "vq", "prior_size": "small"}, "d": {"family": "ddpm"},
               "v": {"family": "diffusevae2", "prior": "beta"}, "w": {"family": "diffusevae1"}},
    "priors": {"vq": {"kind": "vqvae"}, "beta": {"kind": "betavae"}},
    "experiments": {"e1": {"datasets": ["g"], "models": ["r", "d"], "sizes": ["std"]}},
}


def ctx_of(metrics: pd.DataFrame | None = None, config: dict = CONFIG) -> Context:
    return Context(config, pd.DataFrame(columns=["model", "family"]) if metrics is None else metrics, inputs=None,
                   out_dir=Path("/out"))


def test_figure_paths_sit_beside_the_page() -> None:
    assert ctx_of().figure_path("a.png") == (Path("/out/figures/a.png"), "figures/a.png")


def test_image_datasets_and_metric_units() -> None:
    ctx = ctx_of()
    assert ctx.is_image("f") and not ctx.is_image("g") and not ctx.is_image("unknown")
    assert ctx.metric_label("rw1wd") == "RW-1WD (local-shape units)"
    assert ctx.metric_label("kid", ["f"]) == "KID (unitless)"
    assert ctx.metric_label("1wd", ["f"]) == "1WD (pixel units, [0, 1] scale)"
    assert ctx.metric_label("1wd", ["g"]) == "1WD (data units)"
    assert ctx.metric_label("1wd", ["g", "f"]) == "1WD (data or pixel units)"
    assert ctx.metric_label("elbo", ["f"]) == "−ELBO (bits/dim)"
    assert ctx.metric_label("elbo_x", ["g"]) == "elbo_x (nats)"
    assert ctx.metric_label("elbo", ["g", "f"]) == "−ELBO (nats or bits/dim)"
    assert ctx.metric_label("elbo") == "−ELBO (nats or bits/dim)"
    assert ctx.metric_label("new") == "new"


def test_gallery_seed_is_zero_when_run_else_the_smallest() -> None:
    assert ctx_of().seed == 0
    assert ctx_of(config={**CONFIG, "seeds": [5, 3, 4]}).seed == 3
    assert ctx_of(config={k: v for k, v in CONFIG.items() if k != "seeds"}).seed == 0


def test_families_and_report_order() -> None:
    metrics = pd.DataFrame({"model": ["x", "x"], "family": ["rpd", "rpd"]})
    ctx = ctx_of(metrics)
    assert [ctx.family(n) for n in ("r", "vq", "beta", "x", "nobody")] == ["rpd", "vqvae", "betavae", "rpd",
                                                                         "unknown"]
    assert ctx.ordered_models(["r", "nobody", "x", "d", "w", "v", "beta", "vq", "r"]) == [
        "vq", "beta", "d", "w", "v", "r", "x", "nobody"]
    assert ctx.models_of(["r", "d", "v", "w", "x"], "rpd") == ["r", "x"]
    assert ctx.models_of(["r", "d", "v", "w"], "ddpm", "diffusevae2") == ["d", "v"]
    assert ctx.prior_of("r") == ("vq", "small")
    assert ctx.prior_of("v") == ("beta", "std")
    assert ctx.prior_of("d") is None and ctx.prior_of("nobody") is None


def test_runs_seeds_and_pairs() -> None:
    ctx = ctx_of()
    assert ctx.run("g", "vq", "small", 1.0) == Run("prior", "g", "vq", "small", 1)
    assert ctx.run("g", "r", "std", 2) == Run("model", "g", "r", "std", 2)
    assert ctx.experiment_seeds({"seeds": ["4", 5]}) == [4, 5]
    assert ctx.experiment_seeds({}) == [2, 0, 1]
    assert ctx.pairs({}) == {("ddim", 1), ("ddim", 3)}


def metric_rows() -> pd.DataFrame:
    base = {"suite": "s", "metric": "rw1wd", "value": 1.0, "steps": 3, "seed": 0}
    return pd.DataFrame([
        {**base, "dataset": "g", "model": "r", "family": "rpd", "size": "std", "sampler": "ddim"},
        {**base, "dataset": "g", "model": "vq", "family": "vqvae", "size": "small", "sampler": "prior", "steps": 0},
        {**base, "dataset": "g", "model": "vq", "family": "vqvae", "size": "std", "sampler": "prior", "steps": 0},
        {**base, "dataset": "f", "model": "vq", "family": "vqvae", "size": "small", "sampler": "prior", "steps": 0},
        {**base, "dataset": "g", "model": "beta", "family": "betavae", "size": "std", "sampler": "prior",
         "steps": 0},
        {**base, "dataset": "g", "model": "vq", "family": "vqvae", "size": "small", "sampler": "ddim"}])


def test_prior_rows_are_the_experiment_models_priors_on_its_datasets() -> None:
    ctx = ctx_of(metric_rows())
    prior = ctx.prior_rows({"datasets": ["g"], "models": ["r", "d"]})
    assert prior[["dataset", "model", "size", "sampler"]].values.tolist() == [["g", "vq", "small", "prior"]]
    both = ctx.prior_rows({"datasets": ["g", "f"], "models": ["r", "v"]})
    assert sorted(map(tuple, both[["dataset", "model", "size"]].values.tolist())) == [
        ("f", "vq", "small"), ("g", "beta", "std"), ("g", "vq", "small")]
    assert ctx.prior_rows({"datasets": ["g"], "models": ["d"]}).empty
    shifted = ctx_of(metric_rows().set_axis(range(10, 16)))  # metrics.csv rows after a filter keep their labels
    assert shifted.prior_rows({"datasets": ["g"], "models": ["r"]}).index.tolist() == [11]
    assert ctx_of(metric_rows().iloc[:0]).prior_rows({"datasets": ["g"], "models": ["r"]}).empty


def test_start_section_notes_an_experiment_without_rows() -> None:
    ctx = ctx_of(metric_rows())
    sec, rows = start_section(ctx, "e1", CONFIG["experiments"]["e1"])
    assert (sec.id, sec.title, sec.claim, sec.mirrors) == ("e1", "Fine structure", "C1", "paper Fig. 2")
    assert rows["model"].tolist() == ["r"] and sec.notes == []
    empty, none = start_section(ctx_of(metric_rows().iloc[1:]), "e2", CONFIG["experiments"]["e1"])
    assert none.empty and empty.notes == [NO_ROWS] and empty.title == "Few steps"
    assert rows.equals(ctx.experiment_rows(CONFIG["experiments"]["e1"]))


def test_tables_default_their_flags_and_cut_the_summary() -> None:
    t = D.Table("cap", ["a", "b"], [[str(i), "x"] for i in range(20)])
    assert t.numeric == [False, False] and t.row_classes == [""] * 20
    head = t.head()
    assert len(head.rows) == D.SUMMARY_ROWS == 15 and head.rows[-1] == ["14", "x"]
    assert head.caption == "cap First 15 of 20 rows; every row is in the full tables below."
    assert head.row_classes == [""] * 15 and head.columns == ["a", "b"]
    assert t.head(20) is t and t.head(25) is t
    assert t.head(19).caption.startswith("cap First 19 of 20")
    sec = D.new_section("e3")
    sec.summarise(t)
    assert sec.summary[0].rows == head.rows and sec.figures == sec.tables == sec.notes == []
    assert str(D.Link("text", "#e1")) == "text"


def test_status_classes_and_section_registry() -> None:
    assert D.STATUS_CLASS == {"supported": "good", "not supported": "bad", "inconclusive": "muted",
                              "not run": "muted", "not fit to judge": "bad"}
    assert list(D.EXPERIMENT_FAMILIES) == [f"e{i}" for i in range(1, 9)]
    with pytest.raises(ValueError, match=r"unknown experiment family 'e9'; allowed: \['e1'"):
        D.section("e9")
    before = dict(D.SECTIONS)
    try:
        def builder() -> D.Section:
            return D.new_section("e5")

        assert D.section("e5")(builder) is builder and D.SECTIONS["e5"] is builder
    finally:
        D.SECTIONS.clear()
        D.SECTIONS.update(before)
