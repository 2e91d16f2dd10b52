"""The suite's HTML report (SPEC §5): ``reports/<suite>/index.html`` with its PNG figures beside it.

One section per experiment family (E1–E8). A family's section is built by the function registered for it
in :data:`SECTIONS` (``@section("e2")``) and drawn by the macro of the same id in
``templates/index.html.j2``; adding a family means adding those two things. Families the suite did not
configure are listed as "not run".

No torch import here: the report job starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from rpd.analysis import elbo_methods_markdown, elbo_table, fewest_steps_within
from rpd.config import MODALITY_KEYS, diffusion_runs, experiment_pairs, modality, prior_runs
from rpd.data.grid import assign_regions, grid_centres
from rpd.data.specs import is_image_dataset
from rpd.families import FAMILIES
from rpd.io import load_npz, write_atomic
from rpd.layout import sample_file
from rpd.logs import say
from rpd.report import figures as F
from rpd.report import verdicts as V
from rpd.report.verdicts import t_interval

TEMPLATES = Path(__file__).resolve().parent / "templates"
SIZE_ORDER = ("std", "small")
# Display order of families in tables and figures (priors first, RPD last).
FAMILY_ORDER = ("vqvae", "betavae", "ddpm", "diffusevae1", "diffusevae2", "rpd")
BASELINE_FAMILIES = tuple(f for f in FAMILIES if f != "rpd")
#: The config keys that matter for each prior kind / model family (schema defaults fill in the others).
SETTINGS_SHOWN = {
    "vqvae": ("codes", "latent_dim", "commitment", "sigma_floor"),
    "betavae": ("latent_dim", "beta", "sigma_floor"),
    "ddpm": ("target",),
    "diffusevae1": ("prior", "prior_size", "target"),
    "diffusevae2": ("prior", "prior_size", "target"),
    "rpd": ("prior", "prior_size", "target", "aux"),
}
TRAINING_KEYS = ("steps", "batch_size", "lr", "ema_decay", "warmup", "grad_clip")
#: Display names and units of the metrics (a metric not listed shows under its own name).
METRIC_NAMES = V.METRIC_NAMES
METRIC_UNITS = {"rw1wd": "local-shape units", "mass_error": "share of samples", "kid": "unitless",
                "cw1wd": "pixel units, [0, 1] scale", "j2": "nats", "train_loss_mean": "MSE of the target"}
#: CSS class of a verdict status (table rows, verdict boxes).
STATUS_CLASS = {V.SUPPORTED: "good", V.NOT_SUPPORTED: "bad", V.INCONCLUSIVE: "muted", V.NOT_RUN: "muted"}
NUMBER_COLUMNS = ("seed", "steps", "value", "n", "parameters", "train_seconds", "sample_seconds", "eval_seconds")


@dataclass(frozen=True)
class ExperimentFamily:
    title: str
    claim: str
    mirrors: str
    what: str


#: The experiment families of SPEC §5, in report order.
EXPERIMENT_FAMILIES: dict[str, ExperimentFamily] = {
    "e1": ExperimentFamily("Fine structure", "C1", "paper Fig. 2",
                           "sample scatter grid real / prior / DDPM / DiffuseVAE / RPD, RW-1WD and 1WD table"),
    "e2": ExperimentFamily("Few steps", "C2", "paper Table 4", "KID and 1WD against K per model"),
    "e3": ExperimentFamily("Network size", "C3", "RPD_s vs RPD", "metric against parameter count"),
    "e4": ExperimentFamily("Auxiliary variable", "C4", "paper Fig. 7",
                           "loss and metric against iteration for ω, μ̂ and none"),
    "e5": ExperimentFamily("Prior capacity", "C5", "paper Fig. 16", "β-VAE vs β-VAE_s few-step samples"),
    "e6": ExperimentFamily("Conditional FMNIST", "C2", "paper Table 4", "class-wise sample grid, CW-1WD, KID"),
    "e7": ExperimentFamily("Scale sweep", "C1", "beyond the paper",
                           "RW-1WD against scale: where RPD's advantage appears"),
    "e8": ExperimentFamily("ELBO consistency", "C6", "paper Prop. 1", "bits per dimension from the bound"),
}


# --------------------------------------------------------------------------------------------------------
# Small data structures handed to the template


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    row_classes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.numeric = self.numeric or [False] * len(self.columns)
        self.row_classes = self.row_classes or [""] * len(self.rows)


@dataclass(frozen=True)
class Link:
    """A table cell that links within the page (``href`` like ``#e1``)."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Figure:
    src: str  # relative to the HTML file
    alt: str
    caption: str


@dataclass
class Section:
    id: str
    title: str
    claim: str
    mirrors: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------
# Statistics and formatting


def summarise(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` + metric: mean, sd, seeds, and the 95% t-interval (lo, hi) over seeds."""
    if "extractor" in frame and "extractor" not in keys:
        frame = frame.assign(extractor=frame["extractor"].fillna("").astype(str))
        if frame["extractor"].str.len().gt(0).any():
            keys = [*keys, "extractor"]
    cols = ["mean", "sd", "seeds", "lo", "hi"]
    if frame.empty:
        return pd.DataFrame(columns=keys + ["metric"] + cols)
    out = []
    for key, rows in frame.groupby(keys + ["metric"], sort=False):
        out.append(dict(zip(keys + ["metric"], key), **dict(zip(cols, t_interval(rows["value"])))))
    return pd.DataFrame(out)


def paired_differences(frame: pd.DataFrame, challengers: list[str], baselines: list[str], metric: str = "rw1wd",
                       keys: tuple[str, ...] = ("dataset", "size", "sampler", "steps")) -> pd.DataFrame:
    """Seed-paired differences challenger − baseline of ``metric`` at equal ``keys``: mean, 95% interval, wins."""
    m = frame[frame["metric"] == metric]
    rows = []
    for challenger in challengers:
        for baseline in baselines:
            a = m[m["model"] == challenger][list(keys) + ["seed", "value"]]
            b = m[m["model"] == baseline][list(keys) + ["seed", "value"]]
            both = a.merge(b, on=list(keys) + ["seed"], suffixes=("_c", "_b"))
            for key, g in both.groupby(list(keys), sort=False):
                diff = g["value_c"] - g["value_b"]
                mean, sd, n, lo, hi = t_interval(diff)
                rows.append({**dict(zip(keys, key)), "challenger": challenger, "baseline": baseline, "seeds": n,
                             "mean": mean, "sd": sd, "lo": lo, "hi": hi, "wins": int((diff < 0).sum())})
    columns = list(keys) + ["challenger", "baseline", "seeds", "mean", "sd", "lo", "hi", "wins"]
    return pd.DataFrame(rows, columns=columns)


def fmt(x: float, digits: int = 4) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def fmt_mean_sd(mean: float, sd: float) -> str:
    if not np.isfinite(mean):
        return "—"
    return fmt(mean) if not np.isfinite(sd) else f"{fmt(mean)} ± {fmt(sd, 2)}"


def fmt_interval(lo: float, hi: float) -> str:
    return "— (1 seed)" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{fmt(lo, 3)}, {fmt(hi, 3)}]"


def fmt_seconds(s: float) -> str:
    if not np.isfinite(s):
        return "—"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def verdict(lo: float, hi: float, better: str, worse: str) -> tuple[str, str]:
    """Wording and CSS class of a paired interval (negative difference = challenger better; rule of verdicts.py)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval (< 2 seeds)", "muted"
    status = V.sign_status(lo, hi)
    text = {V.SUPPORTED: better, V.NOT_SUPPORTED: worse}.get(status, "inconclusive (interval contains 0)")
    return text, STATUS_CLASS[status]


# --------------------------------------------------------------------------------------------------------
# What the suite ran


@dataclass
class Context:
    """Everything a section builder needs: config, tidy metrics, where results and figures live."""

    config: dict
    metrics: pd.DataFrame
    results_dir: Path
    out_dir: Path
    #: Rows derived from training logs (metric ``train_loss_mean``, sampler ``train``), for E4 and claim C4.
    train_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Training-loss curves of the diffusion runs (dataset, model, family, size, seed, step, loss).
    losses: pd.DataFrame = field(default_factory=pd.DataFrame)

    def is_image(self, dataset: str) -> bool:
        """Image data (anything but the 2D grids)."""
        return is_image_dataset(self.config["datasets"].get(dataset, {"kind": "grid"}))

    def metric_label(self, metric: str, datasets: Iterable[str] = ()) -> str:
        """Metric name with its unit, e.g. 'RW-1WD (local-shape units)'."""
        images = [self.is_image(d) for d in datasets]
        unit = METRIC_UNITS.get(metric)
        if metric == "1wd":
            unit = ("pixel units, [0, 1] scale" if all(images) else "data units" if not any(images)
                    else "data or pixel units")
        elif metric.startswith("elbo"):
            unit = ("bits/dim" if images and all(images) else "nats" if images and not any(images)
                    else "nats or bits/dim")
        name = METRIC_NAMES.get(metric, metric)
        return f"{name} ({unit})" if unit else name

    def run_dirs(self) -> list[Path]:
        """Every run folder of the suite (priors and diffusion models), from the config."""
        runs = prior_runs(self.config) + diffusion_runs(self.config)
        return [self.results_dir / r.folder for r in runs]

    @property
    def seed(self) -> int:
        """The seed shown in sample figures: 0 when the suite has it, else its smallest."""
        seeds = list(self.config.get("seeds", [0]))
        return 0 if 0 in seeds else min(seeds)

    def family(self, name: str) -> str:
        if name in self.config.get("models", {}):
            return self.config["models"][name]["family"]
        if name in self.config.get("priors", {}):
            return self.config["priors"][name]["kind"]
        known = self.metrics.loc[self.metrics["model"] == name, "family"]
        return str(known.iloc[0]) if len(known) else "unknown"

    def ordered_models(self, names: Iterable[str]) -> list[str]:
        """By family (priors, DDPM, DiffuseVAE 1/2, RPD), then config order."""
        names = list(dict.fromkeys(names))
        order = {f: i for i, f in enumerate(FAMILY_ORDER)}
        return sorted(names, key=lambda n: (order.get(self.family(n), len(order)), names.index(n)))

    def pairs(self, exp: dict) -> set[tuple[str, int]]:
        return experiment_pairs(self.config, exp)

    def prior_of(self, model: str) -> tuple[str, str] | None:
        """(prior name, prior size) of a model, or None for a family without prior."""
        m = self.config["models"].get(model, {})
        if "prior" not in m:
            return None
        return m["prior"], m.get("prior_size", "std")

    def experiment_rows(self, exp: dict) -> pd.DataFrame:
        """Diffusion-model rows of one experiment: its datasets, models, sizes, seeds and (sampler, K) pairs."""
        return V.experiment_frame(self.config, self.metrics, exp)

    def prior_rows(self, exp: dict) -> pd.DataFrame:
        """Rows of the priors the experiment's models sit on (sampler ``prior``, K = 0)."""
        wanted = {p for name in exp["models"] if (p := self.prior_of(name)) is not None}
        m = self.metrics
        keep = (m["dataset"].isin(exp["datasets"]) & (m["sampler"] == "prior")
                & pd.Series([(n, s) in wanted for n, s in zip(m["model"], m["size"])], index=m.index, dtype=bool))
        return m[keep]

    def run_dir(self, dataset: str, name: str, size: str, seed: int) -> Path:
        return self.results_dir / dataset / f"{name}-{size}" / f"seed{seed}"

    def load_points(self, path: Path) -> np.ndarray | None:
        try:
            return load_npz(path)["x"]
        except (OSError, KeyError, ValueError) as err:
            say(f"report: cannot read {path}: {err}")
            return None


def load_metrics(path: str | Path) -> pd.DataFrame:
    """metrics.csv with names kept as strings (a model called ``nan`` stays ``nan``) and numbers as numbers."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in NUMBER_COLUMNS:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    for col in ("seed", "steps"):
        if col in frame:
            frame[col] = frame[col].astype(int)
    return frame


# --------------------------------------------------------------------------------------------------------
# Section registry

SectionBuilder = Callable[[Context, str, dict], Section]
SECTIONS: dict[str, SectionBuilder] = {}


def section(family_id: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register the builder of one experiment family's section (its template macro has the same id)."""
    if family_id not in EXPERIMENT_FAMILIES:
        raise ValueError(f"unknown experiment family {family_id!r}; allowed: {list(EXPERIMENT_FAMILIES)}")

    def register(builder: SectionBuilder) -> SectionBuilder:
        SECTIONS[family_id] = builder
        return builder

    return register


def new_section(family_id: str) -> Section:
    fam = EXPERIMENT_FAMILIES[family_id]
    return Section(family_id, fam.title, fam.claim, fam.mirrors)


def _sizes(names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda s: (SIZE_ORDER.index(s) if s in SIZE_ORDER else len(SIZE_ORDER), s))


def metric_table(ctx: Context, frame: pd.DataFrame, caption: str, extra_keys: list[str] | None = None,
                 sort: list[str] | None = None) -> Table:
    """Mean ± sd over seeds of RW-1WD, 1WD and mass error per (dataset, extra keys, model, size, sampler, K).

    ``sort`` names the keys in sorting priority (model and size sort in report order, not alphabetically).
    """
    extra_keys = extra_keys or []
    keys = ["dataset", *extra_keys, "model", "family", "size", "sampler", "steps"]
    sort = sort or ["dataset", *extra_keys, "model", "size", "sampler", "steps"]
    cols = ["dataset", *extra_keys, "model", "family", "size", "sampler", "K", "seeds", "RW-1WD mean ± sd",
            "RW-1WD 95% interval", "1WD mean ± sd", "mass error mean ± sd"]
    numeric = [False] * (len(cols) - 6) + [True] * 6
    groups: dict[tuple, dict[str, dict]] = {}
    for r in summarise(frame, keys).to_dict("records"):
        groups.setdefault(tuple(r[k] for k in keys), {})[r["metric"]] = r
    records = [dict(zip(keys, k)) for k in groups]
    models = ctx.ordered_models(r["model"] for r in records)
    sizes = _sizes(r["size"] for r in records)
    rank = {"model": models.index, "size": sizes.index}
    records.sort(key=lambda r: tuple(rank[k](r[k]) if k in rank else r[k] for k in sort))
    rows = []
    for r in records:
        per = groups[tuple(r[k] for k in keys)]

        def get(metric: str, stat: str) -> float:
            return per[metric][stat] if metric in per else np.nan

        seeds = max(int(p["seeds"]) for p in per.values())
        rows.append([str(r["dataset"]), *(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k]) for k in extra_keys),
                     r["model"], F.FAMILY_LABELS.get(r["family"], r["family"]), r["size"], r["sampler"],
                     "—" if r["sampler"] == "prior" else str(r["steps"]), str(seeds),
                     fmt_mean_sd(get("rw1wd", "mean"), get("rw1wd", "sd")),
                     fmt_interval(get("rw1wd", "lo"), get("rw1wd", "hi")),
                     fmt_mean_sd(get("1wd", "mean"), get("1wd", "sd")),
                     fmt_mean_sd(get("mass_error", "mean"), get("mass_error", "sd"))])
    return Table(caption, cols, rows, numeric)


def paired_table(ctx: Context, frame: pd.DataFrame, caption: str, baseline_families: tuple[str, ...] = ("ddpm",),
                 extra: dict[str, Callable[[dict], str]] | None = None, metric: str = "rw1wd") -> Table:
    """Seed-paired differences of ``metric``, every RPD-family model against every baseline-family model."""
    models = ctx.ordered_models(frame["model"].unique())
    challengers = [m for m in models if ctx.family(m) == "rpd"]
    baselines = [m for m in models if ctx.family(m) in baseline_families]
    d = paired_differences(frame, challengers, baselines, metric)
    extra = extra or {}
    cols = ["dataset", *extra, "RPD model", "baseline", "size", "sampler", "K", "paired seeds",
            f"mean Δ {METRIC_NAMES.get(metric, metric)} (RPD − baseline)", "95% t-interval", "RPD wins", "verdict"]
    rows, classes = [], []
    sizes = _sizes(d["size"]) if len(d) else []
    d = d.assign(_c=[challengers.index(c) for c in d["challenger"]], _b=[baselines.index(b) for b in d["baseline"]],
                 _s=[sizes.index(s) for s in d["size"]])
    for r in d.sort_values(["dataset", "_c", "_b", "_s", "sampler", "steps"]).to_dict("records"):
        text, cls = verdict(r["lo"], r["hi"], "RPD better", "baseline better")
        rows.append([r["dataset"], *[f(r) for f in extra.values()], r["challenger"], r["baseline"], r["size"],
                     r["sampler"], str(r["steps"]), str(r["seeds"]), fmt(r["mean"]), fmt_interval(r["lo"], r["hi"]),
                     f"{r['wins']}/{r['seeds']}", text])
        classes.append(cls)
    numeric = [False] * (len(cols) - 6) + [True] * 5 + [False]
    return Table(caption, cols, rows, numeric, classes)


# --------------------------------------------------------------------------------------------------------
# E1 fine structure


def _scatter_figure(ctx: Context, fid: str, exp: dict, dataset: str, rows: pd.DataFrame) -> Figure:
    ds = ctx.config["datasets"][dataset]
    grid, scale = int(ds.get("grid", 4)), float(ds["scale"])
    centres = grid_centres(grid)
    half = (grid - 1) / 2 + 0.5
    full = ((-half, half), (-half, half))
    seed = ctx.seed
    reference = ctx.load_points(ctx.results_dir / dataset / "reference.npz")
    # The zoomed cell: the one holding the most reference points (cell 0 without a reference set).
    cell = 0
    if reference is not None:
        cell = int(np.bincount(assign_regions(reference, centres), minlength=len(centres)).argmax())
    c = centres[cell]
    zoom = ((c[0] - 0.65 * scale, c[0] + 0.65 * scale), (c[1] - 0.65 * scale, c[1] + 0.65 * scale))
    models = ctx.ordered_models(exp["models"])
    rpd_models = [m for m in models if ctx.family(m) == "rpd"]
    prior_source = (rpd_models or [m for m in models if ctx.prior_of(m)] or [None])[0]
    prior = ctx.prior_of(prior_source) if prior_source else None
    sizes = _sizes(exp["sizes"])

    def columns(size: str, window, point_size: float) -> list[F.ScatterPanel]:
        out = [F.ScatterPanel("real (reference)", reference, F.family_colour("reference"), *window,
                              centres=centres, point_size=point_size)]
        if prior is not None:
            pname, psize = prior
            pts = ctx.load_points(sample_file(ctx.run_dir(dataset, pname, psize, seed), "prior", 0))
            out.append(F.ScatterPanel(f"prior: {pname}-{psize}", pts, F.family_colour(ctx.family(pname)), *window,
                                      centres=centres, point_size=point_size))
        for m in models:
            pair = V.headline_pair(rows[(rows["model"] == m) & (rows["size"] == size)])
            fam = ctx.family(m)
            label = m if m == fam else f"{m} [{F.SHORT_LABELS.get(fam, fam)}]"
            if pair is None:
                out.append(F.ScatterPanel(label, None, F.family_colour(fam), *window, note="not evaluated"))
                continue
            pts = ctx.load_points(sample_file(ctx.run_dir(dataset, m, size, seed), *pair))
            out.append(F.ScatterPanel(f"{label}\n{pair[0]} sampler, K={pair[1]}", pts, F.family_colour(fam),
                                      *window, centres=centres, point_size=point_size))
        return out

    panels = [columns(size, full, 1.5) for size in sizes]
    labels = [f"size {size}" for size in sizes]
    zoomed = columns(sizes[0], zoom, 4.0)
    for panel in zoomed:
        panel.count_outside = False
    panels.append(zoomed)
    labels.append(f"size {sizes[0]}, zoom on cell {cell}")
    name = F.figure_name(fid, "scatter", dataset)
    F.scatter_grid(ctx.out_dir / name, panels, labels)
    prior_text = f"the prior {prior[0]}-{prior[1]} of {prior_source}" if prior else "no prior"
    return Figure(
        name, f"Samples on {dataset}",
        f"{dataset} (grid {grid}×{grid}, scale {scale:g}): seed {seed}, "
        f"N = {len(reference) if reference is not None else '?'} "
        f"points per panel. Columns: the held-out reference set, {prior_text}, then each model at its "
        f"best-available sampler (DDPM sampler at the largest K, else DDIM at the largest K). Rows: network "
        f"size; the last row zooms on grid cell {cell} (centre ({c[0]:g}, {c[1]:g}), window ±{0.65 * scale:.3g}) "
        f"so the local shape is visible. Grey + marks the grid centres; colour = model family (the same in every "
        f"figure); a red note gives the share of points outside the full view, or says the samples are missing.")


@section("e1")
def build_e1(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    priors = ctx.prior_rows(exp)
    if rows.empty and priors.empty:
        sec.notes.append("metrics.csv holds no rows for this experiment's runs.")
        return sec
    for dataset in exp["datasets"]:
        sec.figures.append(_scatter_figure(ctx, fid, exp, dataset, rows[rows["dataset"] == dataset]))
    sec.tables.append(metric_table(
        ctx, pd.concat([priors, rows]),
        "RW-1WD (local-shape units), 1WD (data units) and region mass error over seeds; the 95% interval is the "
        "t-interval of the mean. Priors are sampled directly (no denoising step)."))
    sec.tables.append(paired_table(
        ctx, rows,
        "Seed-paired RW-1WD difference, RPD-family model minus the DDPM-family model, at equal dataset, size, "
        "sampler, K and seed. Negative favours RPD; 'RPD wins' counts seeds with a lower RPD RW-1WD."))
    return sec


# --------------------------------------------------------------------------------------------------------
# E7 scale sweep


@section("e7")
def build_e7(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    if rows.empty:
        sec.notes.append("metrics.csv holds no rows for this experiment's runs.")
        return sec
    datasets = ctx.config["datasets"]
    rows = rows.assign(scale=[float(datasets[d]["scale"]) for d in rows["dataset"]],
                       layout=[f"{datasets[d]['shape']}, G={datasets[d].get('grid', 4)}" for d in rows["dataset"]])
    many_layouts = rows["layout"].nunique() > 1
    many_sizes = rows["size"].nunique() > 1
    s = summarise(rows[rows["metric"] == "rw1wd"], ["dataset", "scale", "layout", "model", "family", "size",
                                                    "sampler", "steps"])
    models = ctx.ordered_models(s["model"].unique())
    s = s.assign(_m=[models.index(m) for m in s["model"]]).sort_values(["_m", "size", "sampler", "steps", "scale"])
    s["panel"] = [f"{a} sampler, K={k}" + (f", size {z}" if many_sizes else "")
                  for a, k, z in zip(s["sampler"], s["steps"], s["size"])]
    s["line"] = [f"{m} ({F.FAMILY_LABELS.get(f, f)})" + (f", {lay}" if many_layouts else "")
                 for m, f, lay in zip(s["model"], s["family"], s["layout"])]
    name = F.figure_name(fid, "rw1wd-vs-scale")
    F.metric_lines(ctx.out_dir / name, s, "scale", F.SCALE_LABEL, F.RW1WD_LABEL)
    seeds = sorted(rows["seed"].unique())
    sec.figures.append(Figure(
        name, "RW-1WD against scale",
        f"RW-1WD (local-shape units, so comparable across scales) against the dataset's scale, mean over "
        f"{len(seeds)} seed(s) with 95% t-interval error bars (none with one seed); one line per model, one "
        f"panel per sampler and K. Colour = model family."))
    sec.tables.append(metric_table(ctx, rows, "RW-1WD, 1WD and mass error per scale over seeds.", ["scale"],
                                   sort=["sampler", "steps", "size", "model", "scale", "dataset"]))
    sec.tables.append(paired_table(
        ctx, rows, "Seed-paired RW-1WD difference RPD − DDPM per scale (negative favours RPD).",
        extra={"scale": lambda r: f"{float(datasets[r['dataset']]['scale']):g}"}))
    return sec


# --------------------------------------------------------------------------------------------------------
# Generic pieces for the families that work over any metric (2D points or images)

#: Metrics shown as figures, in this order (mass error stays in tables: it is a diagnostic of RW-1WD).
FIGURE_METRICS = ("kid", "cw1wd", "rw1wd", "1wd")


def figure_metrics(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric, extractor) pairs present in ``frame`` worth a figure, in :data:`FIGURE_METRICS` order."""
    ext = frame["extractor"] if "extractor" in frame else pd.Series("", index=frame.index)
    present = list(dict.fromkeys(zip(frame["metric"], ext)))
    return sorted([p for p in present if p[0] in FIGURE_METRICS], key=lambda p: (FIGURE_METRICS.index(p[0]), p[1]))


def _only(frame: pd.DataFrame, metric: str, extractor: str) -> pd.DataFrame:
    rows = frame[frame["metric"] == metric]
    if extractor and "extractor" in rows:
        rows = rows[rows["extractor"] == extractor]
    return rows


def _extractor_note(extractor: str) -> str:
    return f" [KID features: {extractor}]" if extractor else ""


TABLE_METRIC_ORDER = ("rw1wd", "kid", "cw1wd", "1wd", "mass_error", "train_loss_mean", "elbo", "j2")


def wide_table(ctx: Context, frame: pd.DataFrame, caption: str, keys: list[str] | None = None) -> Table:
    """Mean ± sd and 95% interval over seeds of every metric in ``frame``, one row per setting."""
    keys = keys or ["dataset", "model", "family", "size", "sampler", "steps"]
    if frame.empty:
        return Table(caption, keys, [])
    metrics = sorted(dict.fromkeys(frame["metric"]), key=lambda m: (TABLE_METRIC_ORDER.index(m)
                                                                    if m in TABLE_METRIC_ORDER else 99, m))
    s = summarise(frame, keys)
    has_ext = "extractor" in s and s["extractor"].astype(str).str.len().gt(0).any()
    metric_keys = list(dict.fromkeys(zip(s["metric"], s["extractor"] if has_ext else [""] * len(s))))
    metric_keys.sort(key=lambda p: (metrics.index(p[0]), p[1]))
    groups: dict[tuple, dict] = {}
    for r in s.to_dict("records"):
        groups.setdefault(tuple(r[k] for k in keys), {})[(r["metric"], r.get("extractor", "") if has_ext else "")] = r
    models = ctx.ordered_models(k[keys.index("model")] for k in groups) if "model" in keys else []
    def order(k: tuple) -> tuple:
        return tuple(models.index(v) if key == "model" else v for key, v in zip(keys, k))
    cols = [c if c != "steps" else "K" for c in keys] + ["seeds"]
    numeric = [c in ("steps", "parameters", "scale") for c in keys] + [True]
    for metric, ext in metric_keys:
        label = METRIC_NAMES.get(metric, metric) + (f" [{ext}]" if ext else "")
        cols += [f"{label} mean ± sd", f"{label} 95% interval"]
        numeric += [True, True]
    rows = []
    for k in sorted(groups, key=order):
        per = groups[k]
        cells = [("—" if key == "steps" and v == 0 else f"{v:g}" if isinstance(v, float) else str(v))
                 for key, v in zip(keys, k)]
        cells = [F.FAMILY_LABELS.get(c, c) if key == "family" else c for key, c in zip(keys, cells)]
        cells.append(str(max(int(p["seeds"]) for p in per.values())))
        for mk in metric_keys:
            p = per.get(mk)
            cells += ([fmt_mean_sd(p["mean"], p["sd"]), fmt_interval(p["lo"], p["hi"])] if p else ["—", "—"])
        rows.append(cells)
    return Table(caption, cols, rows, numeric)


def outcome_table(caption: str, outcomes: list[V.Outcome]) -> Table:
    """Seed-paired tests (challenger − baseline) with their decision under the report's rule."""
    cols = ["challenger", "baseline", "metric", "setting", "paired seeds", "challenger mean", "baseline mean",
            "mean Δ", "95% t-interval", "challenger better", "decision"]
    rows, classes = [], []
    for o in outcomes:
        t = o.test
        setting = ", ".join(f"{'K' if k == 'steps' else k} {v}" for k, v in t.where.items())
        rows.append([t.challenger.label, t.baseline.label, METRIC_NAMES.get(t.metric, t.metric), setting,
                     str(o.seeds), fmt(o.challenger_mean), fmt(o.baseline_mean), fmt(o.mean),
                     fmt_interval(o.lo, o.hi), f"{o.wins}/{o.seeds}", f"{o.status}: {o.reason}"])
        classes.append(STATUS_CLASS[o.status])
    numeric = [False] * 4 + [True] * 6 + [False]
    return Table(caption, cols, rows, numeric, classes)



def steps_figures(ctx: Context, fid: str, rows: pd.DataFrame, what: str) -> list[Figure]:
    """Per metric: mean (95% interval) against K, one line per model (and size), one panel per dataset and sampler."""
    figures = []
    rows = rows[~rows["sampler"].isin(["prior", "train"])]
    many_datasets = rows["dataset"].nunique() > 1
    many_sizes = rows["size"].nunique() > 1
    for metric, ext in figure_metrics(rows):
        sub = _only(rows, metric, ext)
        s = summarise(sub.drop(columns=["extractor"], errors="ignore"),
                      ["dataset", "model", "family", "size", "sampler", "steps"])
        models = ctx.ordered_models(s["model"].unique())
        s = s.assign(_m=[models.index(m) for m in s["model"]]).sort_values(["_m", "size", "sampler", "steps"])
        s["panel"] = [(f"{d}, " if many_datasets else "") + f"{a} sampler" for d, a in zip(s["dataset"], s["sampler"])]
        s["line"] = [f"{m} ({F.FAMILY_LABELS.get(f, f)})" + (f", {z}" if many_sizes else "")
                     for m, f, z in zip(s["model"], s["family"], s["size"])]
        label = ctx.metric_label(metric, sub["dataset"].unique())
        name = F.figure_name(fid, metric, ext, "vs-K")
        F.metric_lines(ctx.out_dir / name, s, "steps", F.STEPS_LABEL, label, share_y=False)
        seeds = sorted(sub["seed"].unique())
        figures.append(Figure(
            name, f"{label} against K{_extractor_note(ext)}",
            f"{label}{_extractor_note(ext)} against the number of inference steps K ({what}); mean over "
            f"{len(seeds)} seed(s) with 95% t-interval error bars (none with one seed). Log x axis: K spans "
            f"decades. Colour = model family, the same in every figure."))
    return figures


def load_images(ctx: Context, path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Images (N×C×H×W) and labels (or None) of a sample file; None when missing or not images."""
    try:
        data = load_npz(path)
    except (OSError, ValueError) as err:
        say(f"report: cannot read {path}: {err}")
        return None
    x = data.get("x")
    if x is None or x.ndim != 4:
        return None
    return x, data.get("y")


GALLERY_COLUMNS = 8


def gallery_rows(x: np.ndarray, y: np.ndarray | None, classes: list | None) -> tuple[list[list[np.ndarray]], list[str]]:
    """Class rows (first samples of each class) when labels exist, else rows of the first samples."""
    if y is not None and classes:
        rows = [[x[i] for i in np.flatnonzero(y == c)[:GALLERY_COLUMNS]] for c in classes]
        return rows, [f"class {c}" for c in classes]
    n = min(len(x), 2 * GALLERY_COLUMNS)
    return [[x[i] for i in range(j, min(j + GALLERY_COLUMNS, n))] for j in range(0, n, GALLERY_COLUMNS)], \
        [f"samples {j + 1}–{min(j + GALLERY_COLUMNS, n)}" for j in range(0, n, GALLERY_COLUMNS)]


def image_gallery(ctx: Context, fid: str, dataset: str, model: str, size: str,
                  pairs: list[tuple[str, int]]) -> list[Figure]:
    """One image grid per (sampler, K) of a model: class rows for labelled data (seed ctx.seed)."""
    figures = []
    ref = load_images(ctx, ctx.results_dir / dataset / "reference.npz")
    classes = sorted(set(ref[1].tolist())) if ref is not None and ref[1] is not None else None
    fam = ctx.family(model)
    for sampler, k in pairs:
        loaded = load_images(ctx, sample_file(ctx.run_dir(dataset, model, size, ctx.seed), sampler, k))
        if loaded is None:
            continue
        x, y = loaded
        rows, labels = gallery_rows(x, y, classes)
        name = F.figure_name(fid, "gallery", dataset, model, size, sampler, k)
        what = "prior samples" if sampler == "prior" else f"{sampler} sampler, K = {k}"
        F.image_grid(ctx.out_dir / name, rows, labels, f"{model}-{size}: {what}", F.family_colour(fam))
        figures.append(Figure(
            name, f"Samples of {model}-{size}, {what}",
            f"{dataset}: samples of {model}-{size} ({F.FAMILY_LABELS.get(fam, fam)}), {what}, seed {ctx.seed}; "
            + ("one row per class, the first samples generated for it." if classes and y is not None
               else "the first samples in file order.")))
    return figures


def reference_gallery(ctx: Context, fid: str, dataset: str) -> list[Figure]:
    ref = load_images(ctx, ctx.results_dir / dataset / "reference.npz")
    if ref is None:
        return []
    x, y = ref
    classes = sorted(set(y.tolist())) if y is not None else None
    rows, labels = gallery_rows(x, y, classes)
    name = F.figure_name(fid, "gallery", dataset, "reference")
    F.image_grid(ctx.out_dir / name, rows, labels, "real (held-out reference)", F.family_colour("reference"))
    return [Figure(name, f"Reference images of {dataset}", f"{dataset}: held-out reference images"
                   + (", one row per class." if classes else "."))]


def points_by_steps(ctx: Context, fid: str, dataset: str, models: list[str], size: str, sampler: str,
                    ks: list[int]) -> Figure:
    """2D: a scatter grid, one row per model, one column per K, for one sampler (seed ctx.seed)."""
    ds = ctx.config["datasets"][dataset]
    grid = int(ds.get("grid", 4))
    centres = grid_centres(grid)
    half = (grid - 1) / 2 + 0.5
    window = ((-half, half), (-half, half))
    panels = []
    for m in models:
        fam = ctx.family(m)
        row = []
        for k in ks:
            pts = ctx.load_points(sample_file(ctx.run_dir(dataset, m, size, ctx.seed), sampler, k))
            row.append(F.ScatterPanel(f"{m}, K={k}", pts, F.family_colour(fam), *window, centres=centres))
        panels.append(row)
    name = F.figure_name(fid, "scatter-by-K", dataset, size, sampler)
    F.scatter_grid(ctx.out_dir / name, panels, [f"{m}-{size}" for m in models])
    return Figure(name, f"Samples on {dataset} against K ({sampler} sampler)",
                  f"{dataset}: samples of seed {ctx.seed}, {sampler} sampler; rows = models at size {size}, columns "
                  f"= K. Colour = model family; grey + marks the grid centres.")


def gallery(ctx: Context, fid: str, exp: dict, rows: pd.DataFrame, models: list[str], max_k: int = 4) -> list[Figure]:
    """Sample galleries of an experiment: per dataset, its models at several K (images or 2D points)."""
    figures: list[Figure] = []
    size = V.first_size(exp)
    for dataset in exp["datasets"]:
        sub = rows[(rows["dataset"] == dataset) & (rows["size"] == size)]
        sampler = V.few_step_sampler(sub)
        if sampler is None:
            continue
        ks = sorted(set(sub.loc[sub["sampler"] == sampler, "steps"].astype(int)))
        ks = ks if len(ks) <= max_k else [ks[0], ks[1], ks[len(ks) // 2], ks[-1]]
        if ctx.is_image(dataset):
            figures += reference_gallery(ctx, fid, dataset)
            for m in models:
                figures += image_gallery(ctx, fid, dataset, m, size, [(sampler, k) for k in ks])
        else:
            figures.append(points_by_steps(ctx, fid, dataset, models, size, sampler, ks))
    return figures


def no_rows(sec: Section) -> Section:
    sec.notes.append("metrics.csv holds no rows for this experiment's runs.")
    return sec


# --------------------------------------------------------------------------------------------------------
# E2 few steps


@section("e2")
def build_e2(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    if rows.empty:
        return no_rows(sec)
    models = ctx.ordered_models(exp["models"])
    sec.figures += steps_figures(ctx, fid, rows, "few-step sampling")
    sec.figures += gallery(ctx, fid, exp, rows, models)
    sec.tables.append(wide_table(ctx, rows, "Every metric per model, sampler and K over seeds (95% t-interval "
                                            "of the mean)."))
    for metric, ext in figure_metrics(rows):
        sub = _only(rows, metric, ext)
        sec.tables.append(paired_table(
            ctx, sub, f"Seed-paired {METRIC_NAMES.get(metric, metric)}{_extractor_note(ext)} difference RPD − "
                      "baseline (DDPM and DiffuseVAE) at equal dataset, size, sampler and K; negative favours RPD.",
            baseline_families=BASELINE_FAMILIES, metric=metric))
    sec.tables += fewest_steps_tables(ctx)
    return sec


def fewest_steps_tables(ctx: Context) -> list[Table]:
    """Per dataset of the suite with several K: the fewest K at which each (model, size, sampler) comes within
    10% of its own K = 1000 value (or its largest K), on the dataset's primary metric (rpd.analysis)."""
    m = ctx.metrics[~ctx.metrics["sampler"].isin(["prior", "bound", "train"])]
    tables = []
    for dataset in sorted(m["dataset"].unique()):
        d = m[m["dataset"] == dataset]
        metric = V.primary_metric(d, dataset)
        if metric is None or metric not in set(d["metric"]) or d["steps"].nunique() < 2:
            continue
        table = fewest_steps_within(d.drop(columns=["extractor"], errors="ignore"), metric)
        rows = [[r.dataset, r.model, r.size, r.sampler, str(int(r.reference_steps)), fmt(r.reference_value),
                 str(int(r.fewest_steps)), fmt(r.value_at_fewest), str(r.steps_available)]
                for r in table.itertuples()]
        tables.append(Table(
            f"{dataset}: fewest steps K at which each sampler comes within 10% of its own {METRIC_NAMES.get(metric, metric)} "
            "at K = 1000 (or at its largest K where K = 1000 was not drawn; see the reference K column), seed "
            "means, over every experiment of the suite (rpd.analysis.fewest_steps_within).",
            ["dataset", "model", "size", "sampler", "reference K", "value at reference K", "fewest K",
             "value at fewest K", "K drawn"], rows, [False] * 4 + [True] * 4 + [False]))
    return tables


# --------------------------------------------------------------------------------------------------------
# E3 network size


@section("e3")
def build_e3(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    if rows.empty:
        return no_rows(sec)
    if rows["parameters"].isna().all():
        sec.notes.append("metrics.csv has no parameter counts: no figure against parameters.")
    else:
        for dataset in exp["datasets"]:
            d = rows[rows["dataset"] == dataset]
            pairs = [p for p in (V.headline_pair(d), _few_pair(d)) if p is not None]
            for metric, ext in figure_metrics(d):
                sub = _only(d, metric, ext)
                sub = sub[[(s, int(k)) in pairs for s, k in zip(sub["sampler"], sub["steps"])]]
                s = summarise(sub.drop(columns=["extractor"], errors="ignore"),
                              ["model", "family", "size", "sampler", "steps", "parameters"])
                if s.empty:
                    continue
                models = ctx.ordered_models(s["model"].unique())
                s = s.assign(_m=[models.index(m) for m in s["model"]]).sort_values(["_m", "parameters"])
                s["panel"] = [f"{a} sampler, K={k}" for a, k in zip(s["sampler"], s["steps"])]
                s["line"] = [f"{m} ({F.FAMILY_LABELS.get(f, f)})" for m, f in zip(s["model"], s["family"])]
                label = ctx.metric_label(metric, [dataset])
                name = F.figure_name(fid, dataset, metric, ext, "vs-params")
                F.metric_lines(ctx.out_dir / name, s, "parameters", "trainable parameters of the denoiser "
                                                                    "(log scale)", label, share_y=False)
                sec.figures.append(Figure(
                    name, f"{label} against parameter count on {dataset}",
                    f"{dataset}: {label}{_extractor_note(ext)} against the denoiser's trainable parameter count "
                    f"(sizes {', '.join(_sizes(exp['sizes']))}), at the best-quality setting and at the fewest "
                    "steps; mean over seeds with 95% t-interval error bars. One line per model; colour = family."))
    sec.tables.append(wide_table(ctx, rows, "Every metric per model, size, sampler and K over seeds.",
                                 ["dataset", "model", "family", "size", "parameters", "sampler", "steps"]))
    outcomes = []
    for dataset in exp["datasets"]:
        d = rows[rows["dataset"] == dataset]
        metric = V.primary_metric(d, dataset)
        for model in [m for m in ctx.ordered_models(exp["models"]) if {"std", "small"} <= set(exp["sizes"])]:
            for sampler, k in sorted({(s, int(k)) for s, k in zip(d["sampler"], d["steps"])}):
                outcomes.append(V.run_test(d, V.Test(
                    metric, V.Side(f"{model}-small", {"model": model, "size": "small"}),
                    V.Side(f"{model}-std", {"model": model, "size": "std"}),
                    {"dataset": dataset, "sampler": sampler, "steps": k}, expect="close")))
    if outcomes:
        sec.tables.append(outcome_table(
            f"Small against standard network, seed-paired, per model and setting; 'close' = non-inferior within "
            f"{V.CLOSE_TOLERANCE:.0%} of the standard model's mean (the C3 rule; for DDPM shown for contrast).",
            outcomes))
    return sec


def _few_pair(frame: pd.DataFrame) -> tuple[str, int] | None:
    sampler = V.few_step_sampler(frame)
    if sampler is None:
        return None
    return sampler, int(frame.loc[frame["sampler"] == sampler, "steps"].min())


# --------------------------------------------------------------------------------------------------------
# E4 auxiliary variable


def load_losses(ctx: Context) -> pd.DataFrame:
    """Training-loss curves of every diffusion run: columns dataset, model, family, size, seed, step, loss."""
    rows = []
    for run in diffusion_runs(ctx.config):
        path = ctx.results_dir / run.folder / "losses.npz"
        if not path.is_file():
            continue
        try:
            data = load_npz(path)
        except (OSError, ValueError) as err:
            say(f"report: cannot read {path}: {err}")
            continue
        fam = ctx.family(run.name)
        rows += [{"dataset": run.dataset, "model": run.name, "family": fam, "size": run.size, "seed": run.seed,
                  "step": int(s), "loss": float(v)} for s, v in zip(data["step"], data["loss"])]
    return pd.DataFrame(rows, columns=["dataset", "model", "family", "size", "seed", "step", "loss"])


def train_loss_rows(losses: pd.DataFrame) -> pd.DataFrame:
    """Per run the mean logged training loss (the area under the loss curve / iterations): tidy metric rows."""
    if losses.empty:
        return pd.DataFrame(columns=["dataset", "model", "family", "size", "seed", "sampler", "steps", "metric",
                                     "value"])
    g = losses.groupby(["dataset", "model", "family", "size", "seed"], as_index=False)["loss"].mean()
    return g.rename(columns={"loss": "value"}).assign(sampler="train", steps=0, metric="train_loss_mean")


@section("e4")
def build_e4(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    losses = ctx.losses
    losses = losses[losses["dataset"].isin(exp["datasets"]) & losses["model"].isin(exp["models"])
                    & losses["size"].isin(exp["sizes"])]
    if rows.empty and losses.empty:
        return no_rows(sec)
    aux = {m: ctx.config["models"].get(m, {}).get("aux", "—") for m in exp["models"]}
    if not losses.empty:
        curves = []
        for (dataset, model, family, size, step), g in losses.groupby(["dataset", "model", "family", "size", "step"]):
            mean, sd, _, _, _ = t_interval(g["loss"])
            curves.append({"panel": f"{dataset}, size {size}", "line": f"{model} (aux {aux.get(model, '—')})",
                           "model": model, "family": family, "step": step, "mean": mean, "sd": sd})
        curves = pd.DataFrame(curves)
        order = ctx.ordered_models(curves["model"].unique())
        curves = curves.assign(_m=[order.index(m) for m in curves["model"]]).sort_values(["_m", "step"])
        name = F.figure_name(fid, "loss-vs-iteration")
        F.loss_curves(ctx.out_dir / name, curves, "training loss (MSE of the target, log scale)")
        sec.figures.append(Figure(
            name, "Training loss against iteration",
            "Training loss (mean of the logged window) against the optimiser step, mean over seeds with a ± 1 sd "
            "band (none with one seed; the seed-paired test is in the table below), per auxiliary input of the "
            "network: ω (omega), μ̂ alone (mu) "
            "or none. Same target and schedule for all, so the losses are comparable."))
    sec.notes.append("The pipeline evaluates the final checkpoint only, so the metric is shown at the end of "
                     "training (table), not against iteration; the loss curve carries the 'falls faster' part.")
    table_rows = pd.concat([rows, ctx.train_metrics[ctx.train_metrics["dataset"].isin(exp["datasets"])
                                                    & ctx.train_metrics["model"].isin(exp["models"])
                                                    & ctx.train_metrics["size"].isin(exp["sizes"])]])
    sec.tables.append(wide_table(ctx, table_rows, "Mean training loss (sampler 'train') and final metrics per model, "
                                                  "sampler and K over seeds."))
    omega = [m for m in ctx.ordered_models(exp["models"]) if aux.get(m) == "omega" and ctx.family(m) == "rpd"]
    others = [m for m in ctx.ordered_models(exp["models"]) if aux.get(m) in ("mu", "none") and ctx.family(m) == "rpd"]
    outcomes = []
    for dataset in exp["datasets"]:
        for size in _sizes(exp["sizes"]):
            for a in omega:
                for b in others:
                    outcomes.append(V.run_test(ctx.train_metrics, V.Test(
                        "train_loss_mean", V.Side(a, {"model": a}), V.Side(b, {"model": b}),
                        {"dataset": dataset, "size": size, "sampler": "train"})))
    if outcomes:
        sec.tables.append(outcome_table("ω against μ̂ / none: seed-paired difference of the mean training loss "
                                        "(lower = falls faster).", outcomes))
    return sec


# --------------------------------------------------------------------------------------------------------
# E5 prior capacity


@section("e5")
def build_e5(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    priors = ctx.prior_rows(exp)
    if rows.empty:
        return no_rows(sec)
    models = ctx.ordered_models(exp["models"])
    sec.figures += steps_figures(ctx, fid, rows, "RPD on the standard and on the small prior")
    sec.figures += gallery(ctx, fid, exp, rows, models)
    sec.tables.append(wide_table(ctx, pd.concat([priors, rows]),
                                 "Priors (sampled directly, K —) and the models on them, every metric over seeds."))
    strong = [m for m in models if ctx.family(m) == "rpd" and ctx.prior_of(m) and ctx.prior_of(m)[1] == "std"]
    weak = [m for m in models if ctx.family(m) == "rpd" and ctx.prior_of(m) and ctx.prior_of(m)[1] == "small"]
    outcomes = []
    for dataset in exp["datasets"]:
        d = rows[rows["dataset"] == dataset]
        metric = V.primary_metric(d, dataset)
        for size in _sizes(exp["sizes"]):
            for w in weak:
                for s in strong:
                    for sampler, k in sorted({(a, int(b)) for a, b in zip(d["sampler"], d["steps"])}):
                        outcomes.append(V.run_test(d, V.Test(
                            metric, V.Side(w, {"model": w}), V.Side(s, {"model": s}),
                            {"dataset": dataset, "size": size, "sampler": sampler, "steps": k}, expect="higher")))
    if outcomes:
        sec.tables.append(outcome_table("Weak prior (β-VAE_s) minus standard prior, seed-paired: the claim expects "
                                        "positive Δ (worse), most at few steps.", outcomes))
    elif not weak:
        sec.notes.append("No RPD model on a small prior in this experiment: nothing to compare.")
    return sec


# --------------------------------------------------------------------------------------------------------
# E6 conditional FMNIST


@section("e6")
def build_e6(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    if rows.empty:
        return no_rows(sec)
    models = ctx.ordered_models(exp["models"])
    size = V.first_size(exp)
    for dataset in exp["datasets"]:
        sec.figures += reference_gallery(ctx, fid, dataset) if ctx.is_image(dataset) else []
        d = rows[(rows["dataset"] == dataset) & (rows["size"] == size)]
        for m in models:
            pairs = [p for p in (V.headline_pair(d[d["model"] == m]), _few_pair(d[d["model"] == m])) if p]
            if ctx.is_image(dataset):
                sec.figures += image_gallery(ctx, fid, dataset, m, size, list(dict.fromkeys(pairs)))
    sec.figures += steps_figures(ctx, fid, rows, "class-conditional generation")
    sec.tables.append(wide_table(ctx, rows, "CW-1WD, KID and 1WD per model, sampler and K over seeds (KID says "
                                            "which feature extractor)."))
    for metric, ext in figure_metrics(rows):
        sec.tables.append(paired_table(
            ctx, _only(rows, metric, ext),
            f"Seed-paired {METRIC_NAMES.get(metric, metric)}{_extractor_note(ext)} difference RPD − baseline; "
            "negative favours RPD.", baseline_families=BASELINE_FAMILIES, metric=metric))
    return sec


# --------------------------------------------------------------------------------------------------------
# E8 ELBO


def is_bound_metric(metric: str) -> bool:
    return metric.startswith("elbo") or metric.startswith("j2")


@section("e8")
def build_e8(ctx: Context, fid: str, exp: dict) -> Section:
    sec = new_section(fid)
    m = ctx.metrics
    rows = m[m["dataset"].isin(exp["datasets"]) & m["model"].isin(exp["models"]) & m["size"].isin(exp["sizes"])
             & m["metric"].map(is_bound_metric)]
    if rows.empty:
        sec.notes.append("Not run: metrics.csv holds no elbo* or j2 rows for this experiment's runs.")
        return sec
    sec.tables.append(wide_table(ctx, rows, "The variational bound and its terms (elbo*, as the negative bound: "
                                            "lower is better) and the terminal-mismatch term J₂, over seeds.",
                                 ["dataset", "model", "family", "size"]))
    if (rows["sampler"] == "bound").any():
        # Bound rows carry `se` and `unit` (rpd.elbo); tables from elsewhere may not.
        bound = elbo_table(rows.assign(**{c: rows[c] if c in rows else v for c, v in (("se", float("nan")), ("unit", ""))}))
        sec.tables.append(Table(
            "The bound per term with its estimation error: mean over seeds, se = √Σ se_k² / seeds (the Monte Carlo "
            "error of that mean over the reference set), sd over seeds where there are several (rpd.analysis.elbo_table).",
            ["dataset", "model", "size", "term", "mean", "se", "sd over seeds", "seeds", "unit"],
            [[r.dataset, r.model, r.size, str(r.metric), fmt(r.mean), fmt(r.se), fmt(r.sd_seeds), str(int(r.seeds)),
              str(r.unit)] for r in bound.itertuples()], [False] * 4 + [True] * 4 + [False]))
    verdict = V.judge_c6(ctx.config, m, exp)
    if verdict.deciding:
        sec.tables.append(outcome_table("RPD against DiffuseVAE, seed-paired (lower is better).", verdict.deciding))
    return sec


# --------------------------------------------------------------------------------------------------------
# Header, status overview and methods


def wall_seconds(frame: pd.DataFrame) -> float:
    """Training once per run plus sampling and evaluation once per (run, sampler, K)."""
    if frame.empty:
        return 0.0
    run = ["dataset", "model", "size", "seed"]
    train = frame.drop_duplicates(run)["train_seconds"].sum()
    per_pair = frame.drop_duplicates(run + ["sampler", "steps"])
    return float(train + per_pair["sample_seconds"].sum() + per_pair["eval_seconds"].sum())


def build_header(ctx: Context) -> dict:
    m = ctx.metrics
    run = ["dataset", "model", "size", "seed"]
    prov_rows = []
    for (commit, versions, device), g in m.groupby(["commit", "versions", "device"], sort=True):
        prov_rows.append([commit, str(len(g.drop_duplicates(run))), str(g["config_hash"].nunique()),
                          versions.replace(";", "; "), device, fmt_seconds(wall_seconds(g))])
    provenance = Table("Provenance of the rows in metrics.csv, by commit, package versions and device. Config "
                       "hashes counts the distinct resolved run configs (one per run when all is consistent). "
                       "Wall time is training + sampling + evaluation, summed over jobs (not elapsed time).",
                       ["commit", "runs", "config hashes", "versions", "device", "wall time"], prov_rows,
                       [False, True, True, False, False, True])
    # N per dataset ("500 (fmnist-16), 1000 (dino-grid-0.1, …)"): suites mix 2D and image datasets
    with_n = m.dropna(subset=["n"])
    by_n = with_n.groupby(with_n["n"].astype(int))["dataset"].unique()
    return {
        "suite": ctx.config["suite"],
        "commits": sorted(m["commit"].unique()),
        "n": "; ".join(f"{n} ({', '.join(sorted(ds))})" for n, ds in by_n.items()) or "—",
        "runs": len(m.drop_duplicates(run)),
        "rows": len(m),
        "seeds": ", ".join(str(s) for s in ctx.config.get("seeds", [])),
        "wall": fmt_seconds(wall_seconds(m)),
        "provenance": provenance,
    }


def claims_table(verdicts: list[V.Verdict], built: dict[str, Section]) -> Table:
    """The summary at the top: one row per claim with its verdict, key number and the section holding the evidence."""
    rows, classes = [], []
    for v in verdicts:
        where = (Link(f"{v.family.upper()} {EXPERIMENT_FAMILIES[v.family].title}", f"#{v.family}")
                 if v.family in built else f"{v.family.upper()} (not run)")
        rows.append([v.claim, v.statement, v.status, v.key_number, v.reason, where])
        classes.append(STATUS_CLASS[v.status])
    return Table("Claims of the paper (SPEC §1) and what this suite's results say. Key number: the deciding "
                 "seed-paired difference Δ = challenger − baseline, its 95% t-interval and the two means. The "
                 "decision rule is in Methods › verdicts.",
                 ["claim", "statement", "verdict", "key number", "decided by", "evidence"], rows, row_classes=classes)


JOB_KINDS = ("train", "sample", "evaluate")


def job_table(ctx: Context) -> Table:
    """Wall time, CPU time and peak memory per job, from the ``*.benchmark.tsv`` files Snakemake writes."""
    m = ctx.metrics
    hashes = {(d, f"{n}-{z}", str(k)): h for d, n, z, k, h in
              m[["dataset", "model", "size", "seed", "config_hash"]].drop_duplicates().itertuples(index=False)}
    rows = []
    for run_dir in ctx.run_dirs():
        for kind in JOB_KINDS:
            path = run_dir / f"{kind}.benchmark.tsv"
            if not path.is_file():
                continue
            try:
                b = pd.read_csv(path, sep="\t")
            except (OSError, ValueError, pd.errors.ParserError) as err:
                say(f"report: cannot read {path}: {err}")
                continue
            rel = run_dir.relative_to(ctx.results_dir)
            last = b.iloc[-1]
            rows.append([str(rel.parts[0]), rel.parts[1], rel.parts[2].removeprefix("seed"),
                         hashes.get((rel.parts[0], rel.parts[1], rel.parts[2].removeprefix("seed")), "—"), kind,
                         f"{float(last['s']):.1f}", f"{float(last.get('cpu_time', np.nan)):.1f}",
                         f"{float(last.get('max_rss', np.nan)):.0f}"])
    total = sum(float(r[5]) for r in rows)
    return Table(f"Per job, from Snakemake's benchmark files: wall time (elapsed, s), CPU time (s) and peak resident "
                 f"memory (max RSS, MB), with the hash of the run's resolved config. {len(rows)} jobs, "
                 f"{fmt_seconds(total)} of job time in total. Dataset, "
                 "collect and report jobs are not benchmarked.",
                 ["dataset", "run", "seed", "config hash", "job", "wall s", "CPU s", "max RSS MB"], rows,
                 [False, False, True, False, False, True, True, True])


def status_table(ctx: Context, built: dict[str, Section]) -> Table:
    rows, classes = [], []
    for fid, fam in EXPERIMENT_FAMILIES.items():
        if fid not in ctx.config["experiments"]:
            status, cls = "not run", "muted"
        elif fid not in SECTIONS:
            status, cls = "run; no report section yet", "muted"
        elif not built[fid].tables and not built[fid].figures:
            status, cls = "configured; no results", "bad"
        else:
            status, cls = "reported below", ""
        rows.append([fid.upper(), fam.title, fam.claim, fam.mirrors, fam.what, status])
        classes.append(cls)
    return Table("Experiment families of SPEC §5 and whether this suite ran them.",
                 ["family", "title", "claim", "mirrors", "content", "status"], rows, row_classes=classes)


def alpha_bar_T(T: int, schedule: str) -> float:
    """ᾱ_T of the diffusers schedules used (linear 1e-4 → 0.02, or squaredcos_cap_v2)."""
    if schedule == "linear":
        betas = np.linspace(1e-4, 0.02, T, dtype=np.float64)
    else:
        f = lambda t: np.cos((t / T + 0.008) / 1.008 * np.pi / 2) ** 2  # noqa: E731
        betas = np.minimum(1 - f(np.arange(1, T + 1)) / f(np.arange(T)), 0.999)
    return float(np.prod(1 - betas))


def build_methods(ctx: Context) -> dict:
    cfg, m = ctx.config, ctx.metrics
    T, schedule = int(cfg.get("T", 1000)), cfg.get("beta_schedule", "linear")
    ns = sorted(int(n) for n in m["n"].dropna().unique()) or [cfg.get("n_eval")]
    pairs = sorted({p for exp in cfg["experiments"].values() for p in ctx.pairs(exp)}, key=lambda p: (p[0], p[1]))
    steps_by_sampler = {s: sorted({k for a, k in pairs if a == s}) for s in dict.fromkeys(a for a, _ in pairs)}
    items = [
        ("1WD", f"Exact Wasserstein-1 distance between the N = {', '.join(map(str, ns))} generated points and the N "
                "held-out reference points, uniform weights: POT ot.emd2(a, b, ot.dist(X, Y, metric='euclidean')) "
                "(Euclidean ground cost, never squared, never sliced; distances computed directly with scipy's "
                "cdist backend). numItermax = 10⁷; a job fails if POT reports that it did not converge. In data "
                "units (grid centres are 1 apart)."),
        ("RW-1WD", "Region-wise W1: regions are the Voronoi cells of the G×G grid centres. In each region, W1 "
                   "between the generated and reference points in it after subtracting the centre and dividing "
                   "by the dataset's scale, so values are in units of the local shape and comparable across "
                   "scales; the regional values are averaged with weights = the reference share of each region. "
                   "Empty-region rule: a region with reference points but no generated point costs the W1 from "
                   "its reference points to a point mass at the centre (their mean distance to the centre, in "
                   "local units); regions without reference points carry no weight."),
        ("mass error", "½ Σ_r |p_gen(r) − p_ref(r)| over the regions: the share of generated mass in the wrong "
                       "cell (0 = perfect layout, 1 = disjoint), reported beside RW-1WD, which ignores it."),
        ("diffusion", f"T = {T}, β schedule {schedule} "
                      + ("from β₁ = 1e-4 to β_T = 0.02" if schedule == "linear" else "(diffusers squaredcos_cap_v2)")
                      + f", ᾱ_T = {alpha_bar_T(T, schedule):.2g}. Every family is a standard DDPM on the "
                      "standardised variable r = (x − c(z)) / s(z): RPD c = μ̂(z), s = σ̂(z); DDPM c = 0, s = 1; "
                      "DiffuseVAE form 1 c = 0, s = 1, conditioned on x̂ = μ̂(z); form 2 c = x̂, s = 1 (σ̂ ignored), "
                      "conditioned on x̂. RPD's network gets ω (ω_ε = r_t/√(1 − ᾱ_t), ω_v = √ᾱ_t ω_ε) and μ̂(z) "
                      "unless its aux setting says otherwise."),
        ("samplers", "diffusers DDPMScheduler (ancestral), DDIMScheduler (η = 0, set_alpha_to_one=True), "
                     "DPMSolverMultistepScheduler (DPM-Solver++ 2M, `dpmpp`) and UniPCMultistepScheduler (`unipc`), "
                     "the last two ending on the x₀ prediction; all with "
                     "set_timesteps(K) with timestep_spacing='trailing' (K = 1 starts at t = T − 1) and "
                     "clip_sample=False; prediction_type epsilon or v_prediction by the model's target. One "
                     "trained model serves every K; every sample has its own random generator, seeded from "
                     "(run seed, sample index), so samples do not depend on the batch size. With trailing "
                     "spacing every K starts at t = T − 1 and its last step returns x₀ (previous step −1). "
                     "DDIMScheduler takes the previous step as t − ⌊T/K⌋, which for K not dividing T (e.g. K = 3: "
                     "999, 666, 332) is off by one step from the next listed timestep (diffusers' behaviour, "
                     "negligible). K per sampler: "
                     + "; ".join(f"{s}: {', '.join(map(str, ks))}" for s, ks in steps_by_sampler.items()) + "."),
        ("sampling z", "z ~ p̂(z): for VQ-VAE the empirical code frequencies on the training set; for β-VAE "
                       "N(0, I). Decoder σ̂ = softplus(·) + sigma_floor. During stage-2 training z ~ q(z|x₀) "
                       "(VQ-VAE: the code of x₀). VQ-VAE codebook: k-means on 4096 training encodings (best "
                       "of 5 k-means++ runs), codes serving under a tenth of the mean usage restarted every "
                       "100 steps; encoder = identity skip + MLP."),
        ("seeds and intervals", f"Seeds {', '.join(map(str, cfg.get('seeds', [])))}; each seed trains its own prior "
                                "and model. Tables give mean ± sample sd over seeds and the 95% t-interval of the "
                                "mean, mean ± t₀.₉₇₅,ₙ₋₁·sd/√n (scipy.stats.t); no interval with one seed. RPD "
                                "against a baseline is compared seed-paired: per seed the difference at equal "
                                "dataset, size, sampler and K, then its mean and t-interval."),
        ("sample figures", f"Seed {ctx.seed}; each model at its best-available sampler: the DDPM sampler at its "
                           "largest K, else DDIM at its largest K. The prior column shows the prior of the first "
                           "RPD-family model."),
    ]
    grid_sets = {n: d for n, d in cfg["datasets"].items() if d.get("kind", "grid") == "grid"}
    other_sets = {n: d for n, d in cfg["datasets"].items() if n not in grid_sets}
    datasets = Table("Datasets (Datasaurus shape copied to the grid centres, shrunk by scale, plus Gaussian jitter "
                     "of jitter × scale).", ["dataset", "shape", "grid", "scale", "jitter", "n_train", "data_seed"],
                     [[name, str(d.get("shape", "")), str(d.get("grid", 4)), f"{d['scale']:g}",
                       f"{d.get('jitter', 0.02):g}", str(d.get("n_train", "")), str(d.get("data_seed", ""))]
                      for name, d in grid_sets.items()],
                     [False, False, True, True, True, True, True])
    image_sets = Table("Image datasets and their settings as resolved from the config.", ["dataset", "settings"],
                       [[name, spec_text(d)] for name, d in other_sets.items()])
    def counts(v: pd.Series) -> str:
        return ", ".join(str(int(x)) for x in sorted(set(v.dropna())))

    mod_of = {d: modality(spec) for d, spec in cfg["datasets"].items()}
    runs = m.assign(modality=m["dataset"].map(mod_of)) if not m.empty else m.assign(modality=[])
    params = runs.groupby(["model", "size", "modality"])["parameters"].agg(counts) if not m.empty else pd.Series(dtype=str)
    net_rows = []
    for name in ctx.ordered_models(list(cfg.get("priors", {})) + list(cfg["models"])):
        is_prior = name in cfg.get("priors", {})
        spec = cfg["priors"][name] if is_prior else cfg["models"][name]
        relevant = SETTINGS_SHOWN.get(spec.get("kind") if is_prior else spec.get("family"), ())
        detail = ", ".join(f"{k}={spec[k]}" for k in relevant if k in spec)
        for mod, keys in MODALITY_KEYS.items():
            sizes = cfg.get(keys["prior_sizes" if is_prior else "networks"], {})
            for size in _sizes(sizes):
                count = params.get((name, size, mod), "")
                if count == "":
                    continue
                net_rows.append([name, F.FAMILY_LABELS.get(ctx.family(name), ctx.family(name)), detail,
                                 f"{size} ({'2D' if mod == 'points' else 'images'})", spec_text(sizes[size]), count])
    networks = Table("Networks that appear in metrics.csv. 2D denoiser: an MLP over [r_t, extra inputs] with a "
                     "64-d sinusoidal time embedding and residual blocks (LayerNorm → Linear → SiLU → Linear, time "
                     "embedding added). Image denoiser: diffusers UNet2DModel (channels per level, ResNet blocks "
                     "without attention unless attention=True, GroupNorm with 8 groups, num_class_embeds for classes) "
                     "with the extra inputs as extra input channels; image prior: a convolutional β-VAE (stride-2 "
                     "convolutions with the given channels, class one-hot as extra input channels and decoder input). "
                     "Parameters are trainable parameters of the trained network (for diffusion models the denoiser "
                     "only; the frozen prior is counted in its own row).",
                     ["model", "family", "settings", "size", "network", "parameters"], net_rows,
                     [False, False, False, False, False, True])
    used = sorted({mod_of[d] for d in cfg["datasets"]})
    training = Table("Training settings: Adam, cosine learning-rate schedule after a linear warm-up, gradient-norm "
                     "clipping, an EMA of the weights when the decay is > 0 (rpd/training.py).",
                     ["stage", "steps", "batch size", "lr", "EMA decay", "warmup", "grad clip"],
                     [[f"{stage} ({'2D' if mod == 'points' else 'images'})",
                       *(str(cfg.get(MODALITY_KEYS[mod][key], {}).get(k, "—")) for k in TRAINING_KEYS)]
                      for mod in used for stage, key in (("prior", "prior_training"), ("diffusion", "training"))],
                     [False] + [True] * 6)
    items += [
        ("verdicts", V.DECISION_RULE + " Each claim's deciding test: C1 the first RPD-family against the first "
                     "DDPM-family model of E1 on the primary metric (RW-1WD on grids, KID on images) at the "
                     "best-quality setting (ancestral sampler at its largest K), 1WD as the guard; C2 RPD against "
                     "DDPM in E2 at K = 1 and 3 with DDIM, DiffuseVAE as guards; C3 RPD small against RPD std in E3 "
                     f"at the best-quality setting (precondition: small < {V.SMALL_SHARE:.0%} of the parameters); "
                     "C4 the mean logged training loss (area under the loss curve per iteration) of aux ω against "
                     "aux μ̂ (else none) in E4, the final metric as the guard; C5 RPD on the small prior minus RPD "
                     "on the standard prior in E5 at the fewest steps with DDIM (worse expected); C6 −ELBO (else "
                     "J₂) of RPD against each DiffuseVAE in E8. −ELBO is read as lower-is-better."),
        ("KID feature extractor", kid_extractors(m)),
        ("image metrics", "1WD on images: exact W1 between the N generated and N reference images flattened to "
                          "vectors of pixels in [0, 1] (Euclidean ground cost). CW-1WD: for each class c, W1 "
                          "between the samples generated for class c and the reference images of class c, then "
                          "the mean over classes. Rows with these metrics: "
                          + (", ".join(sorted({d for d in m.loc[m["metric"].isin(["cw1wd", "kid"]), "dataset"]}))
                             or "none in this suite") + "."),
        ("image data and sampling", "Fashion-MNIST: read from idx files (configured folder, else Debian's "
                                    "dataset-fashion-mnist, else torchvision's download); a class-balanced subset of "
                                    "the 60k training split for training, a class-balanced subset of size N of the 10k "
                                    "test split as reference; resized by area averaging (PIL BOX) to the configured "
                                    "resolution and stored as 8-bit images. Butterflies: every image of the folder "
                                    "(or the Hugging Face download), centre-cropped to a square and area-resized; the "
                                    "reference is a seeded subset of size N of the same images. Models see pixels in "
                                    "[−1, 1]; samples are clamped to [0, 1] and quantised to 8 bits before any metric "
                                    "(as saved images are). Class-conditional sample i is drawn for class i mod C, so "
                                    "classes are balanced as in the reference set."),
        ("ELBO derivation (E8)", elbo_methods_markdown()),
        ("ELBO (E8)", "Rows named elbo* are read as the negative variational bound (an upper bound on the negative "
                      "log-likelihood: bits/dim on images, nats on 2D data), so lower is better; j2 is the KL "
                      "between the forward terminal and the reverse initial distribution (C6 expects ≈ 0 for "
                      "RPD). The E8 table shows every elbo* and j2 row metrics.csv holds."),
        ("sample galleries", f"Seed {ctx.seed}. Images: the first {GALLERY_COLUMNS} samples of each class per row "
                             "for labelled data (class-conditional generation), else the first samples in file "
                             "order; pixel values clipped to [0, 1], grey shown as grey. 2D: every sample as a "
                             "point, one panel per model and K."),
    ]
    tables = [datasets] + ([image_sets] if other_sets else []) + [networks, training]
    return {"items": items, "tables": tables}


def spec_text(spec: object) -> str:
    """A config block as 'key=value, …' (nested blocks in braces)."""
    if isinstance(spec, dict):
        return ", ".join(f"{k}={{{spec_text(v)}}}" if isinstance(v, dict) else f"{k}={v}" for k, v in spec.items())
    return str(spec)


def kid_extractors(m: pd.DataFrame) -> str:
    """Which KID feature extractor(s) the rows used."""
    if "kid" not in set(m["metric"]):
        return "No KID rows in this suite (KID applies to images)."
    ext = sorted(set(m.loc[m["metric"] == "kid", "extractor"])) if "extractor" in m else []
    ext = [e for e in ext if e]
    return ("KID through torch-fidelity, kid_subset_size = min(1000, N); feature extractor: "
            + (", ".join(ext) if ext else "not recorded in metrics.csv") + ". Every KID column names it.")


# --------------------------------------------------------------------------------------------------------
# Entry point


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_report(metrics_csv: str | Path, config: dict, out_html: str | Path) -> None:
    """Render ``out_html`` (and its PNG figures beside it) from the suite's metrics.csv and config.

    Sample files are read from the results folder that holds ``metrics_csv`` (``results/<suite>/``).
    """
    metrics_csv, out_html = Path(metrics_csv), Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    ctx = Context(config, load_metrics(metrics_csv), metrics_csv.parent, out_html.parent)
    say(f"report: {len(ctx.metrics)} metric rows from {metrics_csv}")
    ctx.losses = load_losses(ctx)
    ctx.train_metrics = train_loss_rows(ctx.losses)
    built: dict[str, Section] = {}
    for fid in EXPERIMENT_FAMILIES:
        if fid in config["experiments"] and fid in SECTIONS:
            say(f"report: section {fid}")
            built[fid] = SECTIONS[fid](ctx, fid, config["experiments"][fid])
    verdicts = V.judge_claims(config, pd.concat([ctx.metrics, ctx.train_metrics], ignore_index=True))
    for v in verdicts:
        say(f"report: {v.claim} {v.status}: {v.reason}")
    html = environment().get_template("index.html.j2").render(
        header=build_header(ctx),
        claims=claims_table(verdicts, built),
        verdicts={v.family: v for v in verdicts},
        status=status_table(ctx, built),
        sections=list(built.values()),
        not_run=[(fid.upper(), fam.title) for fid, fam in EXPERIMENT_FAMILIES.items()
                 if fid not in config["experiments"]],
        methods=build_methods(ctx),
        jobs=job_table(ctx),
    )

    write_atomic(out_html, lambda p: p.write_text(html, encoding="utf-8"))
    say(f"report: wrote {out_html}")
