"""rpd.report.figures on small hand-made data: what each figure draws (points, lines, pixels, labels).

The figure is kept instead of saved (``_save`` is replaced by a recorder in all but one test) and its axes are
read back: the points a scatter panel plots, the means and error bars a line plots, the pixels a gallery shows
(uint8 images as the pipeline stores them). No report is rendered (issue 18: `make mutation`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.colors
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from rpd.report import figures as F


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> list[tuple[plt.Figure, Path]]:
    figures: list[tuple[plt.Figure, Path]] = []
    monkeypatch.setattr(F, "_save", lambda fig, path: figures.append((fig, Path(path))))
    yield figures
    for fig, _ in figures:
        plt.close(fig)


def test_family_colours_names_and_labels() -> None:
    assert F.family_colour("rpd") == F.FAMILY_COLOURS["rpd"] != F.family_colour("ddpm")
    assert F.family_colour("new") == "#888888"
    name = F.figure_name("E1", "RW 1WD", 3)
    assert name.startswith("e1-rw-1wd-3-") and name.endswith(".png") and len(name) == len("e1-rw-1wd-3-") + 12
    assert name != F.figure_name("e1", "rw 1wd", 3)  # the hash keeps names that differ only in case apart
    assert F.figure_name("ü/ß").startswith("figure-")
    assert len(F.figure_name("x" * 100)) == 60 + 1 + 8 + 4


def test_tick_labels_and_spread() -> None:
    assert [F.tick_label(v) for v in (3, 100, 1000, 9999, 10000, 25700, 999_999, 1e6, 1.26e6, 3e9)] == [
        "3", "100", "1000", "9999", "10k", "25.7k", "1M", "1M", "1.26M", "3G"]
    assert F.spread_ticks([10, 1, 1.2, 3, 1.25, 12.6]) == [1, 1.25, 3, 10, 12.6]
    assert F.spread_ticks([1, 1.9, 2.0], min_ratio=2) == [1, 2.0]
    assert F.spread_ticks([]) == []
    assert F.spread_ticks([100, 110, 200]) == [100, 200]  # 110 is within 1.25× of 100, whatever their size
    assert [F._minor_log_label(v, None) for v in (0, -1, 2, 5, 20, 0.05, 3, 1)] == ["", "", "2", "5", "20", "0.05",
                                                                                   "", ""]


def test_a_zero_tick_gets_no_label_without_taking_its_log() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log10(0) would warn: a zero or negative tick is not a log tick
        assert F._minor_log_label(0.0, None) == ""


def test_style_by_family_and_rank_within_it() -> None:
    frame = pd.DataFrame({"model": ["a", "b", "a", "c", "d"], "family": ["rpd", "rpd", "rpd", "ddpm", "rpd"]})
    s = F.style_for(frame)
    assert s["a"] == {"color": F.FAMILY_COLOURS["rpd"], "marker": "o", "linestyle": "-"}
    assert s["b"] == {"color": F.FAMILY_COLOURS["rpd"], "marker": "s", "linestyle": "--"}
    assert s["c"] == {"color": F.FAMILY_COLOURS["ddpm"], "marker": "o", "linestyle": "-"}
    assert (s["d"]["marker"], s["d"]["linestyle"]) == ("^", ":")
    many = F.style_for(pd.DataFrame({"model": [str(i) for i in range(8)], "family": "rpd"}))
    assert (many["7"]["marker"], many["4"]["linestyle"]) == (F.MARKERS[0], F.LINESTYLES[0])


def test_pixels_are_scaled_from_uint8_and_tiled() -> None:
    np.testing.assert_allclose(F.to_unit_interval(np.array([0, 51, 255], dtype=np.uint8)), [0, 0.2, 1])
    np.testing.assert_allclose(F.to_unit_interval(np.array([0, 65535], dtype=np.uint16)), [0, 1])
    np.testing.assert_allclose(F.to_unit_interval(np.array([-0.5, 0.25, 1.5])), [0, 0.25, 1])
    grey = F._to_hwc(np.array([[[0, 255]]], dtype=np.uint8))
    assert grey.shape == (1, 2, 3) and grey[0, 1].tolist() == [1.0, 1.0, 1.0]
    assert F._to_hwc(np.zeros((3, 4))).shape == (3, 4, 3)
    rgb = np.zeros((4, 2, 2), dtype=np.uint8)
    rgb[0], rgb[2], rgb[3] = 255, 51, 7
    assert F._to_hwc(rgb)[0, 0].tolist() == [1.0, 0.0, 0.2]  # the first three channels, in order
    with pytest.raises(ValueError, match=r"C×H×W or H×W, got shape \(1, 1, 1, 1\)"):
        F._to_hwc(np.zeros((1, 1, 1, 1)))
    a = np.full((1, 2, 2), 10, dtype=np.uint8)
    b = np.full((1, 3, 1), 200, dtype=np.uint8)
    m = F._mosaic([a, b])
    assert m.dtype == np.uint8 and m.shape == (3, 3 + 2, 3)
    assert m[:2, :2, 0].tolist() == [[10, 10], [10, 10]]
    assert m[2, 0].tolist() == [255, 255, 255] and m[:, 2].tolist() == [[255] * 3] * 3  # padding is white
    assert m[:, 3, 0].tolist() == [200, 200, 200] and m[:, 4, 0].tolist() == [255] * 3
    assert F._mosaic([a], pad=0).shape == (2, 2, 3)


def test_image_grid_shows_each_rows_images_exactly(kept: list) -> None:
    rows = [[np.full((1, 2, 2), 10 * i, dtype=np.uint8) for i in range(3)], [], [np.full((1, 2, 2), 255, np.uint8)]]
    F.image_grid("g.png", rows, ["class 0", "class 1", "class 2"], title="the title", colour="#123456")
    fig, path = kept[0]
    assert path == Path("g.png")
    axes = fig.axes
    assert [ax.get_ylabel() for ax in axes] == ["class 0", "class 1", "class 2"]
    assert [ax.yaxis.label.get_rotation() for ax in axes] == [0, 0, 0]  # row labels read across, beside the row
    shown = axes[0].images[0].get_array()
    assert shown.shape == (2, 9, 3) and shown[0, ::3, 0].tolist() == [0, 10, 20]
    assert not axes[1].images and [t.get_text() for t in axes[1].texts] == ["no samples"]
    empty_note = axes[1].texts[0]
    assert empty_note.get_position() == (0.5, 0.5) and empty_note.get_transform() == axes[1].transAxes
    assert empty_note.get_horizontalalignment() == "center" and axes[0].get_aspect() == 1.0
    assert axes[2].images[0].get_array()[0, 0].tolist() == [255, 255, 255]
    assert axes[0].images[0].get_interpolation() == "nearest"
    assert fig._suptitle.get_text() == "the title" and fig._suptitle.get_color() == "#123456"
    F.image_grid("h.png", [[np.zeros((1, 2, 2), np.uint8)]], ["r"])
    assert kept[1][0]._suptitle is None
    # the page size grows with the widest row and the row count, and a long row is capped at the page width
    assert tuple(fig.get_size_inches()) == pytest.approx((0.62 * 3 + 1.2, 0.68 * 3 + 0.5))
    F.image_grid("w.png", [[np.zeros((1, 2, 2), np.uint8)] * 30], ["r"])
    assert tuple(kept[2][0].get_size_inches()) == pytest.approx((12, 0.68 + 0.5))


def test_scatter_grid_plots_each_panels_points(kept: list) -> None:
    inside = np.array([[0.0, 0.0], [0.5, -0.5], [3.0, 0.0], [0.0, 0.9]])
    centres = np.array([[0.0, 0.0], [1.0, 1.0]])
    panels = [[F.ScatterPanel("a\nK=1", inside, "#ff0000", (-1, 1), (-1, 1), centres=centres), None],
              [F.ScatterPanel("b", None, "#00ff00", (-2, 2), (-3, 3)),
               F.ScatterPanel("c", inside, "#0000ff", (-1, 1), (-1, 1), note="zoomed", count_outside=False)]]
    F.scatter_grid("s.png", panels, ["row a", "row b"])
    fig, _ = kept[0]
    a, blank, b, c = fig.axes
    grid_marks, points = a.collections
    np.testing.assert_array_equal(grid_marks.get_offsets(), centres)
    np.testing.assert_array_equal(points.get_offsets(), inside)
    assert [t.get_text() for t in a.texts] == ["25% outside view"]
    assert a.get_xlim() == (-1, 1) and a.get_title() == "a\nK=1" and a.get_ylabel() == "row a"
    assert not blank.axison
    assert [t.get_text() for t in b.texts] == ["samples missing"] and not b.collections
    note = b.texts[0]
    assert note.get_position() == (0.5, 0.03) and note.get_color() == "#aa0000" and note.get_fontsize() == 7
    assert b.title.get_color() == "#777777" and a.title.get_color() == "#ff0000"  # grey title: no samples
    assert grid_marks.get_sizes().tolist() == [25] and grid_marks.get_linewidths().tolist() == [0.8]
    assert points.get_zorder() == 2 and grid_marks.get_zorder() == 1  # samples over the grid marks
    assert tuple(fig.get_size_inches()) == pytest.approx((2.15 * 2, 2.3 * 2))
    assert b.get_ylim() == (-3, 3) and b.get_ylabel() == "row b" and b.get_title() == "b"
    assert [t.get_text() for t in c.texts] == ["zoomed"]
    np.testing.assert_array_equal(c.collections[0].get_offsets(), inside)
    F.scatter_grid("t.png", [[F.ScatterPanel("all in", inside[:2], "#000", (-1, 1), (-1, 1))]], ["r"])
    assert not kept[1][0].axes[0].texts
    F.scatter_grid("u.png", [[F.ScatterPanel("off", inside, "#000", (-1, 1), (-1, 1), count_outside=False)]], ["r"])
    assert not kept[2][0].axes[0].texts


def lines_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "panel": ["p1", "p1", "p1", "p2"], "line": ["rpd", "rpd", "ddpm", "rpd"],
        "model": ["rpd", "rpd", "ddpm", "rpd"], "family": ["rpd", "rpd", "ddpm", "rpd"],
        "steps": [10, 1, 1, 1], "mean": [1.0, 3.0, 4.0, 2.0], "lo": [0.5, 2.0, np.nan, 1.0],
        "hi": [1.5, 5.0, np.nan, 3.0]})


def test_metric_lines_plot_each_lines_means_and_intervals(kept: list) -> None:
    F.metric_lines("m.png", lines_frame(), "steps", "K", "RW-1WD", share_y=False)
    fig, _ = kept[0]
    p1, p2 = fig.axes
    assert (p1.get_title(), p2.get_title(), p1.get_xlabel(), p1.get_ylabel()) == ("p1", "p2", "K", "RW-1WD")
    rpd, ddpm = p1.containers
    assert rpd.get_label() == "rpd" and ddpm.get_label() == "ddpm"
    line, _, (bars,) = rpd.lines
    assert line.get_xdata().tolist() == [1, 10] and line.get_ydata().tolist() == [3.0, 1.0]  # sorted by K
    assert line.get_color() == F.FAMILY_COLOURS["rpd"]
    segments = [seg[:, 1].tolist() for seg in bars.get_segments()]
    assert segments == [[2.0, 5.0], [0.5, 1.5]]
    (_, _, (no_bars,)) = ddpm.lines
    assert [seg[:, 1].tolist() for seg in no_bars.get_segments()] == [[4.0, 4.0]]  # one seed: no interval
    assert p1.get_xscale() == "log" and [t.get_text() for t in p1.get_xticklabels()] == ["1", "10"]
    assert p1.get_ylim()[0] == 0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["rpd", "ddpm"]
    F.metric_lines("n.png", lines_frame(), "steps", "K", "y", log_x=False)
    assert kept[1][0].axes[0].get_xscale() == "linear"


def test_metric_lines_fill_a_grid_of_at_most_three_columns(kept: list) -> None:
    frame = pd.concat([lines_frame().assign(panel=f"p{i}") for i in range(4)])
    F.metric_lines("m.png", frame, "steps", "K", "y")
    axes = kept[0][0].axes
    assert len(axes) == 6 and [ax.axison for ax in axes] == [True] * 4 + [False] * 2


def test_loss_curves_plot_the_mean_and_the_sd_band(kept: list) -> None:
    data = pd.DataFrame({"panel": ["d"] * 4, "line": ["a", "a", "b", "b"], "model": ["a", "a", "b", "b"],
                         "family": ["rpd", "rpd", "ddpm", "ddpm"], "step": [20, 10, 10, 20],
                         "mean": [0.5, 1.0, 2.0, 1.5], "sd": [0.1, 0.2, np.nan, np.nan]})
    F.loss_curves("l.png", data, "loss")
    fig, _ = kept[0]
    (ax,) = fig.axes
    a, b = ax.get_lines()
    assert a.get_xdata().tolist() == [10, 20] and a.get_ydata().tolist() == [1.0, 0.5]
    assert b.get_ydata().tolist() == [2.0, 1.5] and b.get_color() == F.FAMILY_COLOURS["ddpm"]
    (band,) = ax.collections  # only the line with an sd has a band
    ys = band.get_paths()[0].vertices[:, 1]
    assert min(ys) == pytest.approx(0.4) and max(ys) == pytest.approx(1.2)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training iteration (optimiser steps)"
    assert ax.get_ylabel() == "loss" and ax.get_title() == "d"
    F.loss_curves("m.png", data.assign(linestyle=":"), "loss")
    assert kept[1][0].axes[0].get_lines()[0].get_linestyle() == ":"


def test_a_figure_is_written_as_png(tmp_path: Path) -> None:
    path = tmp_path / "figures" / "g.png"
    F.image_grid(path, [[np.full((1, 2, 2), 255, np.uint8)]], ["r"])
    assert matplotlib.image.imread(path).ndim == 3
    assert not plt.get_fignums()  # closed after saving


def test_loss_curves_legend_names_each_line_in_the_datas_order_with_its_models_marker(kept: list) -> None:
    # two panels; in each, lines in first-seen order (not sorted), a model's marker by its rank in its family, and a
    # line of a single logged step (one point, no band)
    data = pd.DataFrame({"panel": ["d1", "d1", "d1", "d1", "d1", "d2"], "line": ["z", "z", "a", "a", "m", "z"],
                         "model": ["z", "z", "a", "a", "m", "z"], "family": ["rpd", "rpd", "rpd", "rpd", "ddpm", "rpd"],
                         "step": [10, 20, 10, 20, 10, 10], "mean": [1.0, 0.5, 2.0, 1.0, 3.0, 4.0],
                         "sd": [0.1, 0.1, 0.2, 0.2, np.nan, np.nan]})
    F.loss_curves("l.png", data, "loss")
    fig, _ = kept[0]
    d1, d2 = fig.axes
    assert (d1.get_title(), d2.get_title()) == ("d1", "d2")
    assert d1.get_legend_handles_labels()[1] == ["z", "a", "m"]
    assert [t.get_text() for t in d1.get_legend().get_texts()] == ["z", "a", "m"]
    z, a, m = d1.get_lines()
    assert (z.get_marker(), a.get_marker(), m.get_marker()) == ("o", "s", "o")
    assert (z.get_linestyle(), a.get_linestyle()) == ("-", "--")
    assert m.get_xdata().tolist() == [10] and m.get_color() == F.FAMILY_COLOURS["ddpm"]
    assert len(d1.collections) == 2 and not d2.collections  # bands for the lines with an sd
    assert d2.get_lines()[0].get_ydata().tolist() == [4.0]


def test_loss_curves_label_log_ticks_in_plain_numbers_and_floor_the_band(kept: list) -> None:
    # within one decade a log axis may hold no 1-2-5 tick, so every minor tick is labelled; across decades only 2
    # and 5 are; the band's lower edge stops at a tenth of the mean (an sd larger than the mean would reach 0)
    narrow = pd.DataFrame({"panel": "d", "line": "a", "model": "a", "family": "rpd", "step": [10, 20],
                           "mean": [0.8, 0.5], "sd": [0.05, 0.01]})
    wide = narrow.assign(panel="e", mean=[1.0, 0.001], sd=[np.nan, np.nan])
    floored = narrow.assign(panel="f", sd=[2.0, 0.01])
    F.loss_curves("l.png", pd.concat([narrow, wide, floored]), "loss")
    fig, _ = kept[0]
    d, e, f = fig.axes
    assert d.get_ylim()[1] / d.get_ylim()[0] < 10 < e.get_ylim()[1] / e.get_ylim()[0]
    assert [d.yaxis.get_minor_formatter()(v, 0) for v in (0.3, 0.6)] == ["0.3", "0.6"]
    assert [e.yaxis.get_minor_formatter()(v, 0) for v in (0.03, 0.05, 0.2)] == ["", "0.05", "0.2"]
    assert [ax.yaxis.get_major_formatter()(v, 0) for ax in (d, e) for v in (0.01, 1)] == ["0.01", "1"] * 2
    (band,) = f.collections
    ys = band.get_paths()[0].vertices[:, 1]
    assert min(ys) == pytest.approx(0.08) and max(ys) == pytest.approx(2.8)  # 0.8 / 10, not 0.8 − 2
    assert band.get_facecolor()[0][:3] == pytest.approx(matplotlib.colors.to_rgb(F.FAMILY_COLOURS["rpd"]))
    assert not d.get_legend().get_frame_on()


def test_scatter_grid_rows_of_unequal_length_and_blank_cells_before_a_panel(kept: list) -> None:
    pts = np.array([[0.2, -1.0], [1.0, 1.0], [-1.0, 0.5]])  # on the window's four edges: inside, not outside
    centres = np.array([[0.0, 1.0], [2.0, 3.0]])  # x ≠ y: the marks' coordinates cannot be swapped unseen
    panels = [[None, F.ScatterPanel("late", pts, "#ff0000", (-1, 1), (-1, 1), centres=centres, point_size=4.0)],
              [F.ScatterPanel("short row", pts, "#00ff00", (-1, 1), (-1, 1))]]
    F.scatter_grid("s.png", panels, ["a", "b"])
    fig, _ = kept[0]
    blank, late, short, missing = fig.axes
    assert not blank.axison and not missing.axison and late.get_title() == "late" and short.get_title() == "short row"
    marks, points = late.collections
    np.testing.assert_array_equal(marks.get_offsets(), centres)
    assert marks.get_facecolor()[0][:3] == pytest.approx(matplotlib.colors.to_rgb("#bbbbbb"))
    assert points.get_sizes().tolist() == [4.0] and points.get_facecolor()[0][:3] == pytest.approx((1.0, 0.0, 0.0))
    assert not late.texts  # every point within [-1, 1]², edges included
    left = np.array([[-1.5, 0.5], [0.0, 0.0], [0.5, 0.0], [0.0, 0.5]])  # left of the window, its y inside
    F.scatter_grid("l.png", [[F.ScatterPanel("left", left, "#000", (-1, 1), (-1, 1))]], ["r"])
    assert [t.get_text() for t in kept[1][0].axes[0].texts] == ["25% outside view"]


def test_metric_lines_share_the_y_axis_by_default_and_the_legend_lists_lines_of_every_panel(kept: list) -> None:
    frame = pd.concat([lines_frame(), pd.DataFrame({"panel": ["p2"], "line": ["only in p2"], "model": ["x"],
                                                    "family": ["ddpm"], "steps": [1], "mean": [9.0], "lo": [8.0],
                                                    "hi": [10.0]})])
    F.metric_lines("m.png", frame, "steps", "K", "y")
    fig, _ = kept[0]
    p1, p2 = fig.axes
    assert p1.get_shared_y_axes().joined(p1, p2) and p1.get_ylim() == p2.get_ylim()  # panels read on one scale
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["rpd", "ddpm", "only in p2"]
    assert len(legend.legend_handles) == 3 and all(h is not None for h in legend.legend_handles)
