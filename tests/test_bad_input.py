"""Bad input fails early, clearly and cleanly: rpd.config, rpd.io, rpd.checkpoint and the jobs of rpd.stages.

Every case asserts the exact error class, that the message names the culprit (config key, file, value), and
that no output of the failing job exists afterwards. Cases are grouped by what is bad: config, data,
checkpoints, samples, environment. Training divergence is at the end. Stage functions are called directly
(fast); config cases also go through the workflow (in-process Snakemake dry run), and a few through the
``snakemake`` command as a user runs it.
"""

from __future__ import annotations

import copy
import errno
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from snakemake.exceptions import WorkflowError
from torch import nn

from rpd.checkpoint import CorruptCheckpointError, MissingCheckpointError
from rpd.config import ConfigError, load_config, validate_config
from rpd.evaluate import SampleError, evaluate_run
from rpd.io import DataFileError, OutputWriteError, save_npz
from rpd.layout import run_folder, sample_file, samples_dir
from rpd.provenance import training_record
from rpd.runs import Run, run_config
from rpd.stages import make_dataset, sample_model_run, sample_prior_run, train_model_run, train_prior_run
from rpd.training import TrainingDivergedError
from suite import REPO, dry_run, snakemake_cli, write_config

CI = REPO / "benchmarks" / "ci.yaml"
DATASET = "dino-grid-0.1"
TRAINING_OUTPUTS = ("model.pt", "config.json", "losses.npz", "train_summary.json")


def expect_failure(call: Callable[[], object], error: type[BaseException], culprits: list[object],
                   absent: list[Path]) -> str:
    """Run ``call``; assert it raises exactly ``error`` naming every culprit and that ``absent`` do not exist."""
    with pytest.raises(BaseException) as info:
        call()
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for culprit in culprits:
        assert str(culprit) in message, f"{culprit!r} not named in:\n{message}"
    for path in absent:
        assert not Path(path).exists(), f"{path} exists after a failed job"
        if Path(path).parent.is_dir():  # nor a half-written temporary beside it
            assert not list(Path(path).parent.glob(f".{Path(path).name}.*.tmp")), f"temporary of {path} left"
    return message


# =========================================================================== config

