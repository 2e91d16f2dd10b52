"""The report reads only the files its rule declares (rpd.report.inputs), and the rule declares what it reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rpd.config import Run
from rpd.report.inputs import ReportInputs, UndeclaredInput, declared_inputs


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
    run = results / "d-0.1" / "rpd-std" / "seed1"
    assert str(run / "samples" / "ddim-K10.npz") in declared["samples"]  # exists: listed file by file
    assert str(run / "samples") in declared["sample_dirs"]
    assert str(run / "losses.npz") in declared["losses"]
    assert {f"{run}/{job}.benchmark.tsv" for job in ("train", "sample", "evaluate")} <= set(declared["benchmarks"])
    prior = results / "d-0.1" / "vqvae-std" / "seed0"
    assert str(prior / "samples" / "prior-K0.npz") in declared["samples"]
    # the evil model wrote no samples: only its folder is declared, so a fresh run orders the jobs correctly
    assert not any("<script>" in p for p in declared["samples"])
    assert any("<script>" in p for p in declared["sample_dirs"])


def test_reading_an_undeclared_file_is_refused(tree: tuple[Path, dict]) -> None:
    results, cfg = tree
    inputs = ReportInputs.for_results(results, cfg)
    run = Run("model", "d-0.1", "rpd", "std", 0)
    assert inputs.samples_of(run, "ddim", 10)["x"].shape == (64, 2)
    no_refs = dataclasses.replace(inputs, references=frozenset())
    with pytest.raises(UndeclaredInput, match="reference.npz"):
        no_refs.reference("d-0.1")
    only_files = dataclasses.replace(inputs, sample_dirs=frozenset(),
                                     samples=frozenset(p for p in inputs.samples if "ddim-K10" not in p.name))
    with pytest.raises(UndeclaredInput, match="ddim-K10"):
        only_files.samples_of(run, "ddim", 10)
    with pytest.raises(UndeclaredInput, match="benchmark"):
        dataclasses.replace(inputs, benchmarks=frozenset()).benchmark(run, "train")
