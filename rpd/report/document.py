"""The report's document model: tables, figures, sections, and the registry of experiment sections.

A section builder (one module per experiment under :mod:`rpd.report.sections`) fills a :class:`Section`;
the template (``templates/index.html.j2``) draws it: verdict and figures first, the summary table, then the
full tables in a collapsed ``<details>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rpd.report.stats import INCONCLUSIVE, NOT_RUN, NOT_SUPPORTED, SUPPORTED, UNFIT

#: CSS class of a verdict status (table rows, verdict boxes).
STATUS_CLASS = {SUPPORTED: "good", NOT_SUPPORTED: "bad", INCONCLUSIVE: "muted", NOT_RUN: "muted", UNFIT: "bad"}
#: The most rows a section's visible summary table shows (the full tables are one click away).
SUMMARY_ROWS = 15


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

    def head(self, n: int = SUMMARY_ROWS) -> Table:
        """The first ``n`` rows (the caption says how many were left for the full tables)."""
        if len(self.rows) <= n:
            return self
        caption = f"{self.caption} First {n} of {len(self.rows)} rows; every row is in the full tables below."
        return Table(caption, self.columns, self.rows[:n], self.numeric, self.row_classes[:n])


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
    """One experiment's part of the page: figures, one short summary table, the full tables, notes."""

    id: str
    title: str
    claim: str
    mirrors: str
    figures: list[Figure] = field(default_factory=list)
    summary: list[Table] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # the full tables, shown collapsed
    notes: list[str] = field(default_factory=list)

    def summarise(self, table: Table) -> None:
        """Show ``table`` (cut to :data:`SUMMARY_ROWS` rows) above the full tables."""
        self.summary.append(table.head())


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

SectionBuilder = Callable[..., Section]
#: family id → the function that builds its section (registered with :func:`section`).
SECTIONS: dict[str, SectionBuilder] = {}


def section(family_id: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register the builder of one experiment family's section (its template text has the same id)."""
    if family_id not in EXPERIMENT_FAMILIES:
        raise ValueError(f"unknown experiment family {family_id!r}; allowed: {list(EXPERIMENT_FAMILIES)}")

    def register(builder: SectionBuilder) -> SectionBuilder:
        SECTIONS[family_id] = builder
        return builder

    return register


def new_section(family_id: str) -> Section:
    fam = EXPERIMENT_FAMILIES[family_id]
    return Section(family_id, fam.title, fam.claim, fam.mirrors)