@pytest.fixture
def raw() -> dict:
    with open(CI) as f:
        return yaml.safe_load(f)


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A mutation setting the dotted ``path`` (list indices as numbers) to ``value``."""
    def mutate(cfg: dict) -> None:
        *head, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        for key in head:
            cfg = cfg[key]
        cfg[last] = value
    return mutate


def _delete(path: str) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *head, last = path.split("/")
        for key in head:
            cfg = cfg[key]
        del cfg[last]
    return mutate


def _rename(path: str, new: str) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        *head, last = path.split("/")
        for key in head:
            cfg = cfg[key]
        cfg[new] = cfg.pop(last)
    return mutate


def _rename_dataset(old: str, new: str) -> Callable[[dict], None]:
    """Rename a dataset everywhere it is used."""
    def mutate(cfg: dict) -> None:
        cfg["datasets"][new] = cfg["datasets"].pop(old)
        for experiment in cfg["experiments"].values():
            experiment["datasets"] = [new if d == old else d for d in experiment["datasets"]]
    return mutate


# (id, mutation of ci.yaml, strings the message must contain)
CONFIG_CASES = [
    ("unknown-key-did-you-mean", _rename("seeds", "seed"), ["'seed'", "unknown key", "did you mean 'seeds'"]),
    ("unknown-nested-key", _rename("training/batch_size", "batchsize"),
     ["training.batchsize", "did you mean 'batch_size'"]),
    ("missing-required-key", _delete("datasets"), ["missing required key(s) ['datasets']"]),
    ("type-string-for-int", _set("training/steps", "200"), ["training.steps", "'200'", "integer"]),
    # YAML 1.1 reads 1e-3 (no dot) as text: a classic way to get a string where a number belongs
    ("type-yaml-1e-3-is-text", _set("training/lr", "1e-3"), ["training.lr", "'1e-3'", "number"]),
    ("type-bool-for-int", _set("threads", True), ["threads", "True", "integer"]),
    ("type-scalar-for-list", _set("seeds", 0), ["seeds", "array"]),
    ("range-n-eval", _set("n_eval", 8), ["n_eval", "8", ">= 16"]),
    ("range-threads-zero", _set("threads", 0), ["threads", "0", ">= 1"]),
    ("range-lr-zero", _set("training/lr", 0), ["training.lr", "> 0"]),
    ("range-ema-decay-one", _set("training/ema_decay", 1.0), ["training.ema_decay", "< 1"]),
    ("range-negative-jitter", _set(f"datasets/{DATASET}/jitter", -0.01), [f"datasets.{DATASET}.jitter", ">= 0"]),
    ("range-T-one", _set("T", 1), ["'T'", ">= 2"]),
    ("enum-beta-schedule", _set("beta_schedule", "quadratic"), ["beta_schedule", "'quadratic'", "linear", "cosine"]),
    ("enum-sampler", _set("sampling/0/samplers", ["ddim", "euler"]), ["sampling.0.samplers.1", "'euler'", "ddpm"]),
    ("enum-datasaurus-shape", _set(f"datasets/{DATASET}/shape", "dinosaur"),
     [f"datasets.{DATASET}.shape", "'dinosaur'", "'dino'", "'star'"]),
    ("enum-prior-size", _set("models/rpd/prior_size", "tiny"), ["models.rpd.prior_size", "'tiny'", "small"]),
    ("pattern-experiment-name", _set("experiments/E9", {"datasets": [DATASET], "models": ["rpd"], "sizes": ["std"]}),
     ["experiments", "'E9'", "^[a-z]"]),
    ("experiment-size-undefined", _set("experiments/e1/sizes", ["std", "xl"]), ["experiments.e1.sizes", "'xl'"]),
    ("enum-experiment-claim", _set("experiments/e1/claim", "C7"), ["experiments.e1.claim", "'C7'", "C6"]),
    ("pattern-model-name", _set("models/RPD-Big", {"family": "ddpm"}), ["models", "'RPD-Big'", "^[a-z]"]),
    ("duplicate-seeds", _set("seeds", [0, 0]), ["seeds", "no repeated items"]),
    ("empty-experiments", _set("experiments", {}), ["experiments", "at least 1"]),
    ("empty-sizes", _set("experiments/e1/sizes", []), ["experiments.e1.sizes", "at least 1"]),
    ("K-above-T", _set("T", 5), ["sampling.0.steps", "[10]", "T = 5", "1 ≤ K ≤ T"]),
    ("size-same-network", _set("networks/small", {"hidden": 32, "depth": 2}),
     ["networks.small", "same network as 'networks.std'", "hidden or depth"]),
    ("prior-reference-undefined", _set("models/diffusevae1/prior", "beta_vae"),
     ["models.diffusevae1.prior", "'beta_vae'", "betavae", "vqvae"]),
    ("prior-on-ddpm", _set("models/ddpm/prior", "vqvae"), ["models.ddpm.prior", "takes no prior"]),
    ("name-clash-prior-model", _set("priors/rpd", {"kind": "betavae"}), ["'priors' and 'models'", "['rpd']"]),
    ("experiment-model-undefined", _set("experiments/e3/models", ["rpd", "rpd_s"]),
     ["experiments.e3.models", "'rpd_s'"]),
    ("dataset-name-is-a-suite-file", _rename_dataset("dino-grid-0.4", "summary.csv"),
     ["datasets.summary.csv", "suite-level file"]),
    ("scale-overlapping-shapes", _set("datasets/dino-grid-0.4/scale", 1.5),
     ["datasets.dino-grid-0.4.scale", "1.5", "overlap"]),
]


@pytest.mark.parametrize("mutate,culprits", [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_bad_config(raw, tmp_path, mutate, culprits):
    """The validator names the key; the workflow refuses the same config before building a DAG."""
    mutate(raw)
    message = expect_failure(lambda: validate_config(raw), ConfigError, culprits, [])
    assert message.startswith("invalid config:")
    config = write_config(raw, tmp_path / "bad.yaml")
    workdir = tmp_path / "work"
    workdir.mkdir()
    expect_failure(lambda: dry_run(config, workdir), WorkflowError, culprits, [workdir / "results"])


@pytest.mark.parametrize("text,culprits", [("", ["missing required key(s)", "'suite'", "'datasets'"]),
                                           ("- suite: ci\n", ["<top level>", "object"])],
                         ids=["empty-file", "list-not-mapping"])
def test_bad_config_file(tmp_path, text, culprits):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    expect_failure(lambda: load_config(path), ConfigError, culprits, [])


@pytest.mark.parametrize(
    "mutate,key",
    [(_set("sampling/0/steps", [1, 3, 2000]), "sampling.0.steps"),
     (_rename("training/lr", "learning_rate"), "training.learning_rate")],
    ids=["K-above-T", "unknown-key"],
)
def test_snakemake_stops_before_any_job(raw, tmp_path, mutate, key):
    """As a user runs it (no -n): non-zero exit, WorkflowError with the key, no results folder, no job."""
    mutate(raw)
    config = write_config(raw, tmp_path / "bad.yaml")
    proc = snakemake_cli("--cores", "1", "--configfile", str(config), workdir=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "WorkflowError" in out and "invalid config" in out and key in out, out
    assert "Building DAG" not in out and "rule " not in out, out
    assert not (tmp_path / "results").exists() and not (tmp_path / "reports").exists()


# =========================================================================== trained runs to corrupt

def _tiny(cfg: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for key in ("training", "prior_training"):
        cfg[key].update(steps=30, log_every=10)
    return cfg


@pytest.fixture(scope="module")
def suite() -> dict:
    return _tiny(load_config(CI))


def _runs(suite: dict) -> dict[str, dict]:
    runs = {
        "vqvae": run_config(suite, Run("prior", DATASET, "vqvae", "std", 0)),
        "ddpm": run_config(suite, Run("model", DATASET, "ddpm", "std", 0)),
        "rpd": run_config(suite, Run("model", DATASET, "rpd", "std", 0)),
    }
    for name in ("ddpm", "rpd"):
        runs[name]["sampling"] = [["ddim", 1]]  # one pair keeps sampling fast
    return runs


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, suite) -> Path:
    """Data, a trained prior (vqvae), and trained and sampled ddpm and rpd runs: tiny but complete."""
    ws = tmp_path_factory.mktemp("workspace")
    runs = _runs(suite)
    make_dataset(suite["datasets"][DATASET], suite["n_eval"], ws / "train.npz", ws / "reference.npz")
    train_prior_run(runs["vqvae"], ws / "train.npz", _run_dir(ws, "vqvae"))
    sample_prior_run(runs["vqvae"], _run_dir(ws, "vqvae"))
    train_model_run(runs["ddpm"], ws / "train.npz", None, _run_dir(ws, "ddpm"))
    sample_model_run(runs["ddpm"], _run_dir(ws, "ddpm"), None)
    train_model_run(runs["rpd"], ws / "train.npz", _run_dir(ws, "vqvae") / "model.pt", _run_dir(ws, "rpd"))
    sample_model_run(runs["rpd"], _run_dir(ws, "rpd"), _run_dir(ws, "vqvae") / "model.pt")
    return ws


@pytest.fixture
def ws(workspace, tmp_path) -> Path:
    """A private copy of the workspace, to damage."""
    return Path(shutil.copytree(workspace, tmp_path / "ws"))


@pytest.fixture
def runs(suite) -> dict[str, dict]:
    return _runs(suite)


def test_workspace_is_valid(ws):
    """The undamaged workspace evaluates: the failures below are caused by the damage alone."""
    for name in ("vqvae", "ddpm", "rpd"):
        frame = evaluate_run(_run_dir(ws, name), ws / "reference.npz", _run_dir(ws, name) / "metrics.csv")
        assert len(frame) > 0 and np.isfinite(frame["value"]).all()


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _run_dir(ws: Path, name: str) -> Path:
    """Seed 0's run folder of the run set ``name`` in the workspace, as the pipeline lays it out."""
    return ws / run_folder(name, 0)


