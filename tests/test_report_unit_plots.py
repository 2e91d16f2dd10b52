"""rpd.report.plots on a hand-made results folder: which rows a figure draws and which images a gallery shows.

The sample files are written where the pipeline writes them (rpd.layout.sample_file in the run's folder) with
the pipeline's types (uint8 images, int labels, float 2D points); the drawing functions of rpd.report.figures
are replaced by recorders, so a test sees exactly the data a figure would draw without rendering the report
(issue 18: a mutant of a figure-data function dies in a fraction of a second).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.io import save_npz
from rpd.layout import reference_file, sample_file
from rpd.report import figures as F
from rpd.report import plots as P
from rpd.report.context import Context
from rpd.report.inputs import ReportInputs

CONFIG = {
    "seeds": [1, 2],
    "datasets": {"digits": {"kind": "fmnist"}, "grid": {"kind": "grid", "grid": 3}},
    "models": {"ddpm": {"family": "ddpm"}, "rpd": {"family": "rpd"}},
    "priors": {},
}


def rows(model: str, sampler: str, steps: int, values: list[float], metric: str = "rw1wd", dataset: str = "grid",
         size: str = "std", parameters: int = 100, **extra: object) -> pd.DataFrame:
    family = CONFIG["models"].get(model, {}).get("family", "vqvae")
    return pd.DataFrame([{"suite": "s", "dataset": dataset, "model": model, "family": family, "size": size,
                          "seed": seed, "sampler": sampler, "steps": steps, "metric": metric, "value": v,
                          "parameters": parameters, "extractor": "", **extra}
                         for seed, v in enumerate(values, start=1)])


def uint8_images(n: int, first: int) -> np.ndarray:
    """n 1×2×2 uint8 images; image i is filled with first + i (so a test can tell which image is shown)."""
    return np.stack([np.full((1, 2, 2), first + i, dtype=np.uint8) for i in range(n)])


class Recorder:
    """Stands in for a rpd.report.figures drawing function: keeps each call's arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, *args: object, **kwargs: object) -> None:
        self.calls.append((args, kwargs))


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Recorder]:
    recorders = {name: Recorder() for name in ("image_grid", "scatter_grid", "metric_lines")}
    for name, rec in recorders.items():
        monkeypatch.setattr(F, name, rec)
    return recorders


def results_folder(tmp_path: Path, ctx_config: dict = CONFIG) -> Context:
    """A results folder: digits reference (labels 0, 1), rpd's and ddpm's samples at seed 1, grid points."""
    results = tmp_path / "results"
    ctx = Context(ctx_config, pd.DataFrame(), inputs=None, out_dir=tmp_path / "report")
    save_npz(reference_file(results, "digits"), x=uint8_images(20, 200), y=np.array([0, 1] * 10))
    for model, first in (("rpd", 0), ("ddpm", 100)):
        run = ctx.run("digits", model, "std", ctx.seed)
        for k in (1, 3):
            save_npz(sample_file(results / run.folder, "ddim", k), x=uint8_images(20, first + 10 * k),
                     y=np.array([1, 0] * 10), seconds=np.array(1.0))
        for k in (1, 3, 10):
            grid_run = ctx.run("grid", model, "std", ctx.seed)
            save_npz(sample_file(results / grid_run.folder, "ddim", k),
                     x=np.full((5, 2), float(k + first), dtype=np.float32), seconds=np.array(1.0))
    ctx.inputs = ReportInputs.from_lists(results / "metrics.csv", results / "summary.csv", {
        "references": [reference_file(results, "digits")], "sample_dirs": [results]})
    return ctx


def test_figure_metrics_in_figure_order_and_only() -> None:
    m = pd.concat([rows("rpd", "ddim", 1, [1.0], metric="mass_error", extractor=""),
                   rows("rpd", "ddim", 1, [1.0], metric="1wd", extractor=""),
                   rows("rpd", "ddim", 1, [1.0], metric="kid", extractor="b"),
                   rows("rpd", "ddim", 1, [2.0], metric="kid", extractor="a"), rows("rpd", "ddim", 1, [1.0], extractor="")])
    assert P.figure_metrics(m) == [("kid", "a"), ("kid", "b"), ("rw1wd", ""), ("1wd", "")]
    assert P.figure_metrics(m.drop(columns="extractor").iloc[[0, 1, 4]]) == [("rw1wd", ""), ("1wd", "")]
    assert P.only(m, "kid", "a")["value"].tolist() == [2.0]
    assert P.only(m, "kid", "")["value"].tolist() == [1.0, 2.0]
    assert P.only(m.drop(columns="extractor"), "kid", "a")["value"].tolist() == [1.0, 2.0]
    assert P.extractor_note("a") == " [KID features: a]" and P.extractor_note("") == ""


