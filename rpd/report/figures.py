"""Report figures (seaborn / matplotlib, Agg backend), written as PNG files beside the HTML.

Every figure takes plain data (arrays, small frames) and a destination path; loading results is the
caller's job (:mod:`rpd.report.render`). Colours come from one mapping, :data:`FAMILY_COLOURS`, so a model
family has the same colour in every figure; models of one family are told apart by marker and line style.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from rpd.io import write_atomic  # noqa: E402

_CB = sns.color_palette("colorblind", 10).as_hex()

#: One colour per model family (and for the reference data and the priors), shared by every figure.
FAMILY_COLOURS: dict[str, str] = {
    "reference": "#333333",
    "vqvae": _CB[2],  # green (a prior)
    "betavae": _CB[5],  # brown (a prior)
    "ddpm": _CB[1],  # orange
    "diffusevae1": _CB[4],  # purple
    "diffusevae2": "#882255",  # wine (the palette's pink is too pale for small points)
    "rpd": _CB[0],  # blue
}
FAMILY_LABELS: dict[str, str] = {
    "reference": "real",
    "vqvae": "VQ-VAE prior",
    "betavae": "β-VAE prior",
    "ddpm": "DDPM",
    "diffusevae1": "DiffuseVAE (form 1)",
    "diffusevae2": "DiffuseVAE (form 2)",
    "rpd": "RPD",
}
SHORT_LABELS: dict[str, str] = {"ddpm": "DDPM", "diffusevae1": "DiffuseVAE-1", "diffusevae2": "DiffuseVAE-2",
                                 "rpd": "RPD", "vqvae": "VQ-VAE", "betavae": "β-VAE"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.")

RW1WD_LABEL = "RW-1WD (local-shape units)"
W1_LABEL = "1WD (data units)"
STEPS_LABEL = "K (inference steps, log scale)"
SCALE_LABEL = "scale (local-shape size / grid spacing, log scale)"

# Names come from the suite config; never let matplotlib read them as mathtext.
_RC = {"text.parse_math": False, "figure.dpi": 100, "savefig.dpi": 110, "axes.titlesize": 9, "axes.labelsize": 9,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8}


def family_colour(family: str) -> str:
    """The colour of ``family`` (grey for a family the report does not know yet)."""
    return FAMILY_COLOURS.get(family, "#888888")


def figure_name(*parts: object) -> str:
    """A file name for a figure that is safe whatever the dataset / model names contain."""
    text = "-".join(str(p) for p in parts)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "figure"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:8]}.png"


def _save(fig: plt.Figure, path: str | Path) -> None:
    write_atomic(path, lambda p: fig.savefig(p, format="png", bbox_inches="tight"))
    plt.close(fig)


@dataclass
class ScatterPanel:
    """One scatter panel: points (or ``None`` when the file is missing) in a fixed window."""

    title: str
    points: np.ndarray | None
    colour: str
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    note: str = ""
    centres: np.ndarray | None = None
    point_size: float = 1.5
    count_outside: bool = True  # note the share of points outside the window (off for zoomed panels)


def scatter_grid(path: str | Path, panels: list[list[ScatterPanel | None]], row_labels: list[str]) -> None:
    """A rows × columns grid of 2D scatter panels with equal aspect; ``None`` leaves a cell blank."""
    nrows, ncols = len(panels), max(len(r) for r in panels)
    with sns.axes_style("white"), plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.15 * ncols, 2.3 * nrows), squeeze=False)
        for i, row in enumerate(panels):
            for j in range(ncols):
                ax = axes[i, j]
                panel = row[j] if j < len(row) else None
                if panel is None:
                    ax.axis("off")
                    continue
                if panel.centres is not None:
                    ax.scatter(panel.centres[:, 0], panel.centres[:, 1], marker="+", s=25, c="#bbbbbb",
                               linewidths=0.8, zorder=1)
                note = panel.note
                if panel.points is None:
                    note = note or "samples missing"
                else:
                    x = np.asarray(panel.points, dtype=float)
                    ax.scatter(x[:, 0], x[:, 1], s=panel.point_size, c=panel.colour, linewidths=0, alpha=0.8,
                               rasterized=True, zorder=2)
                    (x0, x1), (y0, y1) = panel.xlim, panel.ylim
                    outside = ~((x[:, 0] >= x0) & (x[:, 0] <= x1) & (x[:, 1] >= y0) & (x[:, 1] <= y1))
                    if panel.count_outside and outside.any() and not note:
                        note = f"{outside.mean():.0%} outside view"
                if note:
                    ax.text(0.5, 0.03, note, transform=ax.transAxes, ha="center", va="bottom", fontsize=7,
                            color="#aa0000")
                ax.set_xlim(*panel.xlim)
                ax.set_ylim(*panel.ylim)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                title = "\n".join(textwrap.fill(line, 30) for line in panel.title.split("\n"))
                ax.set_title(title, color=panel.colour if panel.points is not None else "#777777")
                for spine in ax.spines.values():
                    spine.set_color("#cccccc")
            axes[i, 0].set_ylabel(row_labels[i])
            axes[i, 0].yaxis.label.set_visible(True)
        fig.tight_layout()
        _save(fig, path)


def style_for(frame: pd.DataFrame) -> dict[str, dict]:
    """Colour by family, marker and line style by the model's rank within its family (first-seen order)."""
    styles: dict[str, dict] = {}
    rank: dict[str, int] = {}
    for model, family in frame[["model", "family"]].drop_duplicates().itertuples(index=False):
        k = rank.get(family, 0)
        rank[family] = k + 1
        styles[model] = {"color": family_colour(family), "marker": MARKERS[k % len(MARKERS)],
                         "linestyle": LINESTYLES[k % len(LINESTYLES)]}
    return styles


