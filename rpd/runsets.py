"""Run sets: the runs of one (dataset, name, size) over seeds, processed by one job.

A job process spends seconds importing torch, diffusers or POT before its first operation; training a 2D
network, sampling, evaluating, bounding or scoring the snapshots of one seed takes about as long. Every job
that works on runs (rule ``train_prior``, ``train_model``, ``sample_model``, ``evaluate``, ``progress``,
``elbo``) therefore takes a run set: every seed of one (dataset, name, size) in one process, one seed after the
other, its output in the set's folder ``results/<suite>/<dataset>/<name>-<size>/`` (rpd.layout: the run folders
are ``train/seed<k>/``). The price: a cluster trains a run set's seeds one after the other in one submission,
not at once. A killed training job's rerun resumes each seed from its checkpoint, kept until the whole set is
trained (rpd.stages.train_prior_runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rpd.layout import samples_dir, train_folder
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
    results folder: each run set's ``samples/``, which a prior's training job or a diffusion run set's sampling
    job writes whole."""
    return list(dict.fromkeys(str(samples_dir(r.folder).parent) for r in runs))


def train_folders(runs: Iterable[Run]) -> list[str]:
    """The directory outputs holding ``runs``' run folders, relative to the results folder: each run set's
    ``train/``, its training job's output."""
    return list(dict.fromkeys(train_folder(r.group_folder) for r in runs))


def rule_run_sets(cfg: dict) -> dict[str, dict[tuple[str, str, str], RunSet]]:
    """The run sets of each rule that works on runs, by (dataset, name, size): every prior and diffusion run is
    trained (``train_prior``, ``train_model``), every diffusion run sampled (``sample_model``), every prior and
    diffusion run evaluated (``evaluate``), the runs of E4 score their snapshots (``progress``), those of E8
    are bounded (``elbo``)."""
    covered = {"train_prior": prior_runs(cfg), "train_model": diffusion_runs(cfg), "sample_model": diffusion_runs(cfg),
               "evaluate": prior_runs(cfg) + diffusion_runs(cfg), "progress": _experiment_runs(cfg, "e4"),
               "elbo": _experiment_runs(cfg, "e8")}
    return {rule: {s.key: s for s in run_sets(runs)} for rule, runs in covered.items()}
