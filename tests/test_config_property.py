"""Property: the config validator and the workflow agree on generated configs (rpd.config).

Configs are mutations of benchmarks/ci.yaml (keys dropped or renamed, values replaced by other values or
types, numbers pushed out of range, plus changes that keep the config valid). For each one:
* the validator either accepts it or raises ConfigError, never anything else;
* accepted: the workflow builds its DAG (a Snakemake dry run succeeds);
* rejected: every problem line names a config key, and the workflow fails with the same message;
* neither creates a results folder.
Dry runs go through the Snakemake Python API in-process (~0.5 s each instead of ~4 s for the command).

`make test-fast` checks the fixed examples (an accepted config and two rejected ones) and a few generated ones;
the full exploration (25 generated configs, ~15 s) is marked slow and runs in `make test`.
"""

from __future__ import annotations

import copy
import os
import re

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from snakemake.exceptions import WorkflowError

from rpd.config import ConfigError, validate_config
from suite import REPO, dry_run, write_config

with open(REPO / "benchmarks" / "ci.yaml") as f:
    BASE = yaml.safe_load(f)

# Fixed examples by default (CI is deterministic); RPD_PROPERTY_RANDOM=1 RPD_PROPERTY_EXAMPLES=500 explores.
MAX_EXAMPLES = int(os.environ.get("RPD_PROPERTY_EXAMPLES", "25"))
FAST_EXAMPLES = 4  # the fast check's generated configs, besides its fixed examples


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of ``node`` (dict keys and list indices), parents before children."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    out = []
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


PATHS = _paths(BASE)
DICT_KEY_PATHS = [p for p in PATHS if isinstance(p[-1], str)]


def _lookup(cfg: object, path: tuple) -> object:
    for key in path:
        cfg = cfg[key]
    return cfg


NUMBER_PATHS = [p for p in PATHS if isinstance(_lookup(BASE, p), (int, float)) and not isinstance(_lookup(BASE, p), bool)]

# Changes that keep the config valid, so that the "accepted" branch is exercised too.
BENIGN = [
    (("T",), 500), (("beta_schedule",), "cosine"), (("seeds",), [0, 1]), (("n_eval",), 128),
    (("training", "steps"), 50), (("datasets", "dino-grid-0.4", "scale"), 0.2), (("models", "rpd", "target"), "v"),
    (("sampling", 0, "steps"), [1, 2]), (("threads",), 2), (("priors", "vqvae", "codes"), 8),
]

VALUES = st.one_of(
    st.integers(-3, 3000),
    st.floats(-2, 2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "dino", "ddim", "std", "1e-3", "cosine", "vqvae", "rpd", "E1"]),
    st.none(),
    st.booleans(),
    st.lists(st.integers(-1, 20), max_size=3),
    st.just({}),
)

MUTATIONS = st.one_of(
    st.tuples(st.just("drop"), st.sampled_from(PATHS)),
    st.tuples(st.just("rename"), st.sampled_from(DICT_KEY_PATHS), st.sampled_from(["_x", "s", "-", "X"])),
    st.tuples(st.just("set"), st.sampled_from(PATHS), VALUES),
    st.tuples(st.just("number"), st.sampled_from(NUMBER_PATHS), st.sampled_from([-1, 0, 0.5, 1.5, 10**9])),
    # a dataset renamed everywhere it is used: names a run folder or a suite-level file could collide with
    st.tuples(st.just("rename_dataset"), st.sampled_from([(d,) for d in BASE["datasets"]]),
              st.sampled_from(["metrics.csv", "summary.csv", "collect.log", "d", "dino-grid-0.1.v2", "DINO", "rpd-std"])),
)
BENIGN_MUTATIONS = st.sampled_from(BENIGN).map(lambda change: ("set", *change))
CONFIGS = st.one_of(st.lists(BENIGN_MUTATIONS, min_size=1, max_size=3),
                    st.lists(st.one_of(MUTATIONS, BENIGN_MUTATIONS), min_size=1, max_size=3))


def mutate(base: dict, mutations: list[tuple]) -> dict:
    """Apply the mutations in order; one whose path no longer exists is skipped."""
    cfg = copy.deepcopy(base)
    for kind, path, *arg in mutations:
        try:
            parent = cfg["datasets"] if kind == "rename_dataset" else _lookup(cfg, path[:-1])
            key = path[-1]
            if kind == "drop":
                del parent[key]
            elif kind == "rename":
                parent[key + arg[0]] = parent.pop(key)
            elif kind == "set":
                parent[key] = copy.deepcopy(arg[0])
            elif kind == "rename_dataset":
                cfg["datasets"][arg[0]] = cfg["datasets"].pop(key)
                for experiment in cfg["experiments"].values():
                    experiment["datasets"] = [arg[0] if d == key else d for d in experiment["datasets"]]
            elif kind == "number":
                parent[key] = parent[key] * arg[0] if arg[0] > 1 else arg[0]
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
    return cfg


SETTINGS = {"deadline": None, "derandomize": "RPD_PROPERTY_RANDOM" not in os.environ,
            "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}


@pytest.mark.slow
@settings(max_examples=MAX_EXAMPLES, **SETTINGS)
@given(mutations=CONFIGS)
def test_validator_and_workflow_agree(mutations, tmp_path_factory):
    check_agreement(mutations, tmp_path_factory)


@settings(max_examples=FAST_EXAMPLES, **SETTINGS)
@given(mutations=CONFIGS)
@example(mutations=[("set", ("T",), 500)])
@example(mutations=[("rename", ("training", "lr"), "_x")])
@example(mutations=[("rename_dataset", ("dino-grid-0.4",), "metrics.csv")])  # once accepted, then failed the DAG
def test_validator_and_workflow_agree_on_the_fixed_examples_and_a_few_more(mutations, tmp_path_factory):
    check_agreement(mutations, tmp_path_factory)


def check_agreement(mutations: list[tuple], tmp_path_factory: pytest.TempPathFactory) -> None:
    """The validator accepts the mutated config and its dry run succeeds, or rejects it with a message whose
    every line names a key and the dry run fails with that message; no results folder either way."""
    cfg = yaml.safe_load(yaml.safe_dump(mutate(BASE, mutations)))  # exactly what Snakemake will read
    workdir = tmp_path_factory.mktemp("dry")
    config = write_config(cfg, workdir / "config.yaml")
    try:
        validate_config(cfg)
    except ConfigError as err:
        message = str(err)
        event("rejected")
        lines = message.splitlines()
        assert lines[0] == "invalid config:" and len(lines) > 1, message
        for line in lines[1:]:
            assert re.match(r"\s+config keys? '[^']*'", line), f"problem without a key: {line!r}"
        with pytest.raises(WorkflowError) as info:
            dry_run(config, workdir)
        assert message in str(info.value)
    else:
        event("accepted")
        dry_run(config, workdir)  # the DAG builds: no error
    assert not (workdir / "results").exists()
