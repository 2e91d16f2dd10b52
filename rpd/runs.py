"""The runs a suite asks for and the resolved config of each: what every job, the cost model and the report
enumerate (:func:`diffusion_runs`, :func:`prior_runs`) and what a job reads (:func:`run_config`).

A run is one trained model; its folder is :attr:`Run.folder` (the contract: rpd.layout).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rpd.config import MODALITY_KEYS, canonical, modality, n_eval_of
from rpd.data.specs import is_image_dataset
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.layout import run_folder


@dataclass(frozen=True)
class Run:
    """One trained model: a diffusion model (``kind='model'``) or a prior (``kind='prior'``)."""

    kind: str
    dataset: str
    name: str
    size: str
    seed: int

    @property
    def group_folder(self) -> str:
        """The folder of the run's (dataset, name, size) over all seeds, its run set's (rpd.runsets): the run
        folders sit in its ``train/``, beside the outputs of the other jobs that process every seed at once."""
        return f"{self.dataset}/{self.name}-{self.size}"

    @property
    def folder(self) -> str:
        return run_folder(self.group_folder, self.seed)


def excluded(experiment: dict, dataset: str, model: str) -> bool:
    """Whether the experiment's ``exclude`` list leaves out ``model`` on ``dataset``."""
    return {"dataset": dataset, "model": model} in experiment.get("exclude", [])


def experiment_runs(cfg: dict, experiment: dict) -> list[Run]:
    """The (dataset, model, size, seed) runs of one experiment; a dataset's own ``seeds`` (if set) restricts
    the seeds run on it, and ``exclude`` leaves out (dataset, model) combinations."""
    return [
        Run("model", d, m, s, seed)
        for d, m, s, seed in itertools.product(experiment["datasets"], experiment["models"], experiment["sizes"],
                                               experiment.get("seeds", cfg["seeds"]))
        if seed in cfg["datasets"][d].get("seeds", [seed]) and not excluded(experiment, d, m)
    ]


def diffusion_runs(cfg: dict) -> list[Run]:
    """Every run some experiment asks for (:func:`experiment_runs`), in a stable order."""
    runs = {r for x in cfg["experiments"].values() for r in experiment_runs(cfg, x)}
    return sorted(runs, key=lambda r: (r.dataset, r.name, r.size, r.seed))


def prior_run_of(cfg: dict, run: Run) -> Run | None:
    """The prior run a diffusion run depends on (same dataset and seed), if its family has a prior.

    On image datasets that is the model's ``image_prior`` when it has one, else its ``prior``.
    """
    model = cfg["models"][run.name]
    if model["family"] not in FAMILIES_WITH_PRIOR:
        return None
    images = is_image_dataset(cfg["datasets"][run.dataset])
    name = model.get("image_prior", model["prior"]) if images else model["prior"]
    return Run("prior", run.dataset, name, model["prior_size"], run.seed)


def prior_runs(cfg: dict) -> list[Run]:
    """Every prior needed by some diffusion run."""
    runs = {p for r in diffusion_runs(cfg) if (p := prior_run_of(cfg, r)) is not None}
    return sorted(runs, key=lambda r: (r.dataset, r.name, r.size, r.seed))


def experiment_pairs(cfg: dict, experiment: dict) -> set[tuple[str, int]]:
    """The (sampler, K) pairs of one experiment: the union of its sampling blocks (or the suite's)."""
    blocks = experiment.get("sampling", cfg["sampling"])
    return {(s, int(k)) for block in blocks for s, k in itertools.product(block["samplers"], block["steps"])}


def sampling_grid(cfg: dict, run: Run) -> list[tuple[str, int]]:
    """The (sampler, K) pairs to draw for a run: the union over the experiments that include it."""
    pairs = set()
    for x in cfg["experiments"].values():
        seeds = x.get("seeds", cfg["seeds"])
        seeds = [k for k in seeds if k in cfg["datasets"][run.dataset].get("seeds", [k])]
        if (run.dataset in x["datasets"] and run.name in x["models"] and run.size in x["sizes"]
                and run.seed in seeds and not excluded(x, run.dataset, run.name)):
            pairs |= experiment_pairs(cfg, x)
    return sorted(pairs)


# Keys of a run config that only sampling and evaluation read. They are left out of the training job's config
# (and so of its Snakemake params), so that adding a sampler, a K or a KID option does not retrain anything.
SAMPLING_ONLY_KEYS = {"model": ("sampling", "n_eval", "sample_batch_size", "kid"), "prior": ("kid",)}


def training_config(run: dict) -> dict:
    """The part of a resolved run config that decides the trained model (the run folder's config.json)."""
    return {k: v for k, v in run.items() if k not in SAMPLING_ONLY_KEYS[run["kind"]]}


def run_config(cfg: dict, run: Run) -> dict:
    """The resolved, self-contained config of one run: training, sampling and evaluation settings.

    The training job writes :func:`training_config` of it to the run folder as config.json.
    """
    dataset = {"name": run.dataset, **cfg["datasets"][run.dataset]}
    keys = MODALITY_KEYS[modality(dataset)]
    common = {
        "suite": cfg["suite"],
        "dataset": dataset,
        "seed": run.seed,
        "size": run.size,
        "n_eval": n_eval_of(cfg, run.dataset),
        "threads": cfg["threads"],
        "device": cfg["device"],
        "sample_batch_size": cfg["sample_batch_size"],
    }
    if cfg.get("precision", "fp32") != "fp32":  # only then: fp32 runs keep their config hashes (trained models)
        common["precision"] = cfg["precision"]
    if is_image_dataset(dataset):
        common["kid"] = cfg["kid"]
    if run.kind == "prior":
        return canonical({
            **common,
            "kind": "prior",
            "prior": {"name": run.name, **cfg["priors"][run.name]},
            "network": cfg[keys["prior_sizes"]][run.size],
            "training": cfg[keys["prior_training"]],
        })
    prior = prior_run_of(cfg, run)
    return canonical({
        **common,
        "kind": "model",
        "model": {"name": run.name, **cfg["models"][run.name]},
        "network": cfg[keys["networks"]][run.size],
        "training": cfg[keys["training"]],
        "T": cfg["T"],
        "beta_schedule": cfg["beta_schedule"],
        "sampling": [list(p) for p in sampling_grid(cfg, run)],
        "prior_run": None if prior is None else training_config(run_config(cfg, prior)),
    })