def _fresh_run_dir(ws: Path) -> Path:
    return _run_dir(ws, "fresh")


# =========================================================================== data

def _train_prior(ws, runs):
    return lambda: train_prior_run(runs["vqvae"], ws / "train.npz", _fresh_run_dir(ws))


def _outputs(ws) -> list[Path]:
    return [_fresh_run_dir(ws) / name for name in TRAINING_OUTPUTS]


def _pickled_objects(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, x=np.array([{"a": 1}, None], dtype=object))


DATA_DAMAGE = {
    "missing": (lambda p: p.unlink(), ["does not exist"]),
    "truncated": (_truncate, ["truncated or corrupt"]),
    "not-npz": (lambda p: p.write_text("x,y\n0.1,0.2\n"), ["truncated or corrupt"]),
    "npy-not-npz": (lambda p: p.write_bytes(_npy_bytes(np.zeros((4, 2)))), ["not an .npz archive"]),
    "pickled-objects": (_pickled_objects, ["pickle"]),
    "no-x-array": (lambda p: save_npz(p, points=np.zeros((4, 2), np.float32)), ["no array 'x'", "points"]),
    "a-folder": (lambda p: (p.unlink(), p.mkdir()), ["is a folder"]),
}


def _npy_bytes(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, a)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", list(DATA_DAMAGE))
def test_bad_train_npz(ws, runs, damage):
    """A training job on a missing or damaged train.npz names the file; no training output is written."""
    make_bad, words = DATA_DAMAGE[damage]
    make_bad(ws / "train.npz")
    expect_failure(_train_prior(ws, runs), DataFileError, [ws / "train.npz", *words], _outputs(ws))


