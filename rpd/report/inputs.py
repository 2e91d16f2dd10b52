"""Every file the report reads, declared once and read through one loader.

:func:`declared_inputs` lists them for the ``report`` rule (``workflow/rules/report.smk``), so Snakemake
re-renders the report when any of them changes (sample files through the ``samples/`` directory outputs that
hold them); :class:`ReportInputs` is built from the rule's
``snakemake.input`` (or, outside Snakemake, from the same list) and is the only reader. Paths are composed
here and nowhere else in the report, from :attr:`rpd.runs.Run.folder` and :func:`rpd.layout.sample_file`.
Reading a file the rule does not declare raises :class:`UndeclaredInput`: it would be a rerun that never
happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rpd.io import load_npz
from rpd.layout import reference_file, sample_file
from rpd.logs import say
from rpd.runs import Run, diffusion_runs, prior_runs
from rpd.runsets import RunSet, run_sets, sample_folders, train_folders

#: Benchmark files (Snakemake ``benchmark:``) of the jobs that process a run set (every seed of a run;
#: rpd.runsets) in its folder, by run kind.
RUN_SET_BENCHMARKED_JOBS = {"prior": ("train", "evaluate"), "model": ("train", "sample", "evaluate")}
#: The kinds of file read inside a job's directory output, and the declared directories that hold them.
_HOLDING_DIRS = {"samples": "sample_dirs", "losses": "train_dirs"}
_KINDS = ("references", "sample_dirs", "samples", "train_dirs", "losses", "benchmarks")
NUMBER_COLUMNS = ("seed", "steps", "value", "n", "parameters", "train_seconds", "sample_seconds", "eval_seconds")
LOSS_COLUMNS = ["dataset", "model", "size", "seed", "step", "loss"]


class UndeclaredInput(LookupError):
    """The report tried to read a file its rule does not declare."""


def all_runs(cfg: dict) -> list[Run]:
    return prior_runs(cfg) + diffusion_runs(cfg)


def declared_inputs(cfg: dict, results: str | Path) -> dict[str, list[str]]:
    """The report rule's inputs besides metrics.csv and summary.csv, by name.

    Sample files and the training-loss files are written inside a job's directory output (``samples/``,
    ``train/``), which a rule can only depend on as a whole: the report declares those directories (it reads
    these files only inside them). Listing the files themselves would change the rule's input set between a
    fresh run (not yet written) and the next one (written), and Snakemake would re-render the report for nothing.
    """
    runs, out = all_runs(cfg), Path(results)
    return {
        "references": [str(reference_file(out, d)) for d in sorted({r.dataset for r in runs})],
        "sample_dirs": [str(out / f) for f in sample_folders(runs)],
        "train_dirs": [str(out / f) for f in train_folders(r for r in runs if r.kind == "model")],
        "benchmarks": [str(out / s.folder / f"{job}.benchmark.tsv") for s in run_sets(runs)
                       for job in RUN_SET_BENCHMARKED_JOBS[s.kind]],
    }


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


@dataclass(frozen=True)
class ReportInputs:
    """The files of one report, as the rule declares them."""

    metrics: Path
    summary: Path
    references: frozenset[Path] = frozenset()
    sample_dirs: frozenset[Path] = frozenset()
    samples: frozenset[Path] = frozenset()
    train_dirs: frozenset[Path] = frozenset()
    losses: frozenset[Path] = frozenset()
    benchmarks: frozenset[Path] = frozenset()

    @classmethod
    def from_lists(cls, metrics: str | Path, summary: str | Path, lists: Mapping[str, list]) -> ReportInputs:
        """From the rule's named inputs (``snakemake.input``) or :func:`declared_inputs`."""
        sets = {k: frozenset(Path(p) for p in lists.get(k, [])) for k in _KINDS}
        return cls(Path(metrics), Path(summary), **sets)

    @classmethod
    def from_snakemake(cls, inputs: object) -> ReportInputs:
        """From a report job's ``snakemake.input``."""
        named = {k: list(getattr(inputs, k, [])) for k in _KINDS}
        return cls.from_lists(inputs.metrics, inputs.summary, named)

    @classmethod
    def for_results(cls, results: str | Path, cfg: dict) -> ReportInputs:
        """What the rule would declare for the suite whose results are in ``results`` (tests, re-rendering)."""
        results = Path(results)
        return cls.from_lists(results / "metrics.csv", results / "summary.csv", declared_inputs(cfg, results))

    @property
    def results(self) -> Path:
        """``results/<suite>/``: the folder holding metrics.csv and the run folders."""
        return self.metrics.parent

    def _declared(self, path: Path, kind: str) -> Path:
        listed = getattr(self, kind)
        holders = getattr(self, _HOLDING_DIRS[kind]) if kind in _HOLDING_DIRS else ()
        if path not in listed and not any(d in path.parents for d in holders):
            raise UndeclaredInput(f"the report reads {path}, which the report rule does not declare ({kind})")
        return path

    # ----------------------------------------------------------------------------------------------------
    # Readers (a missing or unreadable file is logged and read as None / empty: the page says so)

    def metrics_frame(self) -> pd.DataFrame:
        return load_metrics(self.metrics)

    def _arrays(self, path: Path) -> dict | None:
        try:
            return load_npz(path)
        except (OSError, ValueError) as err:
            say(f"report: cannot read {path}: {err}")
            return None

    def reference(self, dataset: str) -> dict | None:
        """Arrays of a dataset's held-out reference set (``x``, and ``y`` for labelled data)."""
        return self._arrays(self._declared(reference_file(self.results, dataset), "references"))

    def samples_of(self, run: Run, sampler: str, steps: int) -> dict | None:
        """Arrays of one sample file of a run (``x``, ``y`` for conditional data, ``seconds``)."""
        return self._arrays(self._declared(sample_file(self.results / run.folder, sampler, steps), "samples"))

    def losses_frame(self, runs: list[Run]) -> pd.DataFrame:
        """Training-loss curves of ``runs``: columns dataset, model, size, seed, step, loss."""
        rows = []
        for run in runs:
            path = self._declared(self.results / run.folder / "losses.npz", "losses")
            data = self._arrays(path) if path.is_file() else None
            if data is not None:
                rows += [{"dataset": run.dataset, "model": run.name, "size": run.size, "seed": run.seed,
                          "step": int(s), "loss": float(v)} for s, v in zip(data["step"], data["loss"])]
        return pd.DataFrame(rows, columns=LOSS_COLUMNS)

    def benchmark(self, run_set: RunSet, job: str) -> pd.Series | None:
        """The last row of the benchmark file (s, cpu_time, max_rss, …) of a run set's job, or None."""
        path = self._declared(self.results / run_set.folder / f"{job}.benchmark.tsv", "benchmarks")
        if not path.is_file():
            return None
        try:
            return pd.read_csv(path, sep="\t").iloc[-1]
        except (OSError, ValueError, IndexError, pd.errors.ParserError) as err:
            say(f"report: cannot read {path}: {err}")
            return None


def points(arrays: dict | None) -> np.ndarray | None:
    """The ``x`` array of a 2D file (N×d), or None."""
    return None if arrays is None else arrays.get("x")


def images(arrays: dict | None) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Images (N×C×H×W) and labels (or None) of a file; None when missing or not images."""
    x = None if arrays is None else arrays.get("x")
    if x is None or x.ndim != 4:
        return None
    return x, arrays.get("y")
