"""The E4 section builder on hand-made rows: which curves its figures draw (the experiment's models only, the mean
and sd over seeds at each iteration, one line style per auxiliary input), which metric and sampler each metric
figure names, and the area rows its snapshot table adds. The figure writer is replaced by a recorder; no report is
rendered (issue 18: `make mutation`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.progress import PROGRESS_SAMPLING
from rpd.report import figures as F
from rpd.report.context import NO_ROWS, Context
from rpd.report.judges.aux_input import AREA, PROGRESS
from rpd.report.sections import e4 as E4

CONFIG = {
    "seeds": [0, 1],
    "datasets": {"g": {"kind": "grid"}, "img": {"kind": "fmnist", "resolution": 16}},
    "sampling": [{"samplers": ["ddim"], "steps": [10]}],
    "models": {"rpd": {"family": "rpd", "prior": "vq", "aux": "omega"},
               "rpd_mu": {"family": "rpd", "prior": "vq", "aux": "mu"},
               "ddpm": {"family": "ddpm"}},
    "priors": {"vq": {"kind": "vqvae"}},
    "experiments": {"e4": {"datasets": ["g", "img"], "models": ["rpd", "rpd_mu", "ddpm"], "sizes": ["std"]}},
}
EXP = CONFIG["experiments"]["e4"]


def snapshot(dataset: str, model: str, metric: str, by_step: dict[int, list[float]], size: str = "std",
             sampler: str = PROGRESS) -> list[dict]:
    family = CONFIG["models"][model]["family"]
    return [{"suite": "s", "dataset": dataset, "model": model, "family": family, "size": size, "seed": seed,
             "sampler": sampler, "steps": step, "metric": metric, "value": v, "n": 50, "parameters": 10,
             "extractor": ""} for step, values in by_step.items() for seed, v in enumerate(values)]


def metrics() -> pd.DataFrame:
    return pd.DataFrame(
        snapshot("g", "rpd", "rw1wd", {100: [2.0, 4.0], 200: [1.0, 1.5]})
        + snapshot("g", "rpd_mu", "rw1wd", {100: [3.0, 5.0], 200: [2.0, 2.0]})
        + snapshot("g", "rpd", "1wd", {100: [9.0, 9.0], 200: [9.0, 9.0]})  # not the metric C4 is judged on
        + snapshot("g", "rpd", "rw1wd", {100: [50.0, 50.0], 200: [50.0, 50.0]}, size="big")  # not in E4
        + snapshot("img", "rpd", "cw1wd", {10: [0.4, 0.2], 20: [0.1, 0.1]})
        + snapshot("img", "rpd_mu", "cw1wd", {10: [0.5, 0.3], 20: [0.2, 0.2]})
        + snapshot("img", "rpd", "1wd", {10: [7.0, 7.0], 20: [7.0, 7.0]}))


def losses() -> pd.DataFrame:
    out = []
    for model, per_seed in [("rpd", [1.0, 3.0]), ("rpd_mu", [2.0, 2.0]), ("ddpm", [5.0, 7.0])]:
        for seed, base in enumerate(per_seed):
            for step in (50, 100):
                out.append({"dataset": "g", "model": model, "family": CONFIG["models"][model]["family"],
                            "size": "std", "seed": seed, "step": step, "loss": base / step})
    out.append({"dataset": "g", "model": "rpd", "family": "rpd", "size": "big", "seed": 0, "step": 50, "loss": 99.0})
    return pd.DataFrame(out)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(F, "loss_curves", lambda path, data, ylabel: calls.append((path, data, ylabel)))
    return calls


def curve_points(data: pd.DataFrame) -> dict[tuple, tuple]:
    return {(r.panel, r.line, r.step): (round(r.mean, 6), round(r.sd, 6), r.linestyle) for r in data.itertuples()}


def test_metric_figures_draw_each_datasets_judged_metric_over_the_snapshots(drawn: list) -> None:
    ctx = Context(CONFIG, metrics(), inputs=None, out_dir=Path("out"))
    sec = E4.build_e4(ctx, "e4", EXP)
    (g_path, g_data, g_label), (img_path, img_data, img_label) = drawn
    assert g_label == "RW-1WD (local-shape units), log scale"
    assert curve_points(g_data) == {
        ("g, size std", "rpd (aux omega)", 100): (3.0, round(np.sqrt(2), 6), "-"),
        ("g, size std", "rpd (aux omega)", 200): (1.25, round(np.sqrt(0.125), 6), "-"),
        ("g, size std", "rpd_mu (aux mu)", 100): (4.0, round(np.sqrt(2), 6), "--"),
        ("g, size std", "rpd_mu (aux mu)", 200): (2.0, 0.0, "--")}
    assert list(g_data["model"]) == ["rpd", "rpd", "rpd_mu", "rpd_mu"] and list(g_data["step"]) == [100, 200] * 2
    assert set(g_data["family"]) == {"rpd"}
    assert img_label.startswith("CW-1WD") and img_label.endswith(", log scale")  # cw1wd before 1wd
    assert curve_points(img_data)[("img, size std", "rpd (aux omega)", 10)][:2] == (0.3, round(np.sqrt(0.02), 6))
    g_fig, img_fig = sec.figures
    name = F.figure_name("e4", "metric-vs-iteration", "g", "rw1wd")
    assert (g_path, g_fig.src) == (Path("out") / "figures" / name, f"figures/{name}")
    assert img_path.name == F.figure_name("e4", "metric-vs-iteration", "img", "cw1wd")
    assert g_fig.alt == "RW-1WD (local-shape units) against training iteration (g)"
    for fig, kind in [(g_fig, "points"), (img_fig, "images")]:  # the sampler and K the snapshots are drawn with
        sampler, k = PROGRESS_SAMPLING[kind]
        assert f"each sampled with {sampler} at K = {k} " in fig.caption
    assert PROGRESS_SAMPLING["points"] != PROGRESS_SAMPLING["images"]


def test_loss_figure_draws_the_mean_loss_of_the_experiments_runs(drawn: list) -> None:
    ctx = Context(CONFIG, metrics(), inputs=None, out_dir=Path("out"), losses=losses())
    sec = E4.build_e4(ctx, "e4", EXP)
    path, data, ylabel = drawn[-1]
    assert ylabel == "training loss (MSE of the target, log scale)"
    points = curve_points(data)
    assert points[("g, size std", "rpd (aux omega)", 50)] == (0.04, round(np.sqrt(2) / 50, 6), "-")
    assert points[("g, size std", "rpd_mu (aux mu)", 100)] == (0.02, 0.0, "--")
    assert points[("g, size std", "ddpm (aux —)", 50)] == (0.12, round(np.sqrt(2) / 50, 6), ":")  # no aux input
    assert len(points) == 6  # the size outside E4 draws no line
    assert list(dict.fromkeys(data["model"])) == ["ddpm", "rpd", "rpd_mu"]  # DDPM before RPD, then config order
    assert path.name == F.figure_name("e4", "loss-vs-iteration")
    assert sec.figures[-1].alt == "Training loss against iteration"
    assert sec.figures[-1].src == f"figures/{path.name}"  # the page shows the file drawn
    assert "per auxiliary input of the network: ω (omega), μ̂ alone (mu) or none" in sec.figures[-1].caption


def test_snapshot_table_adds_each_runs_area_and_no_rows_note_only_without_any_e4_rows(drawn: list) -> None:
    ctx = Context(CONFIG, metrics(), inputs=None, out_dir=Path("out"))
    sec = E4.build_e4(ctx, "e4", EXP)
    assert NO_ROWS not in sec.notes  # no final rows, but snapshots: the section has something to show
    table = sec.tables[-1]
    assert table.caption.startswith("The metric of each training snapshot")
    settings = {(r[0], r[1], r[4], r[5]) for r in table.rows}
    assert ("g", "rpd", AREA, "200") in settings and ("g", "rpd", PROGRESS, "100") in settings
    assert not any(r[3] == "big" for r in table.rows)
    area = next(r for r in table.rows if r[:2] == ["g", "rpd"] and r[4] == AREA)
    # seed 0: exp(mean log over 100..200 of 2 → 1) = √2; seed 1: √6; mean ± sd over seeds
    expected = np.mean([np.sqrt(2.0), np.sqrt(6.0)])
    assert area[7].startswith(f"{expected:.4g} ± ")
    outcomes = sec.tables[0]  # C4's seed-paired tests, ω against μ̂: the areas decide, the last snapshot guards
    assert [(r[0], r[1], r[3]) for r in outcomes.rows] == [
        ("rpd", "rpd_mu", f"dataset g, size std, sampler {AREA}"), ("rpd", "rpd_mu", f"dataset img, size std, sampler {AREA}"),
        ("rpd", "rpd_mu", f"dataset g, size std, sampler {PROGRESS}, K 200"),
        ("rpd", "rpd_mu", f"dataset img, size std, sampler {PROGRESS}, K 20")]
    empty = E4.build_e4(Context(CONFIG, metrics().iloc[0:0], inputs=None, out_dir=Path("out")), "e4", EXP)
    assert empty.notes == [NO_ROWS] and not empty.figures and not empty.tables


def test_in_experiment_keeps_the_experiments_rows_and_passes_an_empty_frame_through() -> None:
    frame = metrics()
    kept = E4.in_experiment(frame, EXP)
    assert set(kept["size"]) == {"std"} and len(kept) == len(frame) - 4
    assert E4.in_experiment(pd.DataFrame(), EXP).empty


def test_metric_figure_units_follow_the_dataset_and_a_model_without_aux_is_dotted(drawn: list) -> None:
    # 1WD is in data units on 2D points (pixel units on images); a model the aux map lacks is shown as "—", dotted
    snaps = pd.DataFrame(snapshot("g", "rpd", "1wd", {100: [2.0, 4.0]}) + snapshot("g", "ddpm", "1wd", {100: [1.0, 1.0]}))
    ctx = Context(CONFIG, snaps, inputs=None, out_dir=Path("out"))
    fig = E4.metric_figure(ctx, "e4", snaps, "g", "1wd", {"rpd": "omega"})
    (_, data, label) = drawn[0]
    assert label == "1WD (data units), log scale" and fig.alt == "1WD (data units) against training iteration (g)"
    assert curve_points(data)[("g, size std", "ddpm (aux —)", 100)] == (1.0, 0.0, ":")