@pytest.mark.parametrize("damage", ["missing", "truncated", "no-x-array"])
def test_bad_reference_npz(ws, damage):
    make_bad, words = DATA_DAMAGE[damage]
    make_bad(ws / "reference.npz")
    out = _run_dir(ws, "ddpm") / "metrics.csv"
    expect_failure(lambda: evaluate_run(_run_dir(ws, "ddpm"), ws / "reference.npz", out), DataFileError,
                   [ws / "reference.npz", *words], [out])


@pytest.mark.parametrize("name,damage", [("config.json", "truncated"), ("train_summary.json", "missing")])
def test_bad_run_metadata(ws, name, damage):
    path = _run_dir(ws, "ddpm") / name
    (path.unlink() if damage == "missing" else _truncate(path))
    out = _run_dir(ws, "ddpm") / "metrics.csv"
    expect_failure(lambda: evaluate_run(_run_dir(ws, "ddpm"), ws / "reference.npz", out), DataFileError, [path], [out])


def test_unknown_datasaurus_shape(tmp_path, suite):
    """The data job (called by hand, past the config validator) refuses an unknown shape and lists the shapes."""
    spec = {**suite["datasets"][DATASET], "shape": "dinosaur"}
    train, reference = tmp_path / "train.npz", tmp_path / "reference.npz"
    expect_failure(lambda: make_dataset(spec, 256, train, reference), ValueError, ["'dinosaur'", "dino", "x_shape"],
                   [train, reference])


# =========================================================================== checkpoints

