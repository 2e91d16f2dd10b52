"""Suite configs validate; bad ones fail early with a message naming the key; runs resolve (rpd.config).

Names (datasets, experiments, models) are read from benchmarks/ci.yaml where possible, so that the tests
follow edits to the suite file; the run-resolution tests use a controlled set of models and experiments.
"""

from __future__ import annotations

import copy
import itertools
import re
import shutil

import pytest
import yaml

from rpd.config import ConfigError, load_config, load_schema, typed_overrides, validate_config
from rpd.runs import Run, diffusion_runs, excluded, prior_run_of, prior_runs, run_config, sampling_grid
from suite import REPO, dry_run, snakemake_cli

BENCH = REPO / "benchmarks"
BAD_SUITE = "badcfg_test"
SUITES = ["ci", "quick", "paper"]


@pytest.fixture
def raw() -> dict:
    """benchmarks/ci.yaml as written (no defaults filled in)."""
    with open(BENCH / "ci.yaml") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def ci() -> dict:
    return load_config(BENCH / "ci.yaml")


def _suite_or_skip(suite: str) -> dict:
    path = BENCH / f"{suite}.yaml"
    if not path.exists():
        pytest.skip(f"{path.name} does not exist")
    return load_config(path)


@pytest.mark.parametrize("suite", SUITES)
def test_suite_files_validate(suite):
    cfg = _suite_or_skip(suite)
    assert cfg["suite"] == suite
    # defaults are filled in
    for key in ("T", "beta_schedule", "n_eval", "threads", "sample_batch_size"):
        assert key in cfg
    for m in cfg["models"].values():
        assert {"target", "aux"} <= set(m)
        if m["family"] != "ddpm":
            assert "prior_size" in m


def test_defaults_do_not_mutate_input(raw):
    raw["training"].pop("warmup", None)
    before = copy.deepcopy(raw)
    cfg = validate_config(raw)
    assert raw == before
    assert cfg["training"]["warmup"] == 100 and "warmup" not in raw["training"]


# --------------------------------------------------------------------------- bad configs


def _rename(cfg, path, new):
    *head, last = path
    for k in head:
        cfg = cfg[k]
    cfg[new] = cfg.pop(last)


def _error(cfg) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return str(info.value)


def _assert_mentions(msg: str, *needles: str):
    for n in needles:
        assert n in msg, f"{n!r} not in message:\n{msg}"


def _names(raw):
    """(datasets, experiments, models with a prior, DDPM models) of the suite file."""
    families = {name: m["family"] for name, m in raw["models"].items()}
    with_prior = [n for n, f in families.items() if f != "ddpm"]
    ddpm = [n for n, f in families.items() if f == "ddpm"]
    return list(raw["datasets"]), list(raw["experiments"]), with_prior, ddpm


def _blocks(node):
    """(first sampling block, key-path suffix): sampling is a list of (samplers × steps) blocks or one block."""
    return (node[0], ".0") if isinstance(node, list) else (node, "")


def _sampling_node(raw, where):
    if where == "suite":
        return raw["sampling"], "sampling"
    exp = _names(raw)[1][-1]
    raw["experiments"][exp].setdefault("sampling", copy.deepcopy(raw["sampling"]))
    return raw["experiments"][exp]["sampling"], f"experiments.{exp}.sampling"


def test_unknown_dataset_in_experiment(raw):
    datasets, exps, _, _ = _names(raw)
    raw["experiments"][exps[-1]]["datasets"] = [datasets[0], "dino-grid-9"]
    _assert_mentions(_error(raw), f"experiments.{exps[-1]}.datasets", "dino-grid-9", *datasets)


def test_unknown_model_in_experiment(raw):
    _, exps, with_prior, ddpm = _names(raw)
    raw["experiments"][exps[0]]["models"].append("rdp")
    _assert_mentions(_error(raw), f"experiments.{exps[0]}.models", "'rdp'", *with_prior, *ddpm)


def test_misspelt_top_level_key(raw):
    _rename(raw, ["seeds"], "seeeds")
    msg = _error(raw)
    _assert_mentions(msg, "seeeds", "'seeds'", "unknown key")


