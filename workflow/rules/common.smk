# Config loading and validation, preflight, and the helpers that map wildcards to runs.
import os
import sys

from snakemake.utils import update_config

from rpd.config import (
    ConfigError,
    canonical,
    n_eval_of,
    suite_override_problem,
    typed_overrides,
    validate_config,
    with_default_suite,
)
from rpd.runs import prior_run_of, run_config, training_config
from rpd.codehash import code_hash
from rpd.data.specs import is_image_dataset
from rpd.preflight import (
    PreflightError,
    check,
    data_problems,
    profile_files,
    profile_problems,
)
from rpd.resources import (
    NETWORK_STAGES,
    TRAIN_STAGES,
    cluster_resources,
    needs,
    run_set_needs,
    wants_gpu,
)
from rpd.runsets import rule_run_sets, sample_folders, train_folders

# Without `--configfile` the suite is the default one (quick), and `--config key=value` overrides its keys, as
# in any Snakemake workflow. A given `--configfile` replaces the default suite instead of being merged into it
# (Snakemake merges nested dicts, which would silently mix two suites' datasets and models).
# `--config` values are read as in a suite file (Snakemake keeps the items of a list or dict as text).
OVERRIDES = typed_overrides(workflow.config_settings.config)
DEFAULT_SUITE = os.path.join(workflow.basedir, "benchmarks", "quick.yaml")
# `--config suite=X` would run the suite file's DAG under results/X: refused, the fix is X's --configfile.
_suite_problem = suite_override_problem(
    OVERRIDES, workflow.config_settings.configfiles or [DEFAULT_SUITE]
)
if _suite_problem:
    raise WorkflowError(_suite_problem)
if workflow.config_settings.configfiles:
    update_config(config, OVERRIDES)
else:
    merged = with_default_suite(OVERRIDES, DEFAULT_SUITE)
    config.clear()
    config.update(merged)

try:
    CFG = validate_config(config)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

SUITE = CFG["suite"]
OUT = f"results/{SUITE}"
RUN_SET = f"{OUT}/{{dataset}}/{{name}}-{{size}}"  # a run set's folder (rpd.runsets, rpd.layout)
SYNTHETIC = f"{OUT}/synthetic-"  # generated image folders (ci): results/<suite>/synthetic-<name>


# Preflight (rpd/preflight.py): the data, weights and profile values the jobs need, checked before any job is
# submitted (also in a dry run). Jobs that Snakemake spawns (on a cluster node, or a subprocess) skip it: the
# main process has checked, and a node may not see the login node's profile or paths.
def _raw_values(resources):
    return {
        name: getattr(value, "raw", value) for name, value in (resources or {}).items()
    }


if workflow.is_main_process:
    _profile_values = {
        "default-resources": _raw_values(workflow.resource_settings.default_resources)
    }
    for _rule, _values in workflow.resource_settings.overwrite_resources.items():
        _profile_values[_rule] = _raw_values(_values)
    _built = [
        d
        for d in CFG["datasets"]
        if all(os.path.exists(f"{OUT}/{d}/{f}.npz") for f in ("train", "reference"))
    ]
    try:
        check(
            data_problems(CFG, SYNTHETIC, done=_built)
            + profile_problems(_profile_values, profile_files(sys.argv))
        )
    except PreflightError as err:
        raise WorkflowError(str(err)) from None


# Every rule passes the hash of the code its script runs (rpd/codehash.py) as a param, so that Snakemake's
# params trigger reruns the jobs whose code changed; `--rerun-triggers mtime` keeps old results instead.
def script_code(script):
    return code_hash(os.path.join(workflow.basedir, "workflow", "scripts", script))


def _alternatives(names):
    return "|".join(sorted(names, key=len, reverse=True))


# Size names are free (the suite's networks / prior sizes, 2D and images).
SIZE_NAMES = {
    s
    for key in ("networks", "prior_sizes", "image_networks", "image_prior_sizes")
    for s in CFG.get(key, {})
}


wildcard_constraints:
    dataset=_alternatives(CFG["datasets"]).replace(".", r"\."),
    size=_alternatives(SIZE_NAMES),


MODEL_NAMES = _alternatives(CFG["models"])
PRIOR_NAMES = _alternatives(CFG["priors"])


# Every job that works on runs takes a run set: every seed of one (dataset, name, size) in one process
# (rpd/runsets.py; a process start costs seconds of imports). A run set's run folders are its training job's
# directory output `train/` (rpd.layout), which the later jobs take as their input.
RUN_SETS = rule_run_sets(CFG)


def run_set_of(rule_name, w):
    return RUN_SETS[rule_name][(w.dataset, w.name, w.size)]


def _priors(rule_name, w):
    """The prior run of each seed of the job's run set (None for DDPM)."""
    return [prior_run_of(CFG, r) for r in run_set_of(rule_name, w).runs]


def run_set_trained(rule_name):
    """Input function: the `train/` directory holding the run folders of the job's run set."""

    def folders(w):
        return [f"{OUT}/{f}" for f in train_folders(run_set_of(rule_name, w).runs)]

    return folders


def run_set_priors(rule_name):
    """Input function: the `train/` directory of the prior run set of the job's run set (none for DDPM)."""

    def folders(w):
        return [
            f"{OUT}/{f}" for f in train_folders(p for p in _priors(rule_name, w) if p)
        ]

    return folders