def tick_label(value: float) -> str:
    """Compact plain-text tick label: 3, 100, 1000, 25.7k, 1.26M (the unit whose 3 digits need no exponent:
    999,999 is 1M, not 1e+03k)."""
    if value >= 1e4:
        for scale, unit in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
            digits = f"{value / scale:.3g}"
            if "e" not in digits:
                return digits + unit
    return f"{value:g}"


def spread_ticks(values: list[float], min_ratio: float = 1.25) -> list[float]:
    """Sorted values, dropping any within ``min_ratio`` of the previous kept one (labels would overlap)."""
    kept: list[float] = []
    for v in sorted(values):
        if not kept or v / kept[-1] >= min_ratio:
            kept.append(v)
    return kept


def metric_lines(path: str | Path, data: pd.DataFrame, x: str, xlabel: str, ylabel: str, log_x: bool = True,
                 share_y: bool = True) -> None:
    """Mean with 95% interval error bars against ``x``, one line per ``line`` label, one panel per ``panel``.

    ``data`` columns: panel, line, model, family, ``x``, mean, lo, hi (lo/hi NaN when there is one seed).
    """
    panels = list(dict.fromkeys(data["panel"]))
    styles = style_for(data)
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    with sns.axes_style("whitegrid"), plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, sharey=share_y)
        for ax in axes.flat[len(panels):]:
            ax.axis("off")
        for ax, panel in zip(axes.flat, panels):
            sub = data[data["panel"] == panel]
            for line, rows in sub.groupby("line", sort=False):
                rows = rows.sort_values(x)
                style = styles[rows["model"].iloc[0]]
                err = np.vstack([rows["mean"] - rows["lo"], rows["hi"] - rows["mean"]])
                ax.errorbar(rows[x], rows["mean"], yerr=np.nan_to_num(err, nan=0.0), label=line, capsize=3,
                            markersize=5, linewidth=1.4, **style)
            if log_x:
                ax.set_xscale("log")
                ticks = spread_ticks([float(t) for t in sub[x].unique() if t > 0])
                ax.set_xticks(ticks)
                ax.set_xticklabels([tick_label(t) for t in ticks])
                ax.minorticks_off()
            ax.set_title(panel)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        seen = dict(zip(labels, handles))
        for ax in axes.flat[1: len(panels)]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(lab, h)
        fig.legend(list(seen.values()), list(seen.keys()), loc="upper center", ncol=min(len(seen), 4),
                   bbox_to_anchor=(0.5, 1.0), frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 0.9 if nrows == 1 else 0.95))
        _save(fig, path)


def to_unit_interval(image: np.ndarray) -> np.ndarray:
    """Pixel values as floats in [0, 1]: uint8 (and other integer) images are divided by their type's maximum
    (the pipeline stores 0..255), float images are taken as already in [0, 1] and clipped."""
    x = np.asarray(image)
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(float) / float(np.iinfo(x.dtype).max)
    return np.clip(x.astype(float), 0.0, 1.0)


