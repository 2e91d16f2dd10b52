"""What every section builder gets: the config, the tidy metrics, the loader and where figures go.

Config questions (which family a model is, in which order models are shown, which rows belong to an
experiment) are answered here once; :func:`start_section` is the prologue every section shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rpd.data.specs import is_image_dataset
from rpd.report.document import Section, new_section
from rpd.report.inputs import ReportInputs
from rpd.report.stats import METRIC_NAMES
from rpd.report.verdicts import Verdict, experiment_frame
from rpd.runs import Run, experiment_pairs

#: Where the PNG figures go, relative to index.html (the report rule declares this folder as a report() output).
FIGURES_DIR = "figures"
#: Display order of families in tables and figures (priors first, RPD last).
FAMILY_ORDER = ("vqvae", "betavae", "ddpm", "diffusevae1", "diffusevae2", "rpd")
#: Units of the metrics (1WD and the bound depend on the data: see :meth:`Context.metric_label`).
METRIC_UNITS = {"rw1wd": "local-shape units", "mass_error": "share of samples", "kid": "unitless",
                "cw1wd": "pixel units, [0, 1] scale", "j2": "nats", "train_loss_mean": "MSE of the target"}


@dataclass
class Context:
    config: dict
    metrics: pd.DataFrame
    inputs: ReportInputs
    out_dir: Path  # the folder of index.html
    #: Rows derived from training logs (metric ``train_loss_mean``, sampler ``train``), for E4 and claim C4.
    train_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Training-loss curves of the diffusion runs (dataset, model, family, size, seed, step, loss).
    losses: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The claim verdicts by the family that shows their evidence (e1 … e8).
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    def figure_path(self, name: str) -> tuple[Path, str]:
        """Where a figure file goes, and its ``src`` relative to index.html."""
        return self.out_dir / FIGURES_DIR / name, f"{FIGURES_DIR}/{name}"

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

    @property
    def seed(self) -> int:
        """The seed shown in sample galleries: 0 when the suite has it, else its smallest."""
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

    def models_of(self, names: Iterable[str], *families: str) -> list[str]:
        """Those of ``names`` whose family is one of ``families``, in report order."""
        return [m for m in self.ordered_models(names) if self.family(m) in families]

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
        return experiment_frame(self.config, self.metrics, exp)

    def prior_rows(self, exp: dict) -> pd.DataFrame:
        """Rows of the priors the experiment's models sit on (sampler ``prior``, K = 0)."""
        wanted = {p for name in exp["models"] if (p := self.prior_of(name)) is not None}
        m = self.metrics
        keep = (m["dataset"].isin(exp["datasets"]) & (m["sampler"] == "prior")
                & pd.Series([(n, s) in wanted for n, s in zip(m["model"], m["size"])], index=m.index, dtype=bool))
        return m[keep]

    def run(self, dataset: str, name: str, size: str, seed: int) -> Run:
        kind = "prior" if name in self.config.get("priors", {}) else "model"
        return Run(kind, dataset, name, size, int(seed))

    def experiment_seeds(self, exp: dict) -> list[int]:
        return [int(s) for s in exp.get("seeds", self.config.get("seeds", [0]))]


NO_ROWS = "metrics.csv holds no rows for this experiment's runs."


def start_section(ctx: Context, fid: str, exp: dict) -> tuple[Section, pd.DataFrame]:
    """The shared prologue of a section builder: the empty section and the experiment's metric rows.

    When the experiment has no rows the section carries a note saying so (the builder returns it as is).
    """
    sec = new_section(fid)
    rows = ctx.experiment_rows(exp)
    if rows.empty:
        sec.notes.append(NO_ROWS)
    return sec, rows
