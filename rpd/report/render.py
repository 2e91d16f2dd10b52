"""The suite's HTML report (SPEC §5): ``index.html`` with its PNG figures in ``figures/`` beside it.

:func:`render_report` loads the rule's declared inputs (:mod:`rpd.report.inputs`), judges the claims
(:mod:`rpd.report.verdicts`), builds one section per experiment family the suite ran (registered in
:data:`rpd.report.document.SECTIONS` by the modules of :mod:`rpd.report.sections`) and fills the jinja
template ``templates/index.html.j2``. Adding a family means a module in ``sections/`` and its intro text in
the template.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from rpd.io import write_atomic
from rpd.logs import say
from rpd.report import sections  # noqa: F401  (registers every section builder)
from rpd.report.context import FIGURES_DIR, Context
from rpd.report.document import EXPERIMENT_FAMILIES, SECTIONS, Section
from rpd.report.inputs import ReportInputs
from rpd.report.methods import build_methods
from rpd.report.overview import build_header, claims_table, job_table, status_table
from rpd.report.verdicts import judge_claims
from rpd.runs import diffusion_runs

TEMPLATES = Path(__file__).resolve().parent / "templates"
TRAIN_ROW_KEYS = ["dataset", "model", "family", "size", "seed"]


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def train_loss_rows(losses: pd.DataFrame) -> pd.DataFrame:
    """Per run the mean logged training loss (the area under the loss curve / iterations): tidy metric rows."""
    if losses.empty:
        return pd.DataFrame(columns=TRAIN_ROW_KEYS + ["sampler", "steps", "metric", "value"])
    g = losses.groupby(TRAIN_ROW_KEYS, as_index=False)["loss"].mean()
    return g.rename(columns={"loss": "value"}).assign(sampler="train", steps=0, metric="train_loss_mean")


def load_context(inputs: ReportInputs, config: dict, out_dir: Path) -> Context:
    """Metrics, loss curves and the verdicts on the claims, ready for the section builders."""
    ctx = Context(config, inputs.metrics_frame(), inputs, out_dir)
    say(f"report: {len(ctx.metrics)} metric rows from {inputs.metrics}")
    losses = inputs.losses_frame(diffusion_runs(config))
    ctx.losses = losses.assign(family=[ctx.family(m) for m in losses["model"]])
    ctx.train_metrics = train_loss_rows(ctx.losses)
    verdicts = judge_claims(config, pd.concat([ctx.metrics, ctx.train_metrics], ignore_index=True))
    ctx.verdicts = {v.family: v for v in verdicts}
    for v in verdicts:
        say(f"report: {v.claim} {v.status}: {v.reason}")
    return ctx


def render_report(inputs: ReportInputs, config: dict, out_dir: str | Path) -> Path:
    """Write ``out_dir/index.html`` and its figures (``out_dir/figures/``) from the declared inputs; return the page."""
    out_dir = Path(out_dir)
    (out_dir / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    ctx = load_context(inputs, config, out_dir)
    built: dict[str, Section] = {}
    for fid in EXPERIMENT_FAMILIES:
        if fid in config["experiments"] and fid in SECTIONS:
            say(f"report: section {fid}")
            built[fid] = SECTIONS[fid](ctx, fid, config["experiments"][fid])
    html = environment().get_template("index.html.j2").render(
        header=build_header(ctx),
        claims=claims_table(list(ctx.verdicts.values()), built),
        verdicts=ctx.verdicts,
        status=status_table(ctx, built),
        sections=list(built.values()),
        not_run=[(fid.upper(), fam.title) for fid, fam in EXPERIMENT_FAMILIES.items()
                 if fid not in config["experiments"]],
        # experiments a suite declares beyond e1–e8: listed with the claim they test (their rows are in metrics.csv)
        others=[(fid, x.get("claim")) for fid, x in config["experiments"].items() if fid not in EXPERIMENT_FAMILIES],
        methods=build_methods(ctx),
        jobs=job_table(ctx),
    )
    page = out_dir / "index.html"
    write_atomic(page, lambda p: p.write_text(html, encoding="utf-8"))
    say(f"report: wrote {page}")
    return page
