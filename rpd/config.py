"""Suite configuration: validation (JSON schema plus what a schema cannot say); the runs it asks for are
in :mod:`rpd.runs`.

The Snakefile calls :func:`validate_config` before building the DAG, so a bad config stops before any job
runs, with a message naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from rpd.data.specs import is_image_dataset
from rpd.families import FAMILIES_WITH_PRIOR

#: The schema ships inside the package (so ``pip install .`` can validate suites anywhere);
#: workflow/schemas/config.schema.yaml is a link to this one file.
SCHEMA_RESOURCE = "schemas/config.schema.yaml"
#: Experiment ids with a section of their own in the report (README, Experiments); a suite may add others.
BENCHMARK_EXPERIMENTS = ("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8")
#: The keys that configure networks and training, per modality (2D points or images).
MODALITY_KEYS = {
    "points": {"networks": "networks", "prior_sizes": "prior_sizes", "training": "training",
               "prior_training": "prior_training"},
    "images": {"networks": "image_networks", "prior_sizes": "image_prior_sizes", "training": "image_training",
               "prior_training": "image_prior_training"},
}


def modality(dataset: dict) -> str:
    """``images`` for image datasets, ``points`` for 2D ones."""
    return "images" if is_image_dataset(dataset) else "points"


def training_key(run: dict) -> str:
    """The suite config key a resolved run's ``training`` block came from (e.g. ``image_prior_training``)."""
    return MODALITY_KEYS[modality(run["dataset"])]["prior_training" if run["kind"] == "prior" else "training"]


def n_eval_of(cfg: dict, dataset: str) -> int:
    """N for a dataset: its own ``n_eval`` or the suite's."""
    return cfg["datasets"][dataset].get("n_eval", cfg["n_eval"])


class ConfigError(ValueError):
    """The suite configuration is invalid; the message names the key and what is allowed."""


