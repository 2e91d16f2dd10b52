"""The report job's inputs (rpd.report.inputs) as Snakemake hands them to workflow/scripts/report.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from snakemake.iocontainers import InputFiles

from rpd.io import save_npz
from rpd.report.inputs import ReportInputs, declared_inputs, load_metrics
from rpd.runs import Run
from rpd.runsets import RunSet


def test_a_report_job_reads_what_its_rule_declares(tmp_path: Path) -> None:
    from test_report import _config

    cfg, results = _config(), tmp_path / "results" / "t"
    # the report rule's input: declared_inputs' named lists, metrics.csv and summary.csv; the rule names no
    # `samples` or `losses` (those files are read inside the declared directories)
    rule_input = InputFiles(fromdict={**declared_inputs(cfg, results), "metrics": str(results / "metrics.csv"),
                                      "summary": str(results / "summary.csv")})
    inputs = ReportInputs.from_snakemake(rule_input)
    assert inputs == ReportInputs.for_results(results, cfg)
    assert inputs.metrics == results / "metrics.csv" and inputs.summary == results / "summary.csv"
    assert inputs.references and inputs.sample_dirs and inputs.train_dirs and inputs.benchmarks
    assert inputs.samples == inputs.losses == frozenset()


def test_metrics_keep_names_as_text_and_read_empty_numbers_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("dataset,model,size,seed,steps,metric,value,n,parameters\n"
                    "g,nan,1e3,0,10,rw1wd,0.5,,\n"
                    "g,None,std,1,1,rw1wd,0.25,100,5000\n")
    m = load_metrics(path)
    assert m["model"].tolist() == ["nan", "None"] and m["size"].tolist() == ["1e3", "std"]  # names stay names
    assert m["seed"].tolist() == [0, 1] and m["steps"].tolist() == [10, 1] and m["seed"].dtype.kind == "i"
    assert m["value"].tolist() == [0.5, 0.25] and m.loc[1, "parameters"] == 5000
    assert np.isnan(m.loc[0, "n"]) and np.isnan(m.loc[0, "parameters"])  # an empty cell is a missing number


def test_loss_curves_and_benchmarks_are_read_from_the_run_folders(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run, unrun = Run("model", "g", "rpd", "std", 0), Run("model", "g", "rpd", "std", 1)
    save_npz(results / run.folder / "losses.npz", step=np.array([10, 20]), loss=np.array([2.5, 1.5]))
    run_set = RunSet("model", "g", "rpd", "std", (0, 1))
    bench = results / run_set.folder / "train.benchmark.tsv"
    bench.write_text("s\tcpu_time\tmax_rss\n5.0\t4.0\t100\n6.0\t5.0\t110\n7.0\t6.0\t120\n")  # one line per attempt
    broken = results / run_set.folder / "sample.benchmark.tsv"
    broken.write_text("")
    inputs = ReportInputs(results / "metrics.csv", results / "summary.csv", train_dirs=frozenset({results}),
                          benchmarks=frozenset({bench, broken}))
    losses = inputs.losses_frame([run, unrun])  # the second seed has no curve yet
    assert losses.to_dict("records") == [
        {"dataset": "g", "model": "rpd", "size": "std", "seed": 0, "step": 10, "loss": 2.5},
        {"dataset": "g", "model": "rpd", "size": "std", "seed": 0, "step": 20, "loss": 1.5}]
    assert list(inputs.losses_frame([unrun]).columns) == ["dataset", "model", "size", "seed", "step", "loss"]
    last = inputs.benchmark(run_set, "train")  # the last attempt's line
    assert (last["s"], last["cpu_time"], last["max_rss"]) == (7.0, 6.0, 120)
    assert inputs.benchmark(run_set, "sample") is None  # unreadable: the table leaves the job out


def test_the_report_package_gives_its_two_entry_points_on_demand() -> None:
    """workflow/scripts/report.py imports render_report and ReportInputs from rpd.report (loaded lazily)."""
    import pytest

    import rpd.report
    from rpd.report import inputs, render

    assert rpd.report.render_report is render.render_report and rpd.report.ReportInputs is inputs.ReportInputs
    with pytest.raises(AttributeError, match="^no_such_entry$"):
        rpd.report.no_such_entry  # noqa: B018  (any other name is an error naming it)