class _RunsCode:
    """A pickle that runs code when loaded: it would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _evil_pickle(marker: Path) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(pickle.dumps(_RunsCode(marker)))


def _evil_torch(marker: Path) -> Callable[[Path], None]:
    return lambda p: torch.save({"state_dict": {"w": _RunsCode(marker)}, "run_config": {}}, p)


def _foreign(p: Path) -> None:  # a plain torch checkpoint: a state dict, as most projects save them
    torch.save(nn.Linear(2, 2).state_dict(), p)


def _flip_byte(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


CHECKPOINT_DAMAGE = {
    "truncated": (_truncate, ["cannot read it"]),
    "empty": (lambda p: p.write_bytes(b""), ["cannot read it"]),
    "foreign-torch-file": (_foreign, ["not the", "format"]),
    "flipped-byte": (_flip_byte, ["digest"]),
    "code-running-pickle": (None, ["cannot read it", "UnpicklingError"]),
    "code-running-torch-file": (None, ["cannot read it", "UnpicklingError"]),
}


def _damage_checkpoint(path: Path, damage: str, marker: Path) -> list[str]:
    make_bad, words = CHECKPOINT_DAMAGE[damage]
    if damage == "code-running-pickle":
        make_bad = _evil_pickle(marker)
    elif damage == "code-running-torch-file":
        make_bad = _evil_torch(marker)
    make_bad(path)
    return words


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # torch on the foreign pickle it refuses
@pytest.mark.parametrize("damage", list(CHECKPOINT_DAMAGE))
def test_bad_model_file_is_not_sampled(ws, runs, tmp_path, damage):
    """Sampling from a damaged model.pt is refused with a fix; no samples are written; no pickled code runs."""
    marker = tmp_path / "code-ran"
    model = _run_dir(ws, "ddpm") / "model.pt"
    words = _damage_checkpoint(model, damage, marker)
    shutil.rmtree(samples_dir(_run_dir(ws, "ddpm")))
    expect_failure(lambda: sample_model_run(runs["ddpm"], _run_dir(ws, "ddpm"), None), CorruptCheckpointError,
                   [model, *words, "Delete it and rerun"], [samples_dir(_run_dir(ws, "ddpm"))])
    assert not marker.exists(), "loading the model file ran code from it"


@pytest.mark.parametrize("damage", ["truncated", "code-running-torch-file"])
def test_bad_prior_file_is_not_trained_over(ws, runs, tmp_path, damage):
    """Stage 2 on a damaged prior fails naming the prior's file; it is neither loaded nor silently replaced."""
    marker = tmp_path / "code-ran"
    prior = _run_dir(ws, "vqvae") / "model.pt"
    words = _damage_checkpoint(prior, damage, marker)
    damaged = prior.read_bytes()
    expect_failure(lambda: train_model_run(runs["rpd"], ws / "train.npz", prior, _fresh_run_dir(ws)),
                   CorruptCheckpointError, [prior, *words], _outputs(ws))
    assert prior.read_bytes() == damaged and not marker.exists()


def test_missing_prior_file(ws, runs):
    prior = _run_dir(ws, "vqvae") / "model.pt"
    prior.unlink()
    expect_failure(lambda: train_model_run(runs["rpd"], ws / "train.npz", prior, _fresh_run_dir(ws)),
                   MissingCheckpointError, [prior, "does not exist"], _outputs(ws))


def test_missing_model_file(ws, runs):
    (_run_dir(ws, "ddpm") / "model.pt").unlink()
    shutil.rmtree(samples_dir(_run_dir(ws, "ddpm")))
    expect_failure(lambda: sample_model_run(runs["ddpm"], _run_dir(ws, "ddpm"), None), MissingCheckpointError,
                   [_run_dir(ws, "ddpm") / "model.pt"], [samples_dir(_run_dir(ws, "ddpm"))])


# =========================================================================== samples

def _rewrite_samples(path: Path, change: Callable[[np.ndarray], np.ndarray]) -> None:
    arrays = dict(np.load(path))
    save_npz(path, **{**arrays, "x": change(arrays["x"])})