def test_few_and_headline_settings() -> None:
    m = pd.concat([rows("rpd", "ddpm", 100, [1.0]), rows("rpd", "ddim", 10, [1.0]), rows("rpd", "ddim", 3, [1.0]),
                   rows("rpd", "prior", 0, [1.0])])
    assert P.few_pair(m) == ("ddim", 3)
    assert P.few_pair(rows("vq", "prior", 0, [1.0])) is None
    assert P.few_pair(rows("rpd", "euler", 5, [1.0])) == ("euler", 5)
    assert P.headline_and_few(m) == [("ddpm", 100), ("ddim", 3)]
    assert P.headline_and_few(rows("rpd", "ddim", 3, [1.0])) == [("ddim", 3)]
    assert P.headline_and_few(rows("vq", "prior", 0, [1.0])) == []


def test_at_best_setting_keeps_each_models_best_quality_rows() -> None:
    m = pd.concat([rows("rpd", "ddpm", 100, [1.0, 2.0]), rows("rpd", "ddpm", 10, [3.0]),
                   rows("rpd", "ddim", 1000, [4.0]), rows("ddpm", "ddim", 50, [5.0]), rows("ddpm", "ddim", 5, [6.0]),
                   rows("rpd", "ddim", 1000, [7.0], size="small")])
    best = P.at_best_setting(m)
    assert best["value"].tolist() == [1.0, 2.0, 5.0, 7.0]  # groups in the order of the rows, not sorted
    assert P.at_best_setting(m.iloc[:0]).empty


def test_line_data_means_and_report_order() -> None:
    m = pd.concat([rows("rpd", "ddim", 10, [1.0, 3.0], size="small", parameters=1),
                   rows("rpd", "ddim", 1, [5.0, 7.0], size="small", parameters=1),
                   rows("rpd", "ddim", 1, [2.0, 2.0], size="big", parameters=9),
                   rows("ddpm", "ddim", 1, [4.0, 4.0], extractor="")])
    ctx = Context(CONFIG, m, inputs=None, out_dir=Path("."))
    s = P.line_data(ctx, m, ["dataset", "model", "size", "sampler", "steps"], lambda r: f"p-{r['sampler']}",
                    lambda r: f"{r['model']}, {r['size']}", ["size", "steps"])
    assert list(zip(s["line"], s["steps"], s["mean"])) == [
        ("ddpm, std", 1, 4.0), ("rpd, big", 1, 2.0), ("rpd, small", 1, 6.0), ("rpd, small", 10, 2.0)]
    assert set(s["panel"]) == {"p-ddim"}
    assert s["lo"].iloc[2] < 6.0 < s["hi"].iloc[2]
    empty = P.line_data(ctx, m.iloc[:0], ["model"], str, str, [])
    assert empty.empty