def test_misspelt_nested_key(raw):
    _rename(raw, ["training", "steps"], "stpes")
    # the path is given as the parent key plus the unknown name, and the allowed keys are listed
    _assert_mentions(_error(raw), "'training'", "stpes", "'steps'", "'batch_size'", "unknown key")


@pytest.mark.parametrize("where", ["suite", "experiment"])
def test_zero_steps(raw, where):
    node, path = _sampling_node(raw, where)
    block, suffix = _blocks(node)
    block["steps"] = [0, 3]
    _assert_mentions(_error(raw), f"{path}{suffix}.steps", ">= 1")


@pytest.mark.parametrize("where", ["suite", "experiment"])
def test_steps_above_T(raw, where):
    raw["T"] = 1000
    node, path = _sampling_node(raw, where)
    block, suffix = _blocks(node)
    block["steps"] = [3, 1001]
    _assert_mentions(_error(raw), f"{path}{suffix}.steps", "1001", "T = 1000", "1 ≤ K ≤ T")


def test_steps_above_smaller_T(raw):
    raw["T"] = 100
    for x in raw["experiments"].values():
        x.pop("sampling", None)
    raw["sampling"] = [{"samplers": ["ddim"], "steps": [1, 100]}] if isinstance(raw["sampling"], list) else {
        "samplers": ["ddim"], "steps": [1, 100]}
    validate_config(raw)  # K = T is allowed
    block, suffix = _blocks(raw["sampling"])
    block["steps"] = [1, 101]
    _assert_mentions(_error(raw), f"sampling{suffix}.steps", "T = 100")


@pytest.mark.parametrize("scale", [0, -1, -0.5])
def test_nonpositive_scale(raw, scale):
    ds = [d for d, spec in raw["datasets"].items() if spec["kind"] == "grid"][-1]
    raw["datasets"][ds]["scale"] = scale
    _assert_mentions(_error(raw), f"datasets.{ds}.scale", "> 0")


def test_unknown_family(raw):
    name = _names(raw)[2][0]
    raw["models"][name]["family"] = "rpd2"
    _assert_mentions(_error(raw), f"models.{name}.family", "'rpd2'", "rpd", "ddpm", "diffusevae1", "diffusevae2")


def test_unknown_dataset_kind(raw):
    ds = _names(raw)[0][0]
    raw["datasets"][ds]["kind"] = "images"
    _assert_mentions(_error(raw), f"datasets.{ds}.kind", "'images'", "grid")


def test_unknown_prior_reference(raw):
    name = _names(raw)[2][-1]
    raw["models"][name]["prior"] = "vqvea"
    _assert_mentions(_error(raw), f"models.{name}.prior", "'vqvea'", *raw["priors"])


def test_missing_prior_reference(raw):
    name = _names(raw)[2][0]
    del raw["models"][name]["prior"]
    _assert_mentions(_error(raw), f"models.{name}.prior", *raw["priors"])


def test_ddpm_takes_no_prior(raw):
    name = _names(raw)[3][0]
    raw["models"][name]["prior"] = next(iter(raw["priors"]))
    _assert_mentions(_error(raw), f"models.{name}.prior")


@pytest.mark.parametrize("key", ["networks", "prior_sizes", "image_networks", "image_prior_sizes"])
def test_two_names_of_one_network_are_refused(raw, key):
    """Sizes are told apart by parameter count: a second name for the same network names both keys and the fix."""
    raw[key]["alpha"] = dict(raw[key]["std"])
    fix = "channels" if "channels" in raw[key]["std"] else "hidden or depth"
    _assert_mentions(_error(raw), f"{key}.alpha", f"the same network as '{key}.std'", f"other {fix}")


@pytest.mark.parametrize("small", [{"hidden": 64, "depth": 2}, {"hidden": 16, "depth": 3}])
def test_a_size_named_small_may_be_the_larger_network(raw, small):
    """Names say nothing about size (the report orders sizes by parameter count): a wider 'small' is valid."""
    raw["networks"]["std"] = {"hidden": 32, "depth": 2}
    raw["networks"]["small"] = small
    validate_config(raw)


def test_small_smaller_than_std_is_fine(raw):
    raw["networks"]["std"] = {"hidden": 32, "depth": 2}
    raw["networks"]["small"] = {"hidden": 32, "depth": 1}
    validate_config(raw)