def run_set_samples(rule_name):
    """Input function: the directory outputs holding the job's run set's sample files (rpd.runsets)."""

    def folders(w):
        return [f"{OUT}/{f}" for f in sample_folders(run_set_of(rule_name, w).runs)]

    return folders


def run_set_dirs(rule_name):
    """Params function: the run folder of each seed of the job's run set."""

    def folders(w):
        return [f"{OUT}/{r.folder}" for r in run_set_of(rule_name, w).runs]

    return folders


def run_set_prior_models(rule_name):
    """Params function: the prior model file of each seed of the job's run set (None for DDPM)."""

    def files(w):
        return [p and f"{OUT}/{p.folder}/model.pt" for p in _priors(rule_name, w)]

    return files


def run_set_configs(rule_name):
    """Params function: the resolved config of each seed's run (sampling grid, N, KID settings)."""

    def configs(w):
        return [run_config(CFG, r) for r in run_set_of(rule_name, w).runs]

    return configs


def run_set_training_configs(rule_name):
    """Params function: what a training job sees of each seed's run config (no sampling or KID keys: a new
    sampler, K or KID setting must not retrain)."""

    def configs(w):
        return [training_config(c) for c in run_set_configs(rule_name)(w)]

    return configs


def collected_files(w):
    """Every run set's metrics.csv, then the E8 bounds and the E4 snapshot scores: what collect concatenates."""
    outputs = {
        "evaluate": "metrics.csv",
        "elbo": "elbo.csv",
        "progress": "progress.csv",
    }
    return [
        f"{OUT}/{s.folder}/{outputs[r]}" for r in outputs for s in RUN_SETS[r].values()
    ]


def generated_image_folder(w):
    """A generated image folder (ci) is built by rule synthetic_image_folder; a user's folder is read as
    configured, so that a missing one gets the loader's message listing the sources tried.
    """
    folder = CFG["datasets"][w.dataset].get("folder")
    return [folder] if folder and folder.startswith(SYNTHETIC) else []


def dataset_spec(w):
    return canonical(CFG["datasets"][w.dataset])


def dataset_n_eval(w):
    return n_eval_of(CFG, w.dataset)


def feature_net_spec(w):
    """The spec of the dataset a feature net trains on, with its name (for the job's log lines)."""
    return canonical({"name": w.dataset, **CFG["datasets"][w.dataset]})


def feature_net_file(w):
    """The KID feature net an image run's evaluation needs (none for 2D data or other extractors)."""
    if (
        is_image_dataset(CFG["datasets"][w.dataset])
        and CFG["kid"]["extractor"] == "feature-net"
    ):
        return [f"{OUT}/{w.dataset}/feature-net/model.pt"]
    return []


# Cluster resources of every job, in Snakemake's standard names: mem_mb, runtime (minutes), cpus_per_task,
# and gpu (one per job that runs a network when the config says `device: cuda`; the Slurm plugin turns it into --gpus,
# locally `--resources gpu=N` caps how many run at once). The estimates (rpd/resources.py) scale with the
# suite and grow with each retry (attempt; a training job's time does not, it resumes). Site settings (partition, account, GPU model) belong in the
# profile (workflow/profiles/), never here.
def _stage_run(stage):
    """What the estimate of a job not tied to a run set reads of the config (None: nothing)."""
    return {"device": CFG["device"]} if stage == "feature_net" else None


def _images(w):
    return "dataset" in w.keys() and is_image_dataset(CFG["datasets"][w.dataset])


def _stage_needs(stage, w, set_job):
    if set_job is None:
        return needs(stage, _stage_run(stage), _images(w))
    runs = run_set_of(set_job, w).runs
    return run_set_needs([needs(stage, run_config(CFG, r), _images(w)) for r in runs])


def _gpus(stage):
    """The `gpu` resource of a job of ``stage``: 1 when it runs a network on a `device: cuda` suite, else 0."""

    def value(w):
        return int(wants_gpu(stage, CFG["device"], _images(w)))

    return value


def _per_attempt(stage, name, run_set_rule):
    """The resource ``name`` (mem_mb or runtime) of a job of ``stage``, grown for its ``attempt``-th try (a
    training job's time is not: its retry resumes from the checkpoints)."""

    def value(w, attempt):
        need = _stage_needs(stage, w, run_set_rule)
        return cluster_resources(need, attempt, resumes=stage in TRAIN_STAGES)[name]

    return value


def job_resources(stage, run_set_rule=None):
    """The `resources:` of the rule for ``stage`` (one of rpd.resources.STAGES); ``run_set_rule`` names the
    rule's RUN_SETS entry when a job processes a run set (its seeds one after the other).
    """
    threaded = stage in ("train_prior", "train_model", "sample", "elbo")
    resources = {
        "mem_mb": _per_attempt(stage, "mem_mb", run_set_rule),
        "runtime": _per_attempt(stage, "runtime", run_set_rule),
        "cpus_per_task": CFG["threads"] if threaded else 1,
    }
    if CFG["device"] == "cuda" and (stage in NETWORK_STAGES or stage == "evaluate"):
        resources["gpu"] = _gpus(stage)
    return resources