def load_schema() -> dict:
    return yaml.safe_load(resources.files("rpd").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """A one-line message for a schema error: key, bad value, what is allowed."""
    key = _key(error.absolute_path)
    v, arg = error.validator, error.validator_value
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        messages = []
        for extra in sorted(set(error.instance) - set(allowed)):
            close = difflib.get_close_matches(extra, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            messages.append(f"config key '{_key([*error.absolute_path, extra])}': unknown key{hint}; "
                            f"allowed keys{' in ' + repr(key) if error.absolute_path else ''}: {allowed}")
        return "\n  ".join(messages)
    if v == "required":
        missing = [k for k in arg if k not in error.instance]
        return f"config key '{key}': missing required key(s) {missing}"
    if v == "enum":
        return f"config key '{key}': {error.instance!r} is not allowed; allowed values: {arg}"
    if v == "propertyNames":
        allowed = error.schema["propertyNames"].get("enum") or error.schema["propertyNames"].get("pattern")
        return f"config key '{key}': name {error.instance!r} is not allowed; allowed: {allowed}"
    bounds = {
        "minimum": f">= {arg}",
        "maximum": f"<= {arg}",
        "exclusiveMinimum": f"> {arg}",
        "exclusiveMaximum": f"< {arg}",
        "minItems": f"at least {arg} item(s)",
        "minProperties": f"at least {arg} entr(y/ies)",
        "uniqueItems": "no repeated items",
        "type": f"of type {arg}",
        "pattern": f"matching {arg}",
    }
    if v in bounds:
        return f"config key '{key}': {error.instance!r} is not allowed; must be {bounds[v]}"
    return f"config key '{key}': {error.message}"


def _fill_defaults(instance: object, schema: dict, root: dict) -> None:
    """Insert schema defaults into ``instance`` in place (the JSON schema says which keys have defaults)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    if not isinstance(instance, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
        if name in instance:
            _fill_defaults(instance[name], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for name, value in instance.items():
            if name not in schema.get("properties", {}):
                _fill_defaults(value, extra, root)
    for branch in schema.get("allOf", []):  # if/then: the defaults of the branch the instance is in
        if "if" in branch and jsonschema.Draft202012Validator(branch["if"]).is_valid(instance):
            _fill_defaults(instance, branch["then"], root)


def validate_config(config: dict) -> dict:
    """Validate a suite config and return it with defaults filled in; raises :class:`ConfigError`."""
    schema = load_schema()
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:  # jsonschema reports `required` once per missing key; each message lists them all, so say it once
        messages = dict.fromkeys(_describe(e) for e in errors)
        raise ConfigError("invalid config:\n  " + "\n  ".join(messages))
    config = copy.deepcopy(config)
    _fill_defaults(config, schema, schema)
    problems = _semantic_problems(config)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def _semantic_problems(cfg: dict) -> list[str]:
    out = []
    priors, models, datasets = cfg["priors"], cfg["models"], cfg["datasets"]
    clash = sorted(set(priors) & set(models))
    if clash:
        out.append(f"config keys 'priors' and 'models': names {clash} are used for both; run folders would collide")
    for name, m in models.items():
        if m["family"] in FAMILIES_WITH_PRIOR:
            for key in ("prior", "image_prior"):
                if (key == "prior" or key in m) and m.get(key) not in priors:
                    out.append(
                        f"config key 'models.{name}.{key}': {m.get(key)!r} is not a defined prior; "
                        f"allowed values: {sorted(priors)}"
                    )
        else:
            for key in ("prior", "image_prior"):
                if key in m:
                    out.append(f"config key 'models.{name}.{key}': family {m['family']!r} takes no prior; remove the key")
    for where, blocks in [("sampling", cfg["sampling"])] + [
        (f"experiments.{e}.sampling", x["sampling"]) for e, x in cfg["experiments"].items() if "sampling" in x
    ]:
        for i, block in enumerate(blocks):
            bad = [k for k in block["steps"] if k > cfg["T"]]
            if bad:
                out.append(f"config key '{where}.{i}.steps': {bad} exceed T = {cfg['T']}; allowed: 1 ≤ K ≤ T")
    for e, x in cfg["experiments"].items():
        for i, pair in enumerate(x.get("exclude", [])):
            for key in ("dataset", "model"):
                if pair[key] not in x[f"{key}s"]:
                    out.append(f"config key 'experiments.{e}.exclude.{i}.{key}': {pair[key]!r} is not one of the "
                               f"experiment's {key}s; allowed values: {x[f'{key}s']}")
        for key, known in (("datasets", datasets), ("models", models)):
            unknown = [n for n in x[key] if n not in known]
            if unknown:
                out.append(f"config key 'experiments.{e}.{key}': {unknown} not defined; allowed values: {sorted(known)}")
    used = {modality(d) for d in datasets.values()}
    for mod in sorted(used):
        missing = [k for k in MODALITY_KEYS[mod].values() if k not in cfg]
        if missing:
            kinds = sorted({d["kind"] for d in datasets.values() if modality(d) == mod})
            out.append(f"config keys {missing}: required because the suite has {kinds} datasets")
    out += _size_problems(cfg)
    out += _same_network_problems(cfg)
    for e, x in cfg["experiments"].items():
        for d in x["datasets"]:
            if d not in datasets or not is_image_dataset(datasets[d]):
                continue
            for m in x["models"]:
                key = "image_prior" if "image_prior" in models.get(m, {}) else "prior"
                prior = models.get(m, {}).get(key)
                if prior in priors and priors[prior]["kind"] != "betavae":
                    out.append(f"config key 'models.{m}.{key}': {prior!r} is a {priors[prior]['kind']} prior, but "
                               f"experiment {e} uses it on image dataset {d!r}; image priors must be betavae "
                               "(set `image_prior:` to one)")
            if "image_networks" in cfg:
                res = datasets[d]["resolution"]
                for size in x["sizes"]:
                    levels = len(cfg["image_networks"][size]["channels"])
                    if res % 2 ** (levels - 1):
                        out.append(f"config key 'datasets.{d}.resolution': {res} is not divisible by "
                                   f"2^{levels - 1} (image_networks.{size} has {levels} levels)")
    if "kid" in cfg and cfg["kid"]["subset_size"] is not None:
        for d, spec in datasets.items():
            n = spec.get("n_eval", cfg["n_eval"])
            if is_image_dataset(spec) and cfg["kid"]["subset_size"] > n:
                out.append(f"config key 'kid.subset_size': {cfg['kid']['subset_size']} exceeds N = {n} of "
                           f"dataset {d!r}; allowed: ≤ N (or leave it unset for min(1000, N))")
    if cfg["kid"]["extractor"] == "inception-v3-compat" and cfg["kid"]["inception_weights"]:
        if not Path(cfg["kid"]["inception_weights"]).is_file():
            out.append(f"config key 'kid.inception_weights': {cfg['kid']['inception_weights']!r} is not a file")
    for name, p in priors.items():
        if p["kind"] == "vqvae" and p["latent_dim"] < 1:
            out.append(f"config key 'priors.{name}.latent_dim': must be >= 1")
    for name, d in datasets.items():
        # Grid centres are 1 apart and a shape spans `scale`: at scale >= 1 neighbouring shapes overlap and
        # RW-1WD's Voronoi regions no longer separate them.
        if d["kind"] == "grid" and d.get("grid", 1) > 1 and d["scale"] >= 1:
            out.append(f"config key 'datasets.{name}.scale': {d['scale']!r} makes neighbouring shapes overlap "
                       f"(grid centres are 1 apart); allowed: 0 < scale < 1 when grid > 1")
    # A dataset's folder sits beside the suite's own files in results/<suite>/ (rule collect's outputs and log);
    # the same name would make Snakemake fail with a cryptic ChildIOException.
    suite_files = ("metrics.csv", "summary.csv", "collect.log")
    for name in sorted(set(datasets) & set(suite_files)):
        out.append(f"config key 'datasets.{name}': the name {name!r} is taken by a suite-level file in "
                   f"results/<suite>/; choose another dataset name (not one of {list(suite_files)})")
    for name in sorted(n for n in datasets if n.startswith("synthetic-")):  # generated image folders live there
        out.append(f"config key 'datasets.{name}': names starting with 'synthetic-' are reserved for generated "
                   "image folders in results/<suite>/; choose another dataset name")
    return out


def _same_network_problems(cfg: dict) -> list[str]:
    """No two names of one sizes key define the same network: sizes are free names told apart by parameter count
    (C3 and C5 compare the largest with the smallest, rpd.report.sizes), so which is larger is not checked here."""
    out = []
    for key in ("networks", "prior_sizes", "image_networks", "image_prior_sizes"):
        seen: dict[str, str] = {}
        for name, spec in cfg.get(key, {}).items():
            first = seen.setdefault(json.dumps(spec, sort_keys=True), name)
            if first != name:
                fields = "channels" if "channels" in spec else "hidden or depth"
                out.append(f"config key '{key}.{name}': {spec} is the same network as '{key}.{first}'; sizes are "
                           f"told apart by their parameter count: give '{name}' other {fields}, or drop it")
    return out


def _size_problems(cfg: dict) -> list[str]:
    """Every size an experiment or a model names exists for the modalities of the datasets it is used on."""
    out = []
    datasets, models = cfg["datasets"], cfg["models"]
    for e, x in cfg["experiments"].items():
        for mod in sorted({modality(datasets[d]) for d in x["datasets"] if d in datasets}):
            key = MODALITY_KEYS[mod]["networks"]
            unknown = [s for s in x["sizes"] if key in cfg and s not in cfg[key]]
            if unknown:
                out.append(f"config key 'experiments.{e}.sizes': {unknown} not defined in '{key}'; "
                           f"allowed values: {sorted(cfg[key])}")
            key = MODALITY_KEYS[mod]["prior_sizes"]
            for m in x["models"]:
                size = models.get(m, {}).get("prior_size", "std")
                if models.get(m, {}).get("family") in FAMILIES_WITH_PRIOR and key in cfg and size not in cfg[key]:
                    out.append(f"config key 'models.{m}.prior_size': {size!r} not defined in '{key}' (experiment "
                               f"{e}); allowed values: {sorted(cfg[key])}")
    return list(dict.fromkeys(out))


def typed_overrides(overrides: Mapping) -> dict:
    """Snakemake's ``--config key=value`` values read as they would read in a suite file.

    Snakemake types a top-level value (``threads=2`` is 2) but reads lists and dicts with YAML's base loader,
    which keeps every item text: ``seeds=[0,1]`` arrives as ``['0', '1']``. Each such item is read again as
    YAML, so ``seeds=[0,1]`` means ``[0, 1]``, as in a suite file.
    """
    return {k: _retyped(v) if isinstance(v, (Mapping, list, tuple)) else v for k, v in overrides.items()}


def _retyped(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _retyped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_retyped(v) for v in value]
    if isinstance(value, str) and value:
        typed = yaml.safe_load(value)
        return value if isinstance(typed, (dict, list)) else typed
    return value


def with_default_suite(overrides: dict, default_file: str | Path) -> dict:
    """The default suite with ``overrides`` (Snakemake's ``--config key=value``) merged in, as Snakemake merges
    them into a ``--configfile``: nested dicts key by key, everything else replaced."""
    from snakemake.utils import update_config  # Snakemake's own merge, so that the two cases behave alike

    with open(default_file) as f:
        merged = yaml.safe_load(f)
    update_config(merged, copy.deepcopy(overrides))
    return merged


def suite_override_problem(overrides: Mapping, suite_files: Sequence[str | Path]) -> str | None:
    """Why a ``--config suite=X`` is refused, or None: it would rename the suite read from ``suite_files`` (the last
    that sets ``suite``), whose datasets, models and experiments would then run under ``results/X``."""
    if "suite" not in overrides:
        return None
    named = [(f, s) for f in suite_files if (s := (yaml.safe_load(Path(f).read_text()) or {}).get("suite"))]
    if not named or str(overrides["suite"]) == str(named[-1][1]):
        return None
    path, suite = named[-1]
    wanted = overrides["suite"]
    return (f"config key 'suite': --config suite={wanted} would run the suite {suite!r} of {path} under "
            f"results/{wanted}, beside suite {wanted}'s own results; choose a suite by its file instead: "
            f"--configfile benchmarks/{wanted}.yaml (to run a changed copy under a new name, copy the file and set "
            "its `suite:`)")


def load_config(path: str | Path) -> dict:
    """Read and validate a suite file."""
    with open(path) as f:
        return validate_config(yaml.safe_load(f) or {})


def canonical(obj):
    """``obj`` with the keys of every dict sorted, recursively.

    Snakemake compares a job's params by their text, so params built from a suite's YAML must not depend on the
    order of its keys: reordering a config file must not rerun anything.
    """
    if isinstance(obj, dict):
        return {k: canonical(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    return obj


def config_hash(obj: dict) -> str:
    """A short, stable hash of a JSON-serialisable dict (sorted keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]
