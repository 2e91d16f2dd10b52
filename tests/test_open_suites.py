"""Open suites (rpd.config, the schema, the report): free size names, new experiment ids with the claim they
test. That the schema documents every key it accepts is checked in tests/test_config.py."""

from __future__ import annotations

import copy

import pytest
import yaml

from rpd.config import ConfigError, validate_config
from rpd.runs import diffusion_runs, prior_runs
from suite import REPO, dry_run, write_config


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load((REPO / "benchmarks" / "ci.yaml").read_text())


def two_d_only(raw: dict) -> dict:
    """ci.yaml without its image datasets, image keys and image-only experiments."""
    for d in ("fmnist-8", "butterflies-8"):
        del raw["datasets"][d]
    for key in ("image_prior_sizes", "image_prior_training", "image_networks", "image_training", "kid"):
        del raw[key]
    raw["experiments"] = {e: x for e, x in raw["experiments"].items() if e in ("e1", "e7", "e8")}
    for m in raw["models"].values():
        m.pop("image_prior", None)
    del raw["models"]["rpd_ps"]
    return raw


def test_size_names_are_free(raw):
    raw = two_d_only(raw)
    raw["networks"] = {"base": {"hidden": 32, "depth": 2}, "xl": {"hidden": 64, "depth": 3}}
    raw["prior_sizes"] = {"base": {"hidden": 32, "depth": 2}}
    for m in raw["models"].values():
        m["prior_size"] = "base"
    for x in raw["experiments"].values():
        x["sizes"] = ["base", "xl"]
    cfg = validate_config(raw)
    assert {r.size for r in diffusion_runs(cfg)} == {"base", "xl"}
    assert {r.size for r in prior_runs(cfg)} == {"base"}


def test_one_size_is_enough(raw):
    raw = two_d_only(raw)
    del raw["networks"]["small"], raw["prior_sizes"]["small"]
    assert {r.size for r in diffusion_runs(validate_config(raw))} == {"std"}


@pytest.mark.parametrize("where,culprits", [
    (("experiments", "e1", "sizes"), ["experiments.e1.sizes", "'xl'", "allowed values: ['small', 'std']"]),
    (("models", "rpd", "prior_size"), ["models.rpd.prior_size", "'xl'", "prior_sizes"]),
])
def test_an_undefined_size_names_the_key(raw, where, culprits):
    raw = two_d_only(raw)
    *path, key = where
    target = raw
    for p in path:
        target = target[p]
    target[key] = ["std", "xl"] if key == "sizes" else "xl"
    with pytest.raises(ConfigError) as err:
        validate_config(raw)
    for c in culprits:
        assert c in str(err.value), (c, str(err.value))


def test_image_sizes_are_checked_against_image_networks(raw):
    raw["image_networks"]["tiny"] = {"channels": [8]}
    raw["experiments"]["e2"]["sizes"] = ["tiny"]
    validate_config(copy.deepcopy(raw))  # defined for images: fine
    raw["experiments"]["e1"]["sizes"] = ["tiny"]  # e1 is 2D: `networks` has no tiny
    with pytest.raises(ConfigError, match=r"experiments\.e1\.sizes.*'tiny'.*not defined in 'networks'"):
        validate_config(raw)


def test_a_new_experiment_id_with_its_claim(raw):
    raw["experiments"]["scale_probe"] = {"datasets": ["dino-grid-0.4"], "models": ["rpd", "ddpm"], "sizes": ["std"],
                                         "claim": "C1"}
    raw["experiments"]["explore"] = {"datasets": ["dino-grid-0.1"], "models": ["rpd_v"], "sizes": ["small"]}
    cfg = validate_config(raw)
    assert cfg["experiments"]["scale_probe"]["claim"] == "C1"
    assert cfg["experiments"]["explore"]["claim"] is None and cfg["experiments"]["e1"]["claim"] is None
    assert any(r.name == "rpd_v" and r.size == "small" for r in diffusion_runs(cfg))  # its runs join the DAG


def test_the_workflow_builds_a_suite_with_free_names(raw, tmp_path):
    raw = two_d_only(raw)
    raw["networks"] = {"base": {"hidden": 16, "depth": 1}}
    raw["prior_sizes"] = {"base": {"hidden": 16, "depth": 1}}
    for m in raw["models"].values():
        m["prior_size"] = "base"
    raw["experiments"] = {"probe": {"datasets": ["dino-grid-0.1"], "models": ["rpd", "ddpm"], "sizes": ["base"],
                                    "claim": "C1"}}
    workdir = tmp_path / "work"
    workdir.mkdir()
    dry_run(write_config(raw, tmp_path / "open.yaml"), workdir)  # raises on any error


def test_report_lists_an_experiment_without_a_section(tmp_path):
    from test_report import _config, _render

    cfg = _config()
    exps = cfg["experiments"]  # one benchmark section (E8: tables only, a quick render) beside the new ids
    cfg["experiments"] = {"e8": exps["e8"], "probe": {**exps["e1"], "claim": "C1"}, "explore": dict(exps["e3"])}
    _, text = _render(tmp_path, cfg)  # rendered as given (the fixture holds names the schema refuses on purpose)
    listed = text.split('id="other-experiments"')[1].split("</p>")[0]
    assert "probe (tests C1)" in listed and "explore (tests no claim)" in listed, listed
    assert 'id="e8"' in text  # the benchmark's sections are still built
