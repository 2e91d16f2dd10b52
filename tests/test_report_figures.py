"""What the report's figures show, checked on the decoded PNG (pixels) or on the plotted data, not on file names."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from rpd.report import figures as F

SIDE = 4  # pixels per image side: small, so every input pixel is a block of many PNG pixels


def decoded(path: Path) -> np.ndarray:
    """The PNG as uint8 H×W×3."""
    img = mpimg.imread(path)
    return np.round(img[..., :3] * 255).astype(np.uint8) if img.dtype != np.uint8 else img[..., :3]


def distinct_images(count: int, channels: int, seed: int) -> np.ndarray:
    """``count`` uint8 C×SIDE×SIDE images whose pixels all have different colours (no white, no black)."""
    rng = np.random.default_rng(seed)
    n = count * SIDE * SIDE
    if channels == 1:  # grey levels 20, 26, 32, …: distinct and far from the white gap and black text
        levels = 20 + 6 * rng.permutation(n)
        return levels.reshape(count, 1, SIDE, SIDE).astype(np.uint8)
    colours = set()
    while len(colours) < n:  # saturated colours: text anti-aliasing is grey, so it never matches one
        c = tuple(int(v) for v in rng.integers(20, 236, 3))
        if max(c) - min(c) > 60:
            colours.add(c)
    return np.array(sorted(colours, key=lambda _: rng.random()), dtype=np.uint8).reshape(
        count, SIDE, SIDE, 3).transpose(0, 3, 1, 2)


def shown_cells(png: np.ndarray, images: np.ndarray) -> np.ndarray:
    """The colour drawn at the centre of every input pixel's cell, located through the PNG itself.

    Each input pixel has its own colour, so the PNG pixels of exactly that colour mark where it was drawn;
    the median of their positions gives the cell. Returns an array shaped like ``images`` (N×C×H×W).
    """
    rgb = images if images.shape[1] == 3 else np.repeat(images, 3, axis=1)
    out = np.zeros_like(rgb)
    for i in range(len(images)):
        corners = {}
        for r, c in ((0, 0), (SIDE - 1, SIDE - 1)):
            hits = np.argwhere((png == rgb[i, :, r, c]).all(axis=-1))
            assert len(hits) >= 4, f"image {i} pixel ({r}, {c}) colour {rgb[i, :, r, c]} is not drawn"
            corners[(r, c)] = np.median(hits, axis=0)
        (y0, x0), (y1, x1) = corners[(0, 0)], corners[(SIDE - 1, SIDE - 1)]
        for r in range(SIDE):
            for c in range(SIDE):
                y = int(round(y0 + (y1 - y0) * r / (SIDE - 1)))
                x = int(round(x0 + (x1 - x0) * c / (SIDE - 1)))
                out[i, :, r, c] = png[y, x]
    return out if images.shape[1] == 3 else out[:, :1]


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
def test_gallery_shows_the_true_pixel_values(tmp_path: Path, channels: int) -> None:
    """uint8 images as the pipeline stores them: every pixel is drawn with its own grey level or colour."""
    images = distinct_images(6, channels, seed=channels)
    path = tmp_path / "gallery.png"
    F.image_grid(path, [list(images[:3]), list(images[3:])], ["class 0", "class 1"], "a gallery")
    png = decoded(path)
    shown = shown_cells(png, images)
    np.testing.assert_array_equal(shown, images)
    # and the images sit in gallery order: image 1 right of image 0, row 2 below row 1
    centre = [np.argwhere((png == (images[i, :, 1, 1] if channels == 3 else images[i, 0, 1, 1])).all(-1)
                          ).mean(0) for i in range(6)]
    assert centre[0][1] < centre[1][1] < centre[2][1] and centre[0][0] < centre[3][0]


def test_gallery_takes_floats_in_the_unit_interval(tmp_path: Path) -> None:
    """A float image in [0, 1] (any path that produces floats) shows as the same uint8 image ×255."""
    images = distinct_images(2, 1, seed=5)
    path = tmp_path / "float.png"
    F.image_grid(path, [list(images.astype(np.float32) / 255)], ["row"])
    np.testing.assert_array_equal(shown_cells(decoded(path), images), images)


def test_unit_interval_conversion() -> None:
    x = np.array([[[0, 128, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(F.to_unit_interval(x), [[[0, 128 / 255, 1]]])
    np.testing.assert_allclose(F.to_unit_interval(np.array([-0.5, 0.25, 2.0])), [0, 0.25, 1])


# --------------------------------------------------------------------------------------------------------
# What the report's figures draw, read from the matplotlib artists just before each PNG is written


def axes_data(fig) -> list[dict]:
    return [{"title": ax.get_title(), "ylabel": ax.get_ylabel(), "xlim": ax.get_xlim(),
             "offsets": [np.asarray(c.get_offsets()) for c in ax.collections],
             "images": [np.asarray(im.get_array()) for im in ax.get_images()],
             "lines": {**{ln.get_label(): _xy(ln) for ln in ax.get_lines() if not ln.get_label().startswith("_")},
                       **{c.get_label(): _xy(c.lines[0]) for c in ax.containers if hasattr(c, "has_xerr")}}}
            for ax in fig.axes]


def _xy(line) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def render_capturing(results: Path, cfg: dict, out: Path) -> dict[str, list[dict]]:
    """Render the report and return, per figure file name, what each of its axes draws."""
    from rpd.report import ReportInputs, render_report

    drawn: dict[str, list[dict]] = {}
    real = F._save

    def capture(fig, path) -> None:
        drawn[Path(path).name] = axes_data(fig)
        real(fig, path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "_save", capture)
        render_report(ReportInputs.for_results(results, cfg), cfg, out)
    return drawn


@pytest.fixture(scope="module")  # module scope: tests/mutmut_plugin.py runs tests needing a built report last
def synthetic(synthetic_report) -> tuple[Path, dict, dict]:
    """The synthetic report (tests/conftest.py renders it once per session, capturing what figures draw)."""
    return synthetic_report.results, synthetic_report.cfg, synthetic_report.drawn


def one(drawn: dict, prefix: str) -> list[dict]:
    names = [n for n in drawn if n.startswith(prefix)]
    assert len(names) == 1, (prefix, sorted(drawn))
    return drawn[names[0]]


def test_scatter_plots_the_sample_files_points(synthetic: tuple[Path, dict, dict]) -> None:
    """E1: a model's full-view panel plots its seed-0 sample file; the zoom row plots every point of every
    seed minus its cell centre, in a window of ±0.65·scale (the local shape), the reference alike."""
    from rpd.data.grid import assign_regions, grid_centres
    from rpd.io import load_npz
    from rpd.layout import run_folder, sample_file

    results, cfg, drawn = synthetic
    axes = one(drawn, "e1-scatter-d-0-1")
    run = results / "d-0.1" / "rpd-std"  # the run set; seed k's run folder is run_folder(run, k)
    full = next(a for a in axes if a["title"].startswith("rpd\n") and "n =" not in a["title"])
    np.testing.assert_allclose(full["offsets"][-1], load_npz(sample_file(run_folder(run, 0), "ddpm", 10))["x"])
    centres = grid_centres(2)
    local = [x - centres[assign_regions(x, centres)]
             for x in (load_npz(sample_file(run_folder(run, s), "ddpm", 10))["x"].astype(float) for s in cfg["seeds"])]
    zoom = next(a for a in axes if a["title"].startswith("rpd\n") and "n =" in a["title"])
    np.testing.assert_allclose(zoom["offsets"][-1], np.concatenate(local), atol=1e-6)
    assert f"n = {sum(map(len, local))}" in zoom["title"]
    scale = cfg["datasets"]["d-0.1"]["scale"]
    assert np.diff(zoom["xlim"])[0] == pytest.approx(2 * 0.65 * scale)  # zoomed, not the full view
    ref = load_npz(results / "d-0.1" / "reference.npz")["x"].astype(float)
    ref_zoom = next(a for a in axes if a["title"].startswith("real") and "n =" in a["title"])
    np.testing.assert_allclose(ref_zoom["offsets"][-1], ref - centres[assign_regions(ref, centres)], atol=1e-6)


def test_gallery_shows_the_models_own_samples(synthetic: tuple[Path, dict, dict]) -> None:
    """E6: row c of rpd's gallery is the first 8 class-c images of rpd's own sample file, pixel for pixel."""
    from rpd.io import load_npz
    from rpd.layout import run_folder, sample_file

    results, _, drawn = synthetic
    for model in ("rpd", "ddpm"):
        data = load_npz(sample_file(results / run_folder(f"img/{model}-std", 0), "ddim", 1))
        axes = one(drawn, f"e6-gallery-img-{model}-std-ddim-1")
        for c, ax in enumerate(axes):
            first = data["x"][np.flatnonzero(data["y"] == c)[:8]]
            tiles = [np.pad(np.repeat(im, 3, 0).transpose(1, 2, 0), ((0, 0), (0, 1), (0, 0)), constant_values=255)
                     for im in first]
            np.testing.assert_array_equal(ax["images"][0], np.concatenate(tiles, axis=1))
            assert ax["ylabel"] == f"class {c}"
    reference = one(drawn, "e6-gallery-img-reference")
    rpd = one(drawn, "e6-gallery-img-rpd-std-ddim-1")
    assert not np.array_equal(reference[0]["images"][0], rpd[0]["images"][0])


def test_lines_plot_the_seed_means(synthetic: tuple[Path, dict, dict]) -> None:
    """E2 RW-1WD against K: each line's points are the mean over seeds of metrics.csv at each K."""
    from rpd.report.inputs import load_metrics

    results, _, drawn = synthetic
    m = load_metrics(results / "metrics.csv")
    axes = one(drawn, "e2-rw1wd-vs-k")
    checked = 0
    for ax in axes:
        dataset_sampler = ax["title"]
        if not dataset_sampler:
            continue
        dataset, _, sampler = dataset_sampler.rpartition(", ")
        for label, (ks, means) in ax["lines"].items():
            model = label.split(" (")[0]
            rows = m[(m["dataset"] == dataset) & (m["model"] == model) & (m["size"] == "std")
                     & (m["sampler"] == sampler.removesuffix(" sampler")) & (m["metric"] == "rw1wd")]
            expected = rows.groupby("steps")["value"].mean()
            np.testing.assert_allclose(means, expected.loc[ks.astype(int)].to_numpy())
            checked += 1
    assert checked >= 4