def test_steps_figures_draw_each_metrics_means_against_k(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    m = pd.concat([rows("rpd", "ddim", 1, [1.0, 3.0]), rows("rpd", "ddim", 10, [0.5, 0.5]),
                   rows("ddpm", "ddim", 1, [4.0, 6.0], size="big"),
                   rows("rpd", "ddim", 1, [9.0, 9.0], metric="mass_error"), rows("rpd", "prior", 0, [8.0, 8.0]),
                   rows("rpd", "ddim", 1, [0.1, 0.2], metric="kid", dataset="digits", extractor="lenet")])
    ctx = Context(CONFIG, m, inputs=None, out_dir=tmp_path)
    figs = P.steps_figures(ctx, "e2", m, "the few-step suite")
    assert [f.alt for f in figs] == ["KID (unitless) against K [KID features: lenet]",
                                       "RW-1WD (local-shape units) against K"]
    kid, rw = (call[0] for call in drawn["metric_lines"].calls)
    assert kid[2:5] == ("steps", F.STEPS_LABEL, "KID (unitless)")
    assert drawn["metric_lines"].calls[0][1] == {"share_y": False}
    data = rw[1]
    assert list(zip(data["line"], data["steps"], data["mean"])) == [
        ("ddpm (DDPM), big", 1, 5.0), ("rpd (RPD), std", 1, 2.0), ("rpd (RPD), std", 10, 0.5)]
    assert set(data["panel"]) == {"grid, ddim sampler"}  # two datasets: the panel names its dataset
    assert list(kid[1]["line"]) == ["rpd (RPD), std"]  # two sizes in the section's rows: labels name the size
    assert rw[0] == tmp_path / "figures" / F.figure_name("e2", "rw1wd", "", "vs-K")
    assert figs[1].src == f"figures/{F.figure_name('e2', 'rw1wd', '', 'vs-K')}"
    assert "(the few-step suite); mean over 2 seed(s)" in figs[1].caption
    assert P.steps_figures(ctx, "e2", m[m["metric"] == "mass_error"], "x") == []


def test_gallery_rows_by_class_or_in_file_order() -> None:
    x, y = uint8_images(20, 0), np.array([0, 1] * 10)
    by_class, labels = P.gallery_rows(x, y, [1, 0])
    assert labels == ["class 1", "class 0"]
    assert [[int(im[0, 0, 0]) for im in row] for row in by_class] == [list(range(1, 17, 2)), list(range(0, 16, 2))]
    plain, labels = P.gallery_rows(x, None, None)
    assert labels == ["samples 1–8", "samples 9–16"]
    assert [[int(im[0, 0, 0]) for im in row] for row in plain] == [list(range(8)), list(range(8, 16))]
    few, labels = P.gallery_rows(x[:10], y[:10], [])
    assert labels == ["samples 1–8", "samples 9–10"] and [len(r) for r in few] == [8, 2]
    assert P.gallery_rows(x[:3], None, None)[1] == ["samples 1–3"]


def shown(call: tuple) -> list[list[int]]:
    """The fill value of each image an image_grid call shows, by row."""
    return [[int(im[0, 0, 0]) for im in row] for row in call[0][1]]


def test_image_gallery_shows_the_models_own_samples_by_class(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    figs = P.image_gallery(ctx, "e2", "digits", "ddpm", "std", [("ddim", 7), ("ddim", 3)])  # K = 7 was not run
    assert len(figs) == 1 and len(drawn["image_grid"].calls) == 1
    call = drawn["image_grid"].calls[0]
    # ddpm's K = 3 images are 130 + i with labels 1, 0, 1, 0, …: class 0 is the odd i, class 1 the even i
    assert shown(call) == [list(range(131, 146, 2)), list(range(130, 145, 2))]
    assert call[0][2] == ["class 0", "class 1"]
    assert call[0][3:] == ("ddpm-std: ddim sampler, K = 3", F.family_colour("ddpm"))
    assert call[0][0] == tmp_path / "report" / "figures" / F.figure_name("e2", "gallery", "digits", "ddpm", "std",
                                                                         "ddim", 3)
    assert figs[0].alt == "Samples of ddpm-std, ddim sampler, K = 3"
    assert figs[0].caption == ("digits: samples of ddpm-std (DDPM), ddim sampler, K = 3, seed 1; one row per class, "
                               "the first samples generated for it.")


def test_reference_gallery_shows_the_held_out_images(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    (fig,) = P.reference_gallery(ctx, "e1", "digits")
    call = drawn["image_grid"].calls[0]
    assert shown(call) == [list(range(200, 216, 2)), list(range(201, 217, 2))]
    assert call[0][2:] == (["class 0", "class 1"], "real (held-out reference)", F.family_colour("reference"))
    assert fig.alt == "Reference images of digits"
    name = F.figure_name("e1", "gallery", "digits", "reference")
    assert call[0][0] == tmp_path / "report" / "figures" / name and fig.src == f"figures/{name}"
    assert fig.caption == "digits: held-out reference images, one row per class."


def test_reference_gallery_without_labels_or_file(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    save_npz(reference_file(ctx.inputs.results, "digits"), x=uint8_images(3, 50))
    (fig,) = P.reference_gallery(ctx, "e1", "digits")
    assert shown(drawn["image_grid"].calls[0]) == [[50, 51, 52]]
    assert fig.caption == "digits: held-out reference images."
    reference_file(ctx.inputs.results, "digits").unlink()
    assert P.reference_gallery(ctx, "e1", "digits") == []


def test_unlabelled_samples_show_in_file_order(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    run = ctx.run("digits", "rpd", "std", ctx.seed)
    save_npz(sample_file(ctx.inputs.results / run.folder, "ddim", 1), x=uint8_images(4, 60), seconds=np.array(1.0))
    (fig,) = P.image_gallery(ctx, "e2", "digits", "rpd", "std", [("ddim", 1)])
    assert shown(drawn["image_grid"].calls[0]) == [[60, 61, 62, 63]]
    assert fig.caption.endswith("seed 1; the first samples in file order.")


def test_points_by_steps_plots_each_models_samples_at_each_k(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    fig = P.points_by_steps(ctx, "e1", "grid", ["ddpm", "rpd"], "std", "ddim", [1, 10])
    path, panels, labels = drawn["scatter_grid"].calls[0][0]
    assert path == tmp_path / "report" / "figures" / F.figure_name("e1", "scatter-by-K", "grid", "std", "ddim")
    assert labels == ["ddpm-std", "rpd-std"]
    assert [[p.title for p in row] for row in panels] == [["ddpm, K=1", "ddpm, K=10"], ["rpd, K=1", "rpd, K=10"]]
    assert [[float(p.points[0, 0]) for p in row] for row in panels] == [[101.0, 110.0], [1.0, 10.0]]
    assert [row[0].colour for row in panels] == [F.family_colour("ddpm"), F.family_colour("rpd")]
    first = panels[0][0]
    assert (first.xlim, first.ylim) == ((-1.5, 1.5), (-1.5, 1.5))  # grid 3: centres -1, 0, 1
    np.testing.assert_array_equal(first.centres, P.grid_centres(3))
    assert fig.alt == "Samples on grid against K (ddim sampler)"
    assert fig.src == f"figures/{path.name}"  # the page shows the file the scatter was drawn into
    assert "samples of seed 1, ddim sampler; rows = models at size std" in fig.caption
    assert P.full_window(4) == ((-2.0, 2.0), (-2.0, 2.0))


def test_gallery_picks_the_few_step_sampler_and_at_most_four_ks(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    ctx = results_folder(tmp_path)
    exp = {"datasets": ["grid", "empty", "digits"], "sizes": ["std"]}  # a dataset without K rows skips to the next
    m = pd.concat([rows("rpd", "ddpm", 100, [1.0]), rows("rpd", "ddim", 1, [1.0]), rows("rpd", "ddim", 3, [1.0]),
                   rows("rpd", "ddim", 10, [1.0]), rows("rpd", "ddim", 30, [1.0]), rows("rpd", "ddim", 100, [1.0]),
                   rows("rpd", "ddim", 1, [1.0], dataset="digits"), rows("rpd", "ddim", 3, [1.0], dataset="digits"),
                   rows("rpd", "prior", 0, [1.0], dataset="empty")])
    figs = P.gallery(ctx, "e2", exp, m, ["rpd", "ddpm"])
    scatter = drawn["scatter_grid"].calls[0][0][1]
    assert [p.title for p in scatter[0]] == ["rpd, K=1", "rpd, K=3", "rpd, K=10", "rpd, K=100"]
    assert [f.alt for f in figs] == ["Samples on grid against K (ddim sampler)", "Reference images of digits",
                                       "Samples of rpd-std, ddim sampler, K = 1",
                                       "Samples of rpd-std, ddim sampler, K = 3",
                                       "Samples of ddpm-std, ddim sampler, K = 1",
                                       "Samples of ddpm-std, ddim sampler, K = 3"]
    assert shown(drawn["image_grid"].calls[1])[1][:2] == [10, 12]  # rpd K = 1, class 1: images 10 + even i
    assert drawn["scatter_grid"].calls[0][0][0].name == F.figure_name("e2", "scatter-by-K", "grid", "std", "ddim")
    assert [c[0][0].name for c in drawn["image_grid"].calls[:2]] == [
        F.figure_name("e2", "gallery", "digits", "reference"),
        F.figure_name("e2", "gallery", "digits", "rpd", "std", "ddim", 1)]
    P.gallery(ctx, "e2", exp, m, ["rpd"], max_k=5)
    assert [p.title for p in drawn["scatter_grid"].calls[1][0][1][0]] == [f"rpd, K={k}" for k in (1, 3, 10, 30, 100)]


def test_steps_figures_of_one_dataset_and_size_label_lines_by_model_and_panels_by_sampler(
        tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    new = rows("rpd", "ddim", 1, [7.0, 7.0]).assign(model="new", family="newfamily")  # a family without a label
    m = pd.concat([rows("rpd", "ddim", 1, [1.0, 3.0]), rows("rpd", "ddim", 10, [0.5, 0.5]), new,
                   rows("rpd", "train", 0, [0.1, 0.1]),  # training-loss rows: not a sampler, no panel
                   rows("rpd", "ddim", 1, [2.0, 2.0], metric="1wd"),
                   rows("rpd", "ddim", 1, [0.1, 0.3], metric="kid", extractor="lenet"),
                   rows("rpd", "ddim", 1, [0.5, 0.7], metric="kid", extractor="inception")])
    ctx = Context(CONFIG, m, inputs=None, out_dir=tmp_path)
    figs = P.steps_figures(ctx, "e2", m, "one dataset")
    by_alt = {f.alt: (f, call[0]) for f, call in zip(figs, drawn["metric_lines"].calls)}
    rw_fig, rw = by_alt["RW-1WD (local-shape units) against K"]
    assert set(rw[1]["panel"]) == {"ddim sampler"}  # one dataset: the panel names the sampler only
    assert list(zip(rw[1]["line"], rw[1]["steps"], rw[1]["mean"])) == [
        ("rpd (RPD)", 1, 2.0), ("rpd (RPD)", 10, 0.5), ("new (newfamily)", 1, 7.0)]  # one size: no size named
    assert by_alt["1WD (data units) against K"][1][4] == "1WD (data units)"  # 1WD on 2D points: data units
    for ext, mean in (("lenet", 0.2), ("inception", 0.6)):  # one figure per KID extractor, with its rows only
        fig, call = by_alt[f"KID (unitless) against K [KID features: {ext}]"]
        assert call[1]["mean"].tolist() == [pytest.approx(mean)]
        assert fig.caption.startswith(f"KID (unitless) [KID features: {ext}] against the number of inference steps")


def test_prior_gallery_and_a_model_of_an_unknown_family(tmp_path: Path, drawn: dict[str, Recorder]) -> None:
    config = {**CONFIG, "priors": {"vq": {"kind": "vqvae"}}}
    ctx = results_folder(tmp_path, config)
    ctx.metrics = rows("rpd", "ddim", 1, [1.0])
    for name, sampler, k in (("vq", "prior", 0), ("mystery", "ddim", 3)):  # mystery: in no config table
        run = ctx.run("digits", name, "std", ctx.seed)
        save_npz(sample_file(ctx.inputs.results / run.folder, sampler, k), x=uint8_images(4, 70),
                 y=np.array([0, 1, 0, 1]), seconds=np.array(1.0))
    (prior,) = P.image_gallery(ctx, "e1", "digits", "vq", "std", [("prior", 0)])
    assert prior.alt == "Samples of vq-std, prior samples"
    assert prior.caption.startswith("digits: samples of vq-std (VQ-VAE prior), prior samples, seed 1; ")
    name = F.figure_name("e1", "gallery", "digits", "vq", "std", "prior", 0)
    assert drawn["image_grid"].calls[0][0][0].name == name and prior.src == f"figures/{name}"
    assert drawn["image_grid"].calls[0][0][3] == "vq-std: prior samples"
    (mystery,) = P.image_gallery(ctx, "e1", "digits", "mystery", "std", [("ddim", 3)])
    assert mystery.caption.startswith("digits: samples of mystery-std (unknown), ddim sampler, K = 3, seed 1; ")
