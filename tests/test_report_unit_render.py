"""rpd.report.render on a hand-made results folder of one E3 run: the training-loss rows, the context a section
builder gets (metrics from metrics.csv, loss curves, verdicts) and the page (one section per family the suite
ran, the others listed as not run). The Methods code constants are stubbed (they build torch networks); figures
are recorded, not drawn. Much smaller than the synthetic report (issue 18: `make mutation`).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest

from rpd.io import save_npz
from rpd.report import figures as F
from rpd.report import methods as M
from rpd.report import render as R
from rpd.report.inputs import ReportInputs, all_runs, declared_inputs

CONFIG = {
    "suite": "unit", "seeds": [0, 1], "T": 100, "n_eval": 10,
    "datasets": {"g": {"kind": "grid", "shape": "dino", "grid": 2, "scale": 0.2, "jitter": 0.02, "data_seed": 1}},
    "sampling": [{"samplers": ["ddim"], "steps": [1]}],
    "models": {"rpd": {"family": "rpd", "prior": "vq", "prior_size": "p"}},
    "priors": {"vq": {"kind": "vqvae"}},
    "networks": {"small": {"width": 8}, "big": {"width": 32}},
    "experiments": {"e3": {"datasets": ["g"], "models": ["rpd"], "sizes": ["small", "big"]},
                    "x9": {"datasets": ["g"], "models": ["rpd"], "sizes": ["small"], "claim": "C9"}},
}
CODE = {"beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "alpha_bar_T": 0.5,
        "time_embedding": 16, "groupnorm_groups": 8}


def test_train_loss_rows_are_each_runs_mean_loss() -> None:
    losses = pd.DataFrame({"dataset": "g", "model": "rpd", "family": "rpd", "size": ["a", "a", "a", "b"],
                           "seed": 0, "step": [1, 2, 3, 1], "loss": [3.0, 2.0, 1.0, 5.0]})
    rows = R.train_loss_rows(losses)
    assert rows[["size", "value", "sampler", "steps", "metric"]].values.tolist() == [
        ["a", 2.0, "train", 0, "train_loss_mean"], ["b", 5.0, "train", 0, "train_loss_mean"]]
    empty = R.train_loss_rows(losses.iloc[:0])
    assert empty.empty and list(empty.columns) == R.TRAIN_ROW_KEYS + ["sampler", "steps", "metric", "value"]


def results(tmp_path: Path) -> ReportInputs:
    out = tmp_path / "results"
    out.mkdir()
    metric_rows = [{"suite": "unit", "dataset": "g", "model": "rpd", "family": "rpd", "size": size, "seed": seed,
                    "sampler": "ddim", "steps": 1, "metric": "rw1wd", "value": value * (1 + seed / 10), "n": 10,
                    "parameters": parameters, "extractor": "", "commit": "c0ffee", "config_hash": "h",
                    "versions": "torch=2", "device": "cpu", "train_seconds": 1.0, "sample_seconds": 1.0,
                    "eval_seconds": 1.0}
                   for size, parameters, value in (("small", 10, 1.0), ("big", 90, 0.5)) for seed in (0, 1)]
    pd.DataFrame(metric_rows).to_csv(out / "metrics.csv", index=False)
    pd.DataFrame(metric_rows).to_csv(out / "summary.csv", index=False)
    runs = sorted((r for r in all_runs(CONFIG) if r.kind == "model"), key=lambda r: r.folder)
    for i, run in enumerate(runs):  # the loss curves, in the declared train/ of each run set
        assert any(str(out / run.folder).startswith(d) for d in declared_inputs(CONFIG, out)["train_dirs"])
        save_npz(out / run.folder / "losses.npz", step=np.array([1, 2]), loss=np.array([2.0 + i, 1.0 + i]))
    return ReportInputs.for_results(out, CONFIG)


def test_load_context_reads_metrics_losses_and_judges_the_claims(tmp_path: Path) -> None:
    ctx = R.load_context(results(tmp_path), CONFIG, tmp_path / "report")
    assert len(ctx.metrics) == 4 and ctx.metrics["seed"].dtype.kind == "i"
    assert sorted(ctx.losses["size"].unique()) == ["big", "small"] and set(ctx.losses["family"]) == {"rpd"}
    assert len(ctx.losses) == 2 * 4  # 2 steps × (2 sizes × 2 seeds)
    assert set(ctx.train_metrics["metric"]) == {"train_loss_mean"} and len(ctx.train_metrics) == 4
    assert sorted(ctx.verdicts) == ["e1", "e2", "e3", "e4", "e5", "e8"]
    assert ctx.verdicts["e3"].claim == "C3" and ctx.verdicts["e1"].status == "not run"


def test_render_report_builds_the_sections_the_suite_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(M, "code_constants", lambda T, schedule: CODE)
    monkeypatch.setattr(F, "metric_lines", lambda path, *args, **kwargs: Path(path).write_bytes(b"png"))
    page = R.render_report(results(tmp_path), CONFIG, tmp_path / "report")
    assert page == tmp_path / "report" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert 'id="e3"' in html and 'id="e1"' not in html
    assert "x9" in html and "C9" in html  # an experiment beyond e1–e8 is listed with its claim
    not_run = html.split("Not run by this suite: ", 1)[1].split("</p>", 1)[0]  # every family but E3, in order
    assert not_run == "; ".join(f"{e} {t} (not run)" for e, t in (
        ("E1", "Fine structure"), ("E2", "Few steps"), ("E4", "Auxiliary variable"), ("E5", "Prior capacity"),
        ("E6", "Conditional FMNIST"), ("E7", "Scale sweep"), ("E8", "ELBO consistency"))) + "."
    assert "Network size" in html and "16-d sinusoidal" in html  # E3's section and Methods' network text
    assert "c0ffee" in html  # the provenance table
    figures = list((tmp_path / "report" / "figures").iterdir())
    assert figures and all(f"figures/{f.name}" in html for f in figures)
    (tmp_path / "again").mkdir()
    again = R.render_report(results(tmp_path / "again"), CONFIG, tmp_path / "report")  # re-rendered in place
    assert again == page and again.read_text(encoding="utf-8") == html
    with pytest.raises(jinja2.UndefinedError):  # StrictUndefined: a name the page does not pass fails
        R.environment().from_string("{{ missing }}").render()
    assert R.environment().from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"  # autoescaped