def _with(value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(x: np.ndarray) -> np.ndarray:
        x = x.copy()
        x[7, 1] = value
        return x
    return change


SAMPLE_DAMAGE = {
    "nan": (_with(np.nan), SampleError, ["1 non-finite", "refused"]),
    "inf": (_with(-np.inf), SampleError, ["1 non-finite"]),
    "wrong-shape": (lambda x: np.concatenate([x, x[:, :1]], axis=1), SampleError, ["(256, 3)", "(2,)"]),
    "fewer-than-N": (lambda x: x[:200], SampleError, ["200 samples", "N = 256"]),
    "truncated": (None, DataFileError, ["truncated or corrupt"]),
    "missing": (None, DataFileError, ["does not exist"]),
}


@pytest.mark.parametrize("run", ["ddpm", "vqvae"])
@pytest.mark.parametrize("damage", list(SAMPLE_DAMAGE))
def test_bad_samples_are_not_scored(ws, damage, run):
    """Metrics on non-finite, misshapen, wrong-size or damaged samples are refused; no metrics.csv."""
    change, error, words = SAMPLE_DAMAGE[damage]
    path = sample_file(_run_dir(ws, run), "ddim", 1) if run == "ddpm" else sample_file(_run_dir(ws, run), "prior", 0)
    if damage == "truncated":
        _truncate(path)
    elif damage == "missing":
        path.unlink()
    else:
        _rewrite_samples(path, change)
    out = _run_dir(ws, run) / "metrics.csv"
    expect_failure(lambda: evaluate_run(_run_dir(ws, run), ws / "reference.npz", out), error, [path, *words], [out])


def test_nonfinite_reference_is_refused(ws):
    _rewrite_samples(ws / "reference.npz", _with(np.nan))
    out = _run_dir(ws, "ddpm") / "metrics.csv"
    expect_failure(lambda: evaluate_run(_run_dir(ws, "ddpm"), ws / "reference.npz", out), SampleError,
                   [ws / "reference.npz", "1 non-finite"], [out])


# =========================================================================== environment

def test_output_parent_is_a_file(tmp_path, suite):
    """The data job with an output folder that is a file names the path and the fix."""
    (tmp_path / "results").write_text("not a folder")
    train, reference = tmp_path / "results" / "train.npz", tmp_path / "results" / "reference.npz"
    expect_failure(lambda: make_dataset(suite["datasets"][DATASET], 256, train, reference), OutputWriteError,
                   [train, "not a folder"], [train, reference])


def _mount_tmpfs(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root, as in the CI container); skipped where mounting is not allowed."""
    mount = tmp_path / "small_disk"
    if not _mount_tmpfs(mount, "size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def read_only_disk(tmp_path):
    mount = tmp_path / "ro_disk"
    if not _mount_tmpfs(mount, "size=64k,ro"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_during_data_job(small_disk, suite):
    """A real full disk: a clear message, no partial file, and the files already there are kept."""
    kept = small_disk / "kept.npz"
    save_npz(kept, x=np.arange(100.0))
    spec = {**suite["datasets"][DATASET], "n_train": 20000}  # 160 kB > 64 kB
    train, reference = small_disk / "train.npz", small_disk / "reference.npz"
    expect_failure(lambda: make_dataset(spec, 256, train, reference), OutputWriteError,
                   [train, "no space left", "free disk space"], [train, reference])
    assert np.array_equal(np.load(kept)["x"], np.arange(100.0))
    assert sorted(p.name for p in small_disk.iterdir()) == ["kept.npz"]


def test_disk_full_while_saving_model(ws, runs, monkeypatch):
    """Simulated ENOSPC half-way through writing model.pt (works without root): message, no partial file."""
    original = Path.write_bytes

    def write_half_then_fail(self: Path, data: bytes) -> int:
        original(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_bytes", write_half_then_fail)
    model = _fresh_run_dir(ws) / "model.pt"
    expect_failure(lambda: train_prior_run(runs["vqvae"], ws / "train.npz", _fresh_run_dir(ws)), OutputWriteError,
                   [model, "no space left"], [model])
    assert [p.name for p in _fresh_run_dir(ws).iterdir() if p.name.startswith(".")] == []


def test_read_only_output_folder(read_only_disk, suite):
    train, reference = read_only_disk / "train.npz", read_only_disk / "reference.npz"
    expect_failure(lambda: make_dataset(suite["datasets"][DATASET], 256, train, reference), OutputWriteError,
                   [train, "read-only", "--directory"], [train, reference])


def test_out_of_memory(tmp_path):
    """A data job asked for more memory than the process may use fails with MemoryError and writes nothing."""
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
        from rpd.stages import make_dataset
        spec = dict(kind="grid", shape="dino", grid=2, scale=0.1, jitter=0.02, n_train=2_000_000_000, data_seed=1)
        try:
            make_dataset(spec, 256, {str(tmp_path / 'train.npz')!r}, {str(tmp_path / 'reference.npz')!r})
        except MemoryError as err:
            print("MemoryError", type(err).__name__, err)
            sys.exit(3)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert re.search(r"Unable to allocate [\d.]+ GiB", proc.stdout), proc.stdout
    assert not (tmp_path / "train.npz").exists() and not (tmp_path / "reference.npz").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_missing_git_is_recorded_not_fatal(ws, monkeypatch, tmp_path):
    """A missing optional executable (git) stops neither training's record nor evaluation; the commit reads
    'unknown'. Rows carry the commit recorded at training time, so a summary without one (written by a run
    trained before training recorded it) falls back to the evaluating checkout's, here unknown too."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert training_record("cpu")["commit"] == "unknown"
    summary_path = _run_dir(ws, "ddpm") / "train_summary.json"
    summary = json.loads(summary_path.read_text())
    trained_commit = summary.pop("commit")
    assert trained_commit != "unknown"
    frame = evaluate_run(_run_dir(ws, "ddpm"), ws / "reference.npz", _run_dir(ws, "ddpm") / "metrics.csv")
    assert (frame["commit"] == trained_commit).all()  # recorded when trained, not when evaluated
    summary_path.write_text(json.dumps(summary))
    frame = evaluate_run(_run_dir(ws, "ddpm"), ws / "reference.npz", _run_dir(ws, "ddpm") / "metrics.csv")
    assert (frame["commit"] == "unknown").all()


# =========================================================================== training divergence

MAX_DIVERGENCE_STEPS = 50


@pytest.mark.parametrize("name", ["ddpm", "rpd", "vqvae"])
def test_divergence_stops_training(ws, suite, name):
    """lr = 1e6 stops within a bounded number of steps, with the step and a hint; nothing is written."""
    cfg = copy.deepcopy(suite)
    key = "prior_training" if name == "vqvae" else "training"
    cfg[key].update(lr=1e6, steps=500)
    kind = "prior" if name == "vqvae" else "model"
    run = run_config(cfg, Run(kind, DATASET, name, "std", 0))
    run_dir = _fresh_run_dir(ws)
    if kind == "prior":
        call = lambda: train_prior_run(run, ws / "train.npz", run_dir)  # noqa: E731
    else:
        prior = _run_dir(ws, "vqvae") / "model.pt" if name == "rpd" else None
        call = lambda: train_model_run(run, ws / "train.npz", prior, run_dir)  # noqa: E731
    message = expect_failure(call, TrainingDivergedError, [f"{name}-std", "step", f"lower {key}.lr", "1000000.0"],
                             _outputs(ws))
    assert "none" not in message  # before the first log line the message shows the raw losses instead
    step = int(re.search(r"at step (\d+)", message).group(1))
    assert step <= MAX_DIVERGENCE_STEPS, message
    # no samples and no metrics can follow: the sampling and evaluation jobs refuse the missing outputs
    expect_failure(lambda: sample_model_run(run, run_dir, None), MissingCheckpointError, [run_dir / "model.pt"],
                   [samples_dir(run_dir)])
    expect_failure(lambda: evaluate_run(run_dir, ws / "reference.npz", run_dir / "metrics.csv"), DataFileError,
                   [run_dir / "config.json"], [run_dir / "metrics.csv"])


def test_nonfinite_training_data_stops_training(ws, runs):
    """Non-finite training data diverge at once; the hint points at the data."""
    arrays = dict(np.load(ws / "train.npz"))
    arrays["x"][:] = np.nan
    save_npz(ws / "train.npz", **arrays)
    expect_failure(lambda: train_model_run(runs["ddpm"], ws / "train.npz", None, _fresh_run_dir(ws)),
                   TrainingDivergedError, ["at step 1", "non-finite values"], _outputs(ws))



# =========================================================================== untrusted content

def _calls(text: str, name: str) -> list[str]:
    """The argument text of each call ``name(...)`` in ``text`` (balanced parentheses)."""
    out = []
    for match in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append(text[match.end():i - 1])
    return out


def test_no_loader_unpickles():
    """Nothing in the package or the workflow can unpickle a file: torch loads tensors only, numpy no objects."""
    sources = [*REPO.joinpath("rpd").rglob("*.py"), *REPO.joinpath("workflow").rglob("*.py"),
               *REPO.joinpath("workflow").rglob("*.smk"), REPO / "Snakefile"]
    assert len(sources) > 10
    for path in sources:
        text = path.read_text()
        for args in _calls(text, "torch.load"):
            assert "weights_only=True" in args, f"{path}: torch.load({args}) may unpickle code"
        for args in _calls(text, "np.load"):
            assert "allow_pickle=False" in args, f"{path}: np.load({args}) may unpickle objects"
        for unsafe in ("pickle.load", "read_pickle", "joblib.load", "dill.load", "yaml.load(", "yaml.unsafe_load"):
            assert unsafe not in text, f"{path} uses {unsafe}"