def test_several_errors_are_all_reported(raw):
    _, exps, with_prior, _ = _names(raw)
    raw["experiments"][exps[0]]["models"].append("nope")
    raw["models"][with_prior[0]]["prior"] = "nope_prior"
    _assert_mentions(_error(raw), f"experiments.{exps[0]}.models", f"models.{with_prior[0]}.prior")


# --------------------------------------------------------------------------- the workflow stops early


def _snakemake(*args, timeout=180):
    return snakemake_cli(*args, workdir=REPO, timeout=timeout, cwd=REPO)


def _set_scale(cfg):
    ds = list(cfg["datasets"])[0]
    cfg["datasets"][ds]["scale"] = -1
    return f"datasets.{ds}.scale"


def _set_kind(cfg):
    ds = list(cfg["datasets"])[-1]
    cfg["datasets"][ds]["kind"] = "mnist"
    return f"datasets.{ds}.kind"


@pytest.fixture
def no_bad_results():
    out = REPO / "results" / BAD_SUITE
    assert not out.exists(), f"{out} exists before the test; remove it"
    yield out
    existed = out.exists()
    if existed:  # only ever created if validation is broken; do not leave it behind
        shutil.rmtree(out)
    assert not existed, f"{out} was created by a bad config"


@pytest.mark.parametrize(
    "mutate,dry",
    [
        (_set_scale, True),
        (_set_kind, True),
        # without -n: a valid config would start jobs; a bad one must stop while parsing
        (_set_scale, False),
    ],
)
def test_workflow_rejects_bad_config(raw, tmp_path, no_bad_results, mutate, dry):
    raw["suite"] = BAD_SUITE
    key = mutate(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    proc = _snakemake("--cores", "1", "--configfile", str(path), *(["-n"] if dry else ["--nolock"]))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert key in out, out
    assert "WorkflowError" in out and "invalid config" in out, out
    assert "Building DAG" not in out and "Job stats" not in out, out  # stopped before the DAG


def test_workflow_dry_run_ci():
    proc = _snakemake("-n", "--cores", "1", "--configfile", str(BENCH / "ci.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- run resolution


def _sampling(raw, samplers, steps):
    """A sampling entry in the format the schema uses (a list of blocks, or a single block)."""
    block = {"samplers": samplers, "steps": steps}
    return [block] if isinstance(raw["sampling"], list) else block


@pytest.fixture
def controlled(raw) -> dict:
    """ci.yaml's datasets and sizes with a fixed set of priors, models, sampling and experiments."""
    assert len(raw["datasets"]) >= 2
    ds0, ds1 = list(raw["datasets"])[:2]
    raw["seeds"] = [0]
    raw["T"] = 1000
    raw["priors"] = {"vqvae": {"kind": "vqvae", "codes": 4}, "betavae": {"kind": "betavae"}}
    raw["models"] = {
        "rpd": {"family": "rpd", "prior": "vqvae"},
        "rpd_v": {"family": "rpd", "prior": "vqvae", "target": "v"},
        "ddpm": {"family": "ddpm"},
        "diffusevae1": {"family": "diffusevae1", "prior": "betavae"},
        "diffusevae2": {"family": "diffusevae2", "prior": "betavae", "prior_size": "small"},
    }
    raw["sampling"] = _sampling(raw, ["ddpm", "ddim"], [1, 3, 10])
    raw["experiments"] = {
        "e1": {"datasets": [ds0], "models": list(raw["models"]), "sizes": ["std", "small"]},
        "e7": {"datasets": [ds0, ds1], "models": ["rpd", "ddpm"], "sizes": ["std"],
               "sampling": _sampling(raw, ["ddim"], [10, 50])},
    }
    return raw


@pytest.mark.parametrize("suite", SUITES)
def test_diffusion_runs_cover_each_experiment(suite):
    cfg = _suite_or_skip(suite)
    runs = diffusion_runs(cfg)
    got = [(r.dataset, r.name, r.size, r.seed) for r in runs]
    expected = {
        (d, m, s, seed)
        for x in cfg["experiments"].values()
        for d, m, s, seed in itertools.product(x["datasets"], x["models"], x["sizes"], x.get("seeds", cfg["seeds"]))
        if seed in cfg["datasets"][d].get("seeds", [seed])  # a dataset's own seeds restrict its runs
        and not excluded(x, d, m)  # an experiment's `exclude` leaves (dataset, model) out
    }
    assert len(got) == len(set(got))  # no duplicates where experiments overlap
    assert set(got) == expected
    assert all(r.kind == "model" for r in runs)
    assert runs == diffusion_runs(cfg)  # stable order
    # every prior some run needs is in prior_runs, and nothing else
    assert set(prior_runs(cfg)) == {prior_run_of(cfg, r) for r in runs} - {None}


def test_diffusion_runs_controlled(controlled):
    cfg = validate_config(controlled)
    ds0, ds1 = list(cfg["datasets"])[:2]
    runs = diffusion_runs(cfg)
    assert len(runs) == 12  # e1: 1×5×2 = 10, e7: 2×2×1 = 4, overlap 2
    assert Run("model", ds1, "rpd", "std", 0) in runs
    assert Run("model", ds1, "rpd", "small", 0) not in runs
    assert Run("model", ds1, "rpd_v", "std", 0) not in runs
    controlled["seeds"] = [0, 3]
    runs = diffusion_runs(validate_config(controlled))
    assert len(runs) == 24 and {r.seed for r in runs} == {0, 3}


def test_experiment_seeds_override(controlled):
    controlled["experiments"]["e7"]["seeds"] = [0, 1]
    cfg = validate_config(controlled)
    ds0, ds1 = list(cfg["datasets"])[:2]
    runs = diffusion_runs(cfg)
    assert len(runs) == 16  # e1: 10, e7: 2×2×1×2 = 8, overlap 2
    assert Run("model", ds1, "rpd", "std", 1) in runs
    assert Run("model", ds0, "rpd_v", "std", 1) not in runs  # e1 keeps the suite's seeds
    assert Run("prior", ds1, "vqvae", "std", 1) in prior_runs(cfg)


def test_prior_resolution(controlled):
    cfg = validate_config(controlled)
    ds0, ds1 = list(cfg["datasets"])[:2]
    ddpm = Run("model", ds0, "ddpm", "std", 0)
    rpd = Run("model", ds1, "rpd", "std", 0)
    dvae = Run("model", ds0, "diffusevae2", "std", 0)
    assert prior_run_of(cfg, ddpm) is None
    assert run_config(cfg, ddpm)["prior_run"] is None
    assert prior_run_of(cfg, rpd) == Run("prior", ds1, "vqvae", "std", 0)
    rc = run_config(cfg, rpd)
    assert rc["kind"] == "model"
    assert rc["model"]["name"] == "rpd" and rc["model"]["family"] == "rpd"
    assert rc["prior_run"]["kind"] == "prior"
    assert rc["prior_run"]["prior"]["name"] == "vqvae" and rc["prior_run"]["prior"]["kind"] == "vqvae"
    assert rc["prior_run"]["dataset"]["name"] == ds1 and rc["prior_run"]["seed"] == 0
    # the prior's size comes from the model's prior_size, not from the diffusion model's size
    assert prior_run_of(cfg, dvae) == Run("prior", ds0, "betavae", "small", 0)
    assert run_config(cfg, dvae)["network"] == cfg["networks"]["std"]
    assert run_config(cfg, dvae)["prior_run"]["network"] == cfg["prior_sizes"]["small"]
    assert {(p.dataset, p.name, p.size) for p in prior_runs(cfg)} == {
        (ds0, "vqvae", "std"), (ds0, "betavae", "std"), (ds0, "betavae", "small"), (ds1, "vqvae", "std")
    }


def test_sampling_grid_is_union_over_experiments(controlled):
    cfg = validate_config(controlled)
    ds0, ds1 = list(cfg["datasets"])[:2]
    both = Run("model", ds0, "rpd", "std", 0)  # in e1 and e7
    only_e1 = Run("model", ds0, "rpd", "small", 0)
    only_e7 = Run("model", ds1, "ddpm", "std", 0)
    e1 = set(itertools.product(["ddpm", "ddim"], [1, 3, 10]))
    assert set(sampling_grid(cfg, only_e1)) == e1
    assert set(sampling_grid(cfg, only_e7)) == {("ddim", 10), ("ddim", 50)}
    assert set(sampling_grid(cfg, both)) == e1 | {("ddim", 50)}
    assert sampling_grid(cfg, both) == sorted(sampling_grid(cfg, both))
    assert run_config(cfg, both)["sampling"] == [list(p) for p in sorted(e1 | {("ddim", 50)})]
    assert "sampling" not in run_config(cfg, prior_run_of(cfg, both))


def test_sampling_blocks_union(controlled):
    if not isinstance(controlled["sampling"], list):
        pytest.skip("sampling is a single block in this schema")
    controlled["sampling"] = [
        {"samplers": ["ddpm", "ddim"], "steps": [1, 3]},
        {"samplers": ["ddpm"], "steps": [1000]},
    ]
    cfg = validate_config(controlled)
    run = Run("model", list(cfg["datasets"])[0], "rpd", "small", 0)
    assert set(sampling_grid(cfg, run)) == {("ddpm", 1), ("ddpm", 3), ("ddim", 1), ("ddim", 3), ("ddpm", 1000)}


def test_ci_run_config_is_self_contained(ci):
    for run in diffusion_runs(ci) + prior_runs(ci):
        rc = run_config(ci, run)
        assert rc["suite"] == "ci" and rc["seed"] == run.seed and rc["size"] == run.size
        assert rc["dataset"]["name"] == run.dataset
        assert {k: v for k, v in rc["dataset"].items() if k != "name"} == ci["datasets"][run.dataset]
        yaml.safe_dump(rc)  # serialisable
        if run.kind == "model":
            assert rc["T"] == ci["T"] and rc["sampling"]
            assert all(1 <= k <= ci["T"] for _, k in rc["sampling"])


# --------------------------------------------------------------------------- open suites, overrides


def two_d_only(raw: dict) -> dict:
    """``raw`` (a suite as written) cut to its 2D datasets, with no image key at all."""
    images = [n for n, d in raw["datasets"].items() if d["kind"] != "grid"]
    for name in images:
        del raw["datasets"][name]
    for key in ("image_networks", "image_prior_sizes", "image_training", "image_prior_training", "kid"):
        raw.pop(key, None)
    for e, x in list(raw["experiments"].items()):
        x["datasets"] = [d for d in x["datasets"] if d not in images]
        if not x["datasets"]:
            del raw["experiments"][e]
    for model in raw["models"].values():
        model.pop("image_prior", None)
    raw["models"] = {n: m for n, m in raw["models"].items() if m.get("prior") in raw["priors"] or "prior" not in m}
    return raw


def test_two_d_only_suite_needs_no_image_keys(raw, tmp_path):
    suite = two_d_only(raw)
    assert not any(k.startswith("image_") or k == "kid" for k in suite)
    cfg = validate_config(suite)
    assert {r.dataset for r in diffusion_runs(cfg)} == {"dino-grid-0.1", "dino-grid-0.4"}
    path = tmp_path / "2d.yaml"
    path.write_text(yaml.safe_dump(suite))
    proc = snakemake_cli("-n", "--cores", "1", "--configfile", str(path), workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule feature_net" not in proc.stdout and "rule train_model" in proc.stdout


def _every_property(schema: dict, where: str = ""):
    """(where, name, property schema, required by its parent) for every key the schema accepts."""
    for name, sub in schema.get("properties", {}).items():
        yield f"{where}{name}", sub, name in schema.get("required", [])
        yield from _every_property(sub, f"{where}{name}.")
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from _every_property(schema[key], f"{where}<{key}>.")
    for branch in schema.get("allOf", []):
        yield from _every_property(branch.get("then", {}), where)
    for name, sub in schema.get("$defs", {}).items():
        yield from _every_property(sub, f"$defs.{name}.")


def test_schema_documents_every_key_with_description_and_default():
    """Each key says what it does; each optional key says its default: a `default` the validator fills in,
    or, where the default is another key's value, a description that says so (``Default: ...``)."""
    undocumented, no_default = [], []
    for where, sub, required in _every_property(load_schema()):
        if not sub.get("description"):
            undocumented.append(where)
        if not required and "default" not in sub and "Default:" not in sub.get("description", ""):
            no_default.append(where)
    assert undocumented == [] and no_default == []


def test_config_overrides_the_default_suite(tmp_path):
    """`--config key=value` with no --configfile: the default suite (quick) with that key changed."""
    proc = snakemake_cli("-n", "--cores", "2", "--config", "seeds=[1]", "device=cuda", workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    quick = yaml.safe_load((BENCH / "quick.yaml").read_text())
    assert quick["seeds"] == [0, 1, 2]
    assert "gpu=1" in proc.stdout  # device: cuda reached the training jobs' resources
    # the seeds reached the training jobs (one per run set; its seeds' run folders are a param, not in the log)
    expected = {f"results/quick/{r.folder}" for r in diffusion_runs(validate_config({**quick, "seeds": [1]}))}
    found = {d for j in dry_run(None, tmp_path / "api", {"seeds": [1]}) if j.rule == "train_model"
             for d in j.params["run_dirs"]}
    assert found == expected
    # E1's DDPM runs at the suite's seeds only (E3 and E5 keep their own seed lists): the override reached them
    assert "results/quick/dino-grid-0.1/ddpm-std/train/seed1" in found
    assert "results/quick/dino-grid-0.1/ddpm-std/train/seed2" not in found


def test_configfile_replaces_the_default_suite(raw, tmp_path):
    """A --configfile is the whole suite: nothing of quick's is merged in; --config still overrides it."""
    suite = two_d_only(raw)
    for x in suite["experiments"].values():
        x.pop("seeds", None)  # an experiment's own seeds stay its own (ci's E1 runs three): use the suite's
    path = tmp_path / "2d.yaml"
    path.write_text(yaml.safe_dump(suite))
    proc = snakemake_cli("-n", "--cores", "2", "--configfile", str(path), "--config", "seeds=[3]", workdir=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    datasets = set(re.findall(r"results/(\w+)/([^/\s]+)/train\.npz", proc.stdout))
    assert datasets == {("ci", "dino-grid-0.1"), ("ci", "dino-grid-0.4")}
    jobs = dry_run(path, tmp_path / "api", {"seeds": [3]})
    run_dirs = [d for j in jobs if j.rule in ("train_prior", "train_model") for d in j.params["run_dirs"]]
    assert run_dirs and {d.rsplit("/", 1)[1] for d in run_dirs} == {"seed3"}


def test_config_values_read_as_in_a_suite_file():
    # what Snakemake's --config parser hands over for `threads=2 seeds=[0,1] kid={subsets: 5, subset_size: null}`
    given = {"threads": 2, "suite": "quick", "seeds": ["0", "1"],
             "kid": {"subsets": "5", "subset_size": "null", "extractor": "feature-net"}, "training": {"lr": "1.0e-3"}}
    assert typed_overrides(given) == {"threads": 2, "suite": "quick", "seeds": [0, 1],
                                      "kid": {"subsets": 5, "subset_size": None, "extractor": "feature-net"},
                                      "training": {"lr": 1.0e-3}}


def test_missing_keys_are_reported_once(tmp_path):
    """jsonschema reports `required` once per missing key; the message lists them all, once."""
    (tmp_path / "bare.yaml").write_text("suite: bare\nT: 100\n")
    proc = snakemake_cli("-n", "--cores", "1", "--configfile", str(tmp_path / "bare.yaml"), workdir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    missing = "missing required key(s) ['seeds', 'datasets', 'priors', 'models', 'sampling', 'experiments']"
    assert out.count(missing) == 1, out


def test_bad_override_is_reported_once(tmp_path):
    proc = snakemake_cli("-n", "--cores", "1", "--config", "seeds=[-1]", workdir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and out.count("config key 'seeds.0'") == 1, out


@pytest.mark.parametrize("configfile", [None, "quick.yaml"])
def test_a_suite_override_that_renames_the_suite_file_is_refused(tmp_path, configfile):
    """`--config suite=ci` without ci's file would run quick's DAG under results/ci: refused, naming the fix."""
    given = ["--configfile", str(BENCH / configfile)] if configfile else []
    proc = snakemake_cli("-n", "--cores", "1", *given, "--config", "suite=ci", workdir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "config key 'suite'" in out and "--configfile benchmarks/ci.yaml" in out, out
    assert "quick.yaml" in out and not (tmp_path / "results").exists()
    same = snakemake_cli("-n", "--cores", "1", "--configfile", str(BENCH / "ci.yaml"), "--config", "suite=ci",
                         workdir=tmp_path)
    assert same.returncode == 0, same.stderr[-3000:]  # naming the file's own suite is fine
