"""The report reads only the files its rule declares (rpd.report.inputs), and the rule declares what it reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rpd.report.inputs import ReportInputs, UndeclaredInput, declared_inputs
from rpd.runs import Run
from rpd.runsets import RunSet


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from test_report import _config, _results_tree

    cfg = _config()
    return _results_tree(tmp_path_factory.mktemp("inputs"), cfg).parent, cfg


def test_declared_inputs_list_every_file_kind(tree: tuple[Path, dict]) -> None:
    results, cfg = tree
    declared = declared_inputs(cfg, results)
    assert str(results / "d-0.1" / "reference.npz") in declared["references"]
    assert str(results / "img" / "reference.npz") in declared["references"]
    run_set = results / "d-0.1" / "rpd-std"
    # the directory outputs holding the run folders and the sample files: every job processes a run set, so a
    # diffusion run set's training job writes its train/, its sampling job its samples/, a prior's training both
    assert str(run_set / "train") in declared["train_dirs"]
    assert str(run_set / "samples") in declared["sample_dirs"]
    assert str(results / "d-0.1" / "vqvae-std" / "samples") in declared["sample_dirs"]
    assert not any("/seed" in d for k in ("train_dirs", "sample_dirs") for d in declared[k])
    assert str(results / "d-0.1" / "vqvae-std" / "train") not in declared["train_dirs"]  # no loss curve read
    for job in ("train", "sample", "evaluate"):  # one job for every seed
        assert f"{run_set}/{job}.benchmark.tsv" in declared["benchmarks"]
    assert f"{results}/d-0.1/vqvae-std/train.benchmark.tsv" in declared["benchmarks"]
    assert f"{results}/d-0.1/vqvae-std/sample.benchmark.tsv" not in declared["benchmarks"]  # priors: in training
    # the same list whether or not the files exist yet (a changing input set would rerun the report for nothing)
    empty = results.parent / "not-run-yet"
    moved = {k: [p.replace(str(empty), str(results)) for p in v] for k, v in declared_inputs(cfg, empty).items()}
    assert moved == declared


def test_reading_an_undeclared_file_is_refused(tree: tuple[Path, dict]) -> None:
    results, cfg = tree
    inputs = ReportInputs.for_results(results, cfg)
    run = Run("model", "d-0.1", "rpd", "std", 0)
    assert inputs.samples_of(run, "ddim", 10)["x"].shape == (64, 2)
    no_refs = dataclasses.replace(inputs, references=frozenset())
    with pytest.raises(UndeclaredInput, match="reference.npz"):
        no_refs.reference("d-0.1")
    with pytest.raises(UndeclaredInput, match="ddim-K10"):
        dataclasses.replace(inputs, sample_dirs=frozenset()).samples_of(run, "ddim", 10)
    with pytest.raises(UndeclaredInput, match="benchmark"):
        dataclasses.replace(inputs, benchmarks=frozenset()).benchmark(RunSet("model", "d-0.1", "rpd", "std", (0,)), "train")
    assert len(inputs.losses_frame([run])) > 0  # read inside the declared train/ of the run set
    with pytest.raises(UndeclaredInput, match="losses.npz"):
        dataclasses.replace(inputs, train_dirs=frozenset()).losses_frame([run])