def _to_hwc(image: np.ndarray) -> np.ndarray:
    """C×H×W (or H×W) uint8 0..255 or floats in [0, 1] → H×W×3 floats in [0, 1] for imshow (grey repeated)."""
    x = to_unit_interval(image)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"an image must be C×H×W or H×W, got shape {x.shape}")
    if x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)
    return np.transpose(x[:3], (1, 2, 0))


def _mosaic(images: list[np.ndarray], pad: int = 1) -> np.ndarray:
    """Images side by side with a white gap of ``pad`` pixels, as uint8 H×W×3 (imshow draws uint8 exactly)."""
    tiles = [np.round(_to_hwc(im) * 255).astype(np.uint8) for im in images]
    h = max(t.shape[0] for t in tiles)
    out = []
    for t in tiles:
        tile = np.full((h, t.shape[1] + pad, 3), 255, dtype=np.uint8)
        tile[: t.shape[0], : t.shape[1]] = t
        out.append(tile)
    return np.concatenate(out, axis=1)


def image_grid(path: str | Path, rows: list[list[np.ndarray]], row_labels: list[str], title: str = "",
               colour: str = "#333333") -> None:
    """A gallery: one row of images per label (C×H×W, uint8 0..255 or floats in [0, 1]); empty rows say 'no samples'."""
    width = max((len(r) for r in rows), default=1)
    with sns.axes_style("white"), plt.rc_context(_RC):
        fig, axes = plt.subplots(len(rows), 1, figsize=(min(0.62 * width + 1.2, 12), 0.68 * len(rows) + 0.5),
                                 squeeze=False)
        for ax, images, label in zip(axes[:, 0], rows, row_labels):
            if images:
                ax.imshow(_mosaic(images), interpolation="nearest", aspect="equal")
            else:
                ax.text(0.5, 0.5, "no samples", ha="center", va="center", fontsize=7, color="#aa0000",
                        transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_ylabel(label, rotation=0, ha="right", va="center")
            for spine in ax.spines.values():
                spine.set_visible(False)
        if title:
            fig.suptitle(title, color=colour, fontsize=9)
        fig.tight_layout()
        _save(fig, path)


def _minor_log_label(value: float, _: object) -> str:
    """Label the 2 and 5 minor ticks of a log axis (plain text: figures never parse mathtext)."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** np.floor(np.log10(value))
    return f"{value:g}" if np.isclose(mantissa, 2) or np.isclose(mantissa, 5) else ""


def loss_curves(path: str | Path, data: pd.DataFrame, ylabel: str) -> None:
    """Training loss against iteration: mean over seeds with a ± 1 sd band (when > 1 seed), log y.

    ``data`` columns: panel, line, model, family, step, mean, sd; optionally linestyle (a line's own style, e.g.
    one per auxiliary input in E4, instead of the model's rank within its family).
    """
    panels = list(dict.fromkeys(data["panel"]))
    styles = style_for(data)
    with sns.axes_style("whitegrid"), plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.0), squeeze=False)
        for ax, panel in zip(axes[0], panels):
            for line, rows in data[data["panel"] == panel].groupby("line", sort=False):
                rows = rows.sort_values("step")
                style = styles[rows["model"].iloc[0]]
                linestyle = rows["linestyle"].iloc[0] if "linestyle" in rows else style["linestyle"]
                ax.plot(rows["step"], rows["mean"], label=line, color=style["color"], linestyle=linestyle,
                        marker=style["marker"], markersize=3, linewidth=1.4)
                if rows["sd"].notna().any():
                    # ± 1 sd over seeds; floored at a tenth of the mean so that the log axis stays readable.
                    lo = np.maximum(rows["mean"] - rows["sd"], rows["mean"] / 10)
                    ax.fill_between(rows["step"], lo, rows["mean"] + rows["sd"], color=style["color"], alpha=0.15,
                                    linewidth=0)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # no mathtext (parse_math off)
            low, high = ax.get_ylim()
            # within one decade there may be no 1, 2 or 5 tick: label every minor tick then
            narrow = low > 0 and high / low < 10
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:.3g}") if narrow
                                         else FuncFormatter(_minor_log_label))
            ax.set_title(panel)
            ax.set_xlabel("training iteration (optimiser steps)")
            ax.set_ylabel(ylabel)
            ax.legend(frameon=False)
        fig.tight_layout()
        _save(fig, path)

