"""The E1 section builder on a hand-made 2D results folder: which points each scatter panel shows (the full view
of seed ctx.seed, the zoom row of every cell on its centre pooled over seeds), the floor note's numbers, and the
tables' rows. Sample files are written where the pipeline writes them (rpd.layout.sample_file in the run's
folder); the figure writers are recorders. No report is rendered (issue 18: `make mutation`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.io import save_npz
from rpd.layout import reference_file, sample_file
from rpd.report import figures as F
from rpd.report.context import Context
from rpd.report.floor import FLOOR_MODEL
from rpd.report.inputs import ReportInputs
from rpd.report.sections import e1 as E1
from rpd.report.stats import t_interval

SPEC = {"kind": "grid", "shape": "dino", "grid": 2, "scale": 0.2, "jitter": 0.02, "data_seed": 7}
CONFIG = {
    "seeds": [0, 1],
    "datasets": {"g": SPEC},
    "sampling": [{"samplers": ["ddpm"], "steps": [10, 100]}],
    "models": {"rpd": {"family": "rpd", "prior": "vq", "prior_size": "p"}, "ddpm": {"family": "ddpm"}},
    "priors": {"vq": {"kind": "vqvae"}},
    "experiments": {"e1": {"datasets": ["g"], "models": ["ddpm", "rpd"], "sizes": ["std"]}},
}
CENTRES = np.array([[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]])  # grid 2


def near(centre: int, offset: float, n: int = 3) -> np.ndarray:
    """n points at ``offset`` (both coordinates) from one grid centre."""
    return np.repeat(CENTRES[centre][None] + offset, n, axis=0)


def rows(model: str, sampler: str, steps: int, values: list[float], metric: str = "rw1wd",
         size: str = "std") -> pd.DataFrame:
    family = {"rpd": "rpd", "ddpm": "ddpm", "vq": "vqvae"}[model]
    return pd.DataFrame([{"suite": "s", "dataset": "g", "model": model, "family": family, "size": size,
                          "seed": seed, "sampler": sampler, "steps": steps, "metric": metric, "value": v, "n": 12,
                          "parameters": 10, "extractor": ""} for seed, v in enumerate(values)])


def metrics() -> pd.DataFrame:
    return pd.concat([rows("rpd", "ddpm", 100, [0.2, 0.4]), rows("rpd", "ddpm", 10, [0.9, 0.9]),
                      rows("ddpm", "ddpm", 100, [0.5, 0.7]), rows("vq", "prior", 0, [1.0, 1.0], size="p"),
                      rows("rpd", "ddpm", 100, [0.1, 0.1], metric="1wd")])


def results_folder(tmp_path: Path, m: pd.DataFrame) -> Context:
    results = tmp_path / "results"
    ctx = Context(CONFIG, m, inputs=None, out_dir=tmp_path / "report")
    save_npz(reference_file(results, "g"), x=np.concatenate([near(i, 0.01, 3) for i in range(4)]).astype(np.float32))
    for seed in (0, 1):
        for model, size, pair, pts in (("rpd", "std", ("ddpm", 100), near(0, 0.05 + seed / 100, 2 + seed)),
                                       ("ddpm", "std", ("ddpm", 100), near(3, -0.06, 4)),
                                       ("vq", "p", ("prior", 0), near(1, 0.07, 5))):
            run = ctx.run("g", model, size, seed)
            save_npz(sample_file(results / run.folder, *pair), x=pts.astype(np.float32), seconds=np.array(1.0))
    ctx.inputs = ReportInputs.from_lists(results / "metrics.csv", results / "summary.csv", {
        "references": [reference_file(results, "g")], "sample_dirs": [results]})
    return ctx


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    calls: dict[str, list] = {"scatter_grid": [], "metric_lines": []}
    for name, rec in calls.items():
        monkeypatch.setattr(F, name, lambda *args, rec=rec, **kwargs: rec.append(args))
    return calls


def test_local_offsets_and_pooling() -> None:
    x = np.array([[-0.4, -0.6], [0.7, 0.4], [0.45, -0.55]])
    np.testing.assert_allclose(E1.local_offsets(x, CENTRES), [[0.1, -0.1], [0.2, -0.1], [-0.05, -0.05]])
    assert E1.local_offsets(None, CENTRES) is None
    assert E1.pooled([None, np.zeros((2, 2)), np.ones((1, 2))]).tolist() == [[0, 0], [0, 0], [1, 1]]
    assert E1.pooled([None, None]) is None


def test_scatter_rows_show_seed_zero_in_full_and_every_seed_zoomed(tmp_path: Path, drawn: dict) -> None:
    ctx = results_folder(tmp_path, metrics())
    fig = E1.scatter_figure(ctx, "e1", CONFIG["experiments"]["e1"], "g", ctx.experiment_rows(
        CONFIG["experiments"]["e1"]))
    path, panels, labels = drawn["scatter_grid"][0]
    assert labels == ["size std", "size std, every cell on its centre"]
    full, zoom = panels
    assert [p.title for p in full] == ["real (reference)", "prior: vq-p", "ddpm\nddpm sampler, K=100",
                                       "rpd\nddpm sampler, K=100"]  # a model named as its family: no [family]
    assert [len(p.points) for p in full] == [12, 5, 4, 2]  # seed 0 only
    np.testing.assert_allclose(full[3].points, near(0, 0.05, 2), atol=1e-6)  # as drawn, not moved
    assert [p.colour for p in full] == [F.family_colour(f) for f in ("reference", "vqvae", "ddpm", "rpd")]
    assert full[0].xlim == (-1.0, 1.0) and full[0].count_outside and full[0].point_size == 1.5
    np.testing.assert_array_equal(full[0].centres, CENTRES)
    # zoom: every point minus its cell's centre, seeds 0 and 1 pooled (the reference once)
    assert [p.title.split("\n")[-1] for p in zoom] == ["n = 12", "n = 10", "n = 8", "n = 5"]
    np.testing.assert_allclose(zoom[3].points, np.concatenate([np.full((2, 2), 0.05), np.full((3, 2), 0.06)]), atol=1e-6)
    np.testing.assert_allclose(zoom[2].points, np.full((8, 2), -0.06), atol=1e-6)  # float32 files
    h = E1.ZOOM_HALF_WIDTH * 0.2
    assert zoom[0].xlim == (-h, h) and zoom[0].ylim == (-h, h) and not zoom[0].count_outside
    assert zoom[0].point_size == 2.0 and zoom[0].centres.tolist() == [[0.0, 0.0]]
    assert fig.alt == "Samples on g"
    assert fig.caption.startswith("g (grid 2×2, scale 0.2). Columns: the held-out reference set (N = 12), the prior "
                                  "vq-p of rpd, then each model")
    assert "pooled over seed(s) 0, 1 (the reference set once), n = 5, 8, 10, 12 points per panel" in fig.caption
    assert f"window ±{h:.3g} around the centre" in fig.caption and "all 4 cells overlaid" in fig.caption


def test_a_model_without_rows_is_not_evaluated(tmp_path: Path, drawn: dict) -> None:
    m = metrics()
    ctx = results_folder(tmp_path, m[m["model"] != "ddpm"])
    E1.scatter_figure(ctx, "e1", CONFIG["experiments"]["e1"], "g", ctx.experiment_rows(CONFIG["experiments"]["e1"]))
    ddpm = drawn["scatter_grid"][0][1][0][2]
    assert (ddpm.title, ddpm.points, ddpm.note) == ("ddpm", None, "not evaluated")


def test_without_an_rpd_model_the_prior_is_the_first_models_with_one(tmp_path: Path, drawn: dict) -> None:
    ctx = results_folder(tmp_path, metrics())
    ctx.config = {**CONFIG, "models": {**CONFIG["models"], "dv": {"family": "diffusevae1", "prior": "vq"}}}
    cols = E1.ScatterColumns(ctx, {"models": ["ddpm", "dv"], "datasets": ["g"]}, "g", metrics())
    assert (cols.prior_source, cols.prior) == ("dv", ("vq", "std"))
    assert [p.title for p in cols.panels("std", zoom=False)] == [
        "real (reference)", "prior: vq-std", "ddpm\nddpm sampler, K=100", "dv [DiffuseVAE-1]"]
    assert [p.note for p in cols.panels("std", zoom=False)] == ["", "", "", "not evaluated"]
    rpd_too = E1.ScatterColumns(ctx, {"models": ["ddpm", "dv", "rpd"], "datasets": ["g"]}, "g", metrics())
    assert rpd_too.models.index("dv") < rpd_too.models.index("rpd")  # dv first, yet not the prior source
    assert (rpd_too.prior_source, rpd_too.prior) == ("rpd", ("vq", "p"))  # an RPD model's prior comes first
    bare = E1.ScatterColumns(ctx, {"models": ["ddpm"], "datasets": ["g"]}, "g", metrics())
    assert bare.prior is None and [p.title for p in bare.panels("std", zoom=False)] == [
        "real (reference)", "ddpm\nddpm sampler, K=100"]
    fig = E1.scatter_figure(ctx, "e1", {"models": ["ddpm"], "datasets": ["g"], "sizes": ["std"]}, "g", metrics())
    assert "no prior" in fig.caption


def test_floor_notes_give_the_floor_and_each_rpd_models_multiple() -> None:
    floor = pd.DataFrame({"dataset": "g", "metric": "rw1wd", "value": [0.1, 0.2, 0.3]})
    notes = E1.floor_notes(metrics(), floor)
    mean, _, n, lo, hi = t_interval([0.1, 0.2, 0.3])
    assert notes == [f"g: the data floor of RW-1WD is 0.2 (95% interval [{lo:.3g}, {hi:.3g}], 3 draws); rpd-std at "
                     "its best-quality setting (ddpm sampler, K = 100) scores 0.3, 1.50× the floor."]


def test_floor_notes_round_to_three_digits_and_keep_the_models_in_row_order() -> None:
    floor = pd.DataFrame({"dataset": "g", "metric": "rw1wd", "value": [0.11111, 0.22222, 0.33333]})
    m = pd.concat([rows("rpd", "ddpm", 100, [0.123456, 0.123456]).assign(model="zeta"),
                   rows("rpd", "ddpm", 100, [0.45678, 0.45678]).assign(model="alpha")])
    _, _, _, lo, hi = t_interval([0.11111, 0.22222, 0.33333])
    assert E1.floor_notes(m, floor) == [
        f"g: the data floor of RW-1WD is 0.222 (95% interval [{lo:.3g}, {hi:.3g}], 3 draws); zeta-std at its "
        "best-quality setting (ddpm sampler, K = 100) scores 0.123, 0.56× the floor; alpha-std at its best-quality "
        "setting (ddpm sampler, K = 100) scores 0.457, 2.06× the floor."]


def test_floor_figure_draws_the_models_and_the_floor_line(tmp_path: Path, drawn: dict) -> None:
    ctx = Context(CONFIG, metrics(), inputs=None, out_dir=tmp_path)
    floor = pd.DataFrame({"dataset": "g", "metric": "rw1wd", "value": [0.1, 0.2, 0.3]})
    rows_ = ctx.experiment_rows(CONFIG["experiments"]["e1"])
    fig = E1.floor_figure(ctx, "e1", rows_, floor)
    _, data, x, xlabel, ylabel = drawn["metric_lines"][0]
    assert (x, xlabel, ylabel) == ("steps", F.STEPS_LABEL, F.RW1WD_LABEL)
    assert list(dict.fromkeys(data["line"])) == ["ddpm (DDPM)", "rpd (RPD)",
                                                 f"{FLOOR_MODEL} (independent draw of the data)"]
    floor_line = data[data["model"] == FLOOR_MODEL]
    assert floor_line["steps"].tolist() == [10, 100] and floor_line["mean"].tolist() == pytest.approx([0.2, 0.2])
    assert set(data["panel"]) == {"g, ddpm sampler"}
    assert fig.alt == "RW-1WD against K with the data floor" and "3 independent draws" in fig.caption


def test_build_e1_tables_hold_the_best_setting_the_priors_and_the_floor(tmp_path: Path, drawn: dict) -> None:
    ctx = results_folder(tmp_path, metrics())
    sec = E1.build_e1(ctx, "e1", CONFIG["experiments"]["e1"])
    assert [f.alt for f in sec.figures] == ["Samples on g", "RW-1WD against K with the data floor"]
    # each figure is drawn to the file the page links, named for the report rule's e<N>-<figure>.png pattern
    drawn_to = [drawn["scatter_grid"][0][0], drawn["metric_lines"][0][0]]
    assert drawn_to == [ctx.out_dir / f.src for f in sec.figures]
    assert [f.src.rsplit("-", 1)[0] for f in sec.figures] == ["figures/e1-scatter-g", "figures/e1-rw1wd-vs-k-floor"]
    assert sec.notes[0].startswith("g: the data floor of RW-1WD is ")
    best = sec.summary[0]
    assert [(r[1], r[5]) for r in best.rows] == [("vq", "—"), ("ddpm", "100"), ("rpd", "100"), (FLOOR_MODEL, "—")]
    assert best.columns[7:9] == ["RW-1WD mean ± sd", "RW-1WD 95% interval"]
    assert best.rows[2][7] == "0.3 ± 0.14"
    full = sec.tables[0]
    assert [(r[1], r[5]) for r in full.rows] == [("vq", "—"), ("ddpm", "100"), ("rpd", "10"), ("rpd", "100")]
    paired = sec.tables[1]
    assert [(r[1], r[2], r[5], r[6]) for r in paired.rows] == [("rpd", "ddpm", "100", "2")]
    assert sec.tables[2].columns[-1] == "sanity"
    empty = E1.build_e1(results_folder(tmp_path / "none", metrics().iloc[:0]), "e1", CONFIG["experiments"]["e1"])
    assert empty.figures == [] and empty.tables == []
