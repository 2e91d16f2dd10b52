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


def metric_lines(path: str | Path, data: pd.DataFrame, x: str, xlabel: str, ylabel: str, log_x: bool = True) -> None:
    """Mean with 95% interval error bars against ``x``, one line per ``line`` label, one panel per ``panel``.

    ``data`` columns: panel, line, model, family, ``x``, mean, lo, hi (lo/hi NaN when there is one seed).
    """
    panels = list(dict.fromkeys(data["panel"]))
    styles = style_for(data)
    ncols = min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    with sns.axes_style("whitegrid"), plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, sharey=True)
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
                ticks = sorted(sub[x].unique())
                ax.set_xticks(ticks)
                ax.set_xticklabels([f"{t:g}" for t in ticks])
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
