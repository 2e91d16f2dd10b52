"""Run sets: the runs of one (dataset, name, size) over seeds, processed by one job.

A job process spends seconds importing torch, diffusers or POT before its first operation; sampling, evaluating,
bounding or scoring the snapshots of one seed takes about as long. The jobs that read trained runs without
training them (rule ``sample_model``, ``evaluate``, ``progress``, ``elbo``) therefore take a run set: every seed
of one (dataset, name, size) in one process, their outputs in the set's folder,
``results/<suite>/<dataset>/<name>-<size>/`` (the run folders ``seed<k>/`` sit in it). Training stays one job
per seed: a cluster trains the seeds at once, and a killed job loses one seed's work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rpd.layout import samples_dir
from rpd.runs import Run, diffusion_runs, experiment_runs, prior_runs


@dataclass(frozen=True)
class RunSet:
    """The runs of one (kind, dataset, name, size), seeds ascending."""

    kind: str
    dataset: str
    name: str
    size: str
    seeds: tuple[int, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        """(dataset, name, size): what the job's wildcards say (a name is a prior's or a model's, never both)."""
        return self.dataset, self.name, self.size

    @property
    def runs(self) -> list[Run]:
        return [Run(self.kind, self.dataset, self.name, self.size, seed) for seed in self.seeds]

    @property
    def folder(self) -> str:
        return self.runs[0].group_folder


def run_sets(runs: Iterable[Run]) -> list[RunSet]:
    """The runs grouped by (kind, dataset, name, size), in a stable order."""
    seeds: dict[tuple[str, str, str, str], set[int]] = {}
    for r in runs:
        seeds.setdefault((r.kind, r.dataset, r.name, r.size), set()).add(r.seed)
    return [RunSet(*key, tuple(sorted(s))) for key, s in sorted(seeds.items())]


def _experiment_runs(cfg: dict, experiment: str) -> list[Run]:
    x = cfg["experiments"].get(experiment)
    return [] if x is None else experiment_runs(cfg, x)


def sample_folders(runs: Iterable[Run]) -> list[str]:
    """The directory outputs holding ``runs``' sample files (:func:`rpd.layout.samples_dir`), relative to the
    results folder: a prior's training job draws its seed's samples (``samples/seed<k>``), the sampling job of a
    diffusion run set writes the set's whole ``samples/``."""
    folders = [samples_dir(r.folder) if r.kind == "prior" else samples_dir(r.folder).parent for r in runs]
    return list(dict.fromkeys(str(f) for f in folders))


def rule_run_sets(cfg: dict) -> dict[str, dict[tuple[str, str, str], RunSet]]:
    """The run sets of each rule whose job takes one, by (dataset, name, size): every diffusion run is sampled
    (``sample_model``), every prior and diffusion run evaluated (``evaluate``), the runs of E4 score their
    snapshots (``progress``), those of E8 are bounded (``elbo``)."""
    covered = {"sample_model": diffusion_runs(cfg), "evaluate": prior_runs(cfg) + diffusion_runs(cfg),
               "progress": _experiment_runs(cfg, "e4"), "elbo": _experiment_runs(cfg, "e8")}
    return {rule: {s.key: s for s in run_sets(runs)} for rule, runs in covered.items()}
