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
from scipy import stats

from rpd.config import experiment_pairs
from rpd.data.grid import assign_regions, grid_centres
from rpd.families import FAMILIES
from rpd.io import load_npz, write_atomic
from rpd.layout import sample_file
from rpd.logs import say
from rpd.report import figures as F

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


def t_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, int, float, float]:
    """Mean, sample sd, n and the two-sided t-interval of the mean (NaN bounds when n < 2)."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return np.nan, np.nan, 0, np.nan, np.nan
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, 1, np.nan, np.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, n, mean - half, mean + half


def summarise(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` + metric: mean, sd, seeds, and the 95% t-interval (lo, hi) over seeds."""
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
    """Wording and CSS class of a paired interval (negative difference = challenger better)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval (< 2 seeds)", "muted"
    if hi < 0:
        return better, "good"
    if lo > 0:
        return worse, "bad"
    return "inconclusive (interval contains 0)", "muted"


# --------------------------------------------------------------------------------------------------------
# What the suite ran


@dataclass
class Context:
    """Everything a section builder needs: config, tidy metrics, where results and figures live."""

    config: dict
    metrics: pd.DataFrame
    results_dir: Path
    out_dir: Path

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
        """Diffusion-model rows of one experiment: its datasets, models, sizes and (sampler, K) pairs."""
        m = self.metrics
        pairs = self.pairs(exp)
        keep = (m["dataset"].isin(exp["datasets"]) & m["model"].isin(exp["models"]) & m["size"].isin(exp["sizes"])
                & pd.Series([(s, k) in pairs for s, k in zip(m["sampler"], m["steps"])], index=m.index, dtype=bool))
        return m[keep]

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
                 extra: dict[str, Callable[[dict], str]] | None = None) -> Table:
    """Seed-paired RW-1WD differences of every RPD-family model against every baseline-family model."""
    models = ctx.ordered_models(frame["model"].unique())
    challengers = [m for m in models if ctx.family(m) == "rpd"]
    baselines = [m for m in models if ctx.family(m) in baseline_families]
    d = paired_differences(frame, challengers, baselines)
    extra = extra or {}
    cols = ["dataset", *extra, "RPD model", "baseline", "size", "sampler", "K", "paired seeds",
            "mean Δ RW-1WD (RPD − baseline)", "95% t-interval", "RPD wins", "verdict"]
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


def best_pair(frame: pd.DataFrame) -> tuple[str, int] | None:
    """The sampler/K shown in sample figures: DDPM sampler at its largest K, else any sampler's largest K."""
    pairs = {(s, int(k)) for s, k in zip(frame["sampler"], frame["steps"]) if s != "prior"}
    if not pairs:
        return None
    ddpm = [p for p in pairs if p[0] == "ddpm"]
    return max(ddpm, key=lambda p: p[1]) if ddpm else max(pairs, key=lambda p: (p[1], p[0]))


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
            pair = best_pair(rows[(rows["model"] == m) & (rows["size"] == size)])
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
    ns = sorted(int(n) for n in m["n"].dropna().unique())
    return {
        "suite": ctx.config["suite"],
        "commits": sorted(m["commit"].unique()),
        "n": ", ".join(str(n) for n in ns) or "—",
        "runs": len(m.drop_duplicates(run)),
        "rows": len(m),
        "seeds": ", ".join(str(s) for s in ctx.config.get("seeds", [])),
        "wall": fmt_seconds(wall_seconds(m)),
        "provenance": provenance,
    }


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
        ("samplers", "diffusers DDPMScheduler (ancestral) and DDIMScheduler (η = 0, set_alpha_to_one=True), "
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
    datasets = Table("Datasets (Datasaurus shape copied to the grid centres, shrunk by scale, plus Gaussian jitter "
                     "of jitter × scale).", ["dataset", "shape", "grid", "scale", "jitter", "n_train", "data_seed"],
                     [[name, str(d.get("shape", "")), str(d.get("grid", 4)), f"{d['scale']:g}",
                       f"{d.get('jitter', 0.02):g}", str(d.get("n_train", "")), str(d.get("data_seed", ""))]
                      for name, d in cfg["datasets"].items()],
                     [False, False, True, True, True, True, True])
    def counts(v: pd.Series) -> str:
        return ", ".join(str(int(x)) for x in sorted(set(v.dropna())))

    params = m.groupby(["model", "size"])["parameters"].agg(counts) if not m.empty else pd.Series(dtype=str)
    net_rows = []
    for name in ctx.ordered_models(list(cfg.get("priors", {})) + list(cfg["models"])):
        is_prior = name in cfg.get("priors", {})
        spec = cfg["priors"][name] if is_prior else cfg["models"][name]
        sizes = cfg["prior_sizes"] if is_prior else cfg["networks"]
        relevant = SETTINGS_SHOWN.get(spec.get("kind") if is_prior else spec.get("family"), ())
        detail = ", ".join(f"{k}={spec[k]}" for k in relevant if k in spec)
        for size in _sizes(sizes):
            count = params.get((name, size), "")
            if count == "" and not ((m["model"] == name) & (m["size"] == size)).any():
                continue
            net_rows.append([name, F.FAMILY_LABELS.get(ctx.family(name), ctx.family(name)), detail, size,
                             str(sizes[size]["hidden"]), str(sizes[size]["depth"]), count or "—"])
    networks = Table("Networks that appear in metrics.csv. 2D denoiser: an MLP over [r_t, extra inputs] with a "
                     "64-d sinusoidal time embedding and residual blocks (LayerNorm → Linear → SiLU → Linear, time "
                     "embedding added); parameters are trainable parameters of the trained network (for diffusion "
                     "models the denoiser only; the frozen prior is counted in its own row).",
                     ["model", "family", "settings", "size", "hidden", "depth", "parameters"], net_rows,
                     [False, False, False, False, True, True, True])
    training = Table("Training settings: Adam, cosine learning-rate schedule after a linear warm-up, gradient-norm "
                     "clipping, an EMA of the weights when the decay is > 0 (rpd/training.py).",
                     ["stage", "steps", "batch size", "lr", "EMA decay", "warmup", "grad clip"],
                     [[stage, *(str(cfg.get(key, {}).get(k, "—")) for k in TRAINING_KEYS)]
                      for stage, key in (("prior", "prior_training"), ("diffusion", "training"))],
                     [False] + [True] * 6)
    return {"items": items, "tables": [datasets, networks, training]}


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
    built: dict[str, Section] = {}
    for fid in EXPERIMENT_FAMILIES:
        if fid in config["experiments"] and fid in SECTIONS:
            say(f"report: section {fid}")
            built[fid] = SECTIONS[fid](ctx, fid, config["experiments"][fid])
    html = environment().get_template("index.html.j2").render(
        header=build_header(ctx),
        status=status_table(ctx, built),
        sections=list(built.values()),
        not_run=[(fid.upper(), fam.title) for fid, fam in EXPERIMENT_FAMILIES.items()
                 if fid not in config["experiments"]],
        methods=build_methods(ctx),
    )

    write_atomic(out_html, lambda p: p.write_text(html, encoding="utf-8"))
    say(f"report: wrote {out_html}")
