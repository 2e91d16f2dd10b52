"""Fault injection: a job killed or crashing while writing never leaves a file a later rule reads as valid.

* the training job writes model.pt (the marker of a finished training) last, so a crash at any write
  leaves no model.pt;
* a process SIGKILLed at random moments while writing outputs leaves, at every output path, either nothing,
  the previous complete file or the new complete file;
* through Snakemake: a job running out of memory fails with a message while the rest of the DAG keeps its
  outputs, and a diverging training (lr = 1e6) stops before any sample or metric is written.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

import rpd.stages as stages
from rpd.checkpoint import CorruptCheckpointError, load_state
from rpd.io import DataFileError, load_json, load_npz
from suite import REPO, snakemake_cli, write_config

TRAINING_FILES = ["config.json", "losses.npz", "train_summary.json", "model.pt"]


# --------------------------------------------------------------------------- write order and crashes


def _module(value: float) -> nn.Module:
    module = nn.Linear(64, 64)
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)
    return module


def _recording(monkeypatch, fail_at: str | None = None) -> list[str]:
    """Record the file names the training job writes, in order; raise at ``fail_at`` (a simulated crash)."""
    order: list[str] = []
    for name in ("save_json", "save_npz", "save_model"):
        real = getattr(stages, name)

        def wrapper(path, *args, _real=real, **kwargs):
            if Path(path).name == fail_at:
                raise KeyboardInterrupt(f"simulated crash while writing {path}")
            _real(path, *args, **kwargs)
            order.append(Path(path).name)

        monkeypatch.setattr(stages, name, wrapper)
    return order


def test_model_file_is_written_last(tmp_path, monkeypatch):
    order = _recording(monkeypatch)
    stages._write_training_outputs({"generation": 1}, _module(1.0), [(100, 0.5)], 1.0, tmp_path)
    assert sorted(order) == sorted(TRAINING_FILES)
    assert order[-1] == "model.pt", order


@pytest.mark.parametrize("fail_at", TRAINING_FILES)
def test_crash_at_any_write_leaves_no_model_file(tmp_path, monkeypatch, fail_at):
    """Whichever write crashes, model.pt does not exist afterwards, so Snakemake reruns the training."""
    _recording(monkeypatch, fail_at)
    with pytest.raises(KeyboardInterrupt):
        stages._write_training_outputs({"generation": 1}, _module(1.0), [(100, 0.5)], 1.0, tmp_path)
    assert not (tmp_path / "model.pt").exists()
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_crash_inside_a_write_keeps_the_previous_file(tmp_path, monkeypatch):
    """A writer dying half-way (here torch/numpy output cut off) leaves the previous complete file."""
    stages._write_training_outputs({"generation": 1}, _module(1.0), [(100, 0.5)], 1.0, tmp_path)
    original = Path.write_bytes

    def write_half(self: Path, data: bytes) -> int:
        original(self, data[: len(data) // 2])
        raise KeyboardInterrupt("killed half-way through model.pt")

    monkeypatch.setattr(Path, "write_bytes", write_half)
    with pytest.raises(KeyboardInterrupt):
        stages._write_training_outputs({"generation": 2}, _module(2.0), [(100, 0.4)], 1.0, tmp_path)
    state = load_state(tmp_path / "model.pt")
    assert state["run_config"] == {"generation": 1}
    assert all((p == 1.0).all() for p in state["state_dict"].values())
    assert not list(tmp_path.glob(".*.tmp"))


# --------------------------------------------------------------------------- SIGKILL at random moments

# A supervisor imports torch once, then per round forks a writer, lets it write for the delay read from stdin,
# SIGKILLs it and reports back, so that the test can inspect the files before the next round.
SUPERVISOR = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    import numpy as np
    import torch
    from torch import nn
    from rpd.io import save_npz
    from rpd.stages import _write_training_outputs

    torch.set_num_threads(1)
    run_dir = Path(sys.argv[1])


    def write_forever(start):
        module = nn.Linear(256, 256)
        for generation in range(start, 10**6):
            with torch.no_grad():
                for p in module.parameters():
                    p.fill_(generation)
            samples = np.full((1_000_000, 2), generation, dtype=np.float32)  # 8 MB: writes take a while
            save_npz(run_dir / "samples" / "ddim-K1.npz", x=samples, seconds=np.array(1.0))
            history = [(s, float(generation)) for s in range(1, 50)]
            _write_training_outputs({"generation": generation}, module, history, float(generation), run_dir)


    print("ready", flush=True)
    for round, line in enumerate(sys.stdin):
        delay = float(line)
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(1000 * (round + 1))
            finally:
                os._exit(0)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)
""")


def _generation_of(run_dir: Path, name: str) -> int | None:
    """Read one output fully and check it is internally consistent; its generation, or None if absent.

    Raises (DataFileError, CorruptCheckpointError, AssertionError) for a file a later rule must not accept.
    """
    path = run_dir / name
    if not path.exists():
        return None
    if name == "model.pt":
        state = load_state(path)
        g = state["run_config"]["generation"]
        assert all((t == g).all() for t in state["state_dict"].values()), f"{path} holds mixed weights"
        return g
    if name.endswith(".json"):
        data = load_json(path)
        return data["generation"] if "generation" in data else int(data["train_seconds"])
    arrays = load_npz(path)
    if name == "losses.npz":
        assert arrays["step"].tolist() == list(range(1, 50)), f"{path} is incomplete"
        g = arrays["loss"][0]
        assert (arrays["loss"] == g).all()
        return int(g)
    x = arrays["x"]
    assert x.shape == (1_000_000, 2) and float(arrays["seconds"]) == 1.0, f"{path} is incomplete"
    g = x[0, 0]
    assert (x == g).all(), f"{path} mixes generations"
    return int(g)


OUTPUTS = ["samples/ddim-K1.npz", *TRAINING_FILES]


def _check_outputs(run_dir: Path) -> dict[str, int | None]:
    generations = {name: _generation_of(run_dir, name) for name in OUTPUTS}
    model = generations["model.pt"]
    if model is not None:  # a finished training: its other files are there, from the same or a newer generation
        for name in ("config.json", "losses.npz", "train_summary.json"):
            # newer: the next write of this round (model + 1) or, when that round was killed after its first
            # files, a later round's (its generations start at the next multiple of 1000)
            assert generations[name] is not None and generations[name] >= model, generations
    return generations


@pytest.mark.slow  # twelve kills of 8 MB writers: tens of seconds; `make test` runs it
def test_sigkill_while_writing_leaves_only_complete_files(tmp_path):
    """Twelve SIGKILLs at random moments: every output present loads fully and is consistent, every time."""
    rng = random.Random(6)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)
    interrupted_writes, seen = 0, []
    try:
        assert supervisor.stdout.readline().strip() == "ready"
        for _ in range(12):
            supervisor.stdin.write(f"{rng.uniform(0.02, 1.0)}\n")
            supervisor.stdin.flush()
            assert supervisor.stdout.readline().strip() == "killed"
            seen.append(_check_outputs(tmp_path))
            temporaries = list(tmp_path.rglob(".*.tmp"))
            interrupted_writes += bool(temporaries)
            for tmp in temporaries:  # hidden temporaries are all a kill leaves; no rule reads them
                tmp.unlink()
    finally:
        supervisor.stdin.close()
        supervisor.wait(timeout=60)
    assert interrupted_writes >= 3, f"only {interrupted_writes} kills landed inside a write: too few to test"
    assert sum(s["model.pt"] is not None for s in seen) >= 3, seen


def test_the_check_detects_a_torn_file(tmp_path):
    """The consistency check used above rejects a file cut short, i.e. it would catch a non-atomic writer."""
    from rpd.io import save_npz

    save_npz(tmp_path / "samples" / "ddim-K1.npz", x=np.full((1_000_000, 2), 7, np.float32), seconds=np.array(1.0))
    module = nn.Linear(256, 256)
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(7)
    stages._write_training_outputs({"generation": 7}, module, [(s, 7.0) for s in range(1, 50)], 7.0, tmp_path)
    assert set(_check_outputs(tmp_path).values()) == {7}
    for name, error in [("samples/ddim-K1.npz", DataFileError), ("model.pt", CorruptCheckpointError),
                        ("losses.npz", DataFileError), ("config.json", DataFileError)]:
        path = tmp_path / name
        intact = path.read_bytes()
        path.write_bytes(intact[: len(intact) // 2])
        with pytest.raises(error):
            _check_outputs(tmp_path)
        path.write_bytes(intact)


# --------------------------------------------------------------------------- through Snakemake


@pytest.fixture
def ci_raw() -> dict:
    with open(REPO / "benchmarks" / "ci.yaml") as f:
        return yaml.safe_load(f)


def _rename_suite(cfg: dict, suite: str) -> None:
    """Rename the ci suite; its synthetic butterflies folder is generated under the suite's own results folder."""
    cfg["suite"] = suite
    cfg["datasets"]["butterflies-8"]["folder"] = f"results/{suite}/synthetic-butterflies"


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


@pytest.mark.slow  # runs Snakemake jobs; `make test` runs it
def test_out_of_memory_job_fails_and_the_dag_keeps_the_rest(ci_raw, tmp_path):
    """One data job runs out of memory: it fails with MemoryError in its log and leaves no file; the other
    data job's outputs are complete and kept (--keep-going)."""
    _rename_suite(ci_raw, "oom")
    ci_raw["datasets"]["dino-grid-0.4"]["n_train"] = 2_000_000_000  # 32 GB of int64 and float64 draws
    config = write_config(ci_raw, tmp_path / "oom.yaml")
    out = tmp_path / "results" / "oom"
    targets = [f"results/oom/{d}/train.npz" for d in ("dino-grid-0.1", "dino-grid-0.4")]
    # targets before --configfile, which takes every following word as a config file
    proc = snakemake_cli(*targets, "--cores", "2", "--keep-going", "--configfile", str(config), workdir=tmp_path,
                         preexec_fn=_limit_memory)
    assert proc.returncode != 0, proc.stderr[-3000:]
    log = (out / "dino-grid-0.4" / "dataset.log").read_text()
    assert "MemoryError" in log and "Unable to allocate" in log, log[-2000:]
    assert not (out / "dino-grid-0.4" / "train.npz").exists()
    assert not (out / "dino-grid-0.4" / "reference.npz").exists()
    good = out / "dino-grid-0.1"
    assert load_npz(good / "train.npz")["x"].shape == (2000, 2)
    assert load_npz(good / "reference.npz")["x"].shape == (256, 2)


@pytest.mark.slow  # runs Snakemake jobs (data, training); `make test` runs it
def test_diverging_training_stops_the_dag(ci_raw, tmp_path):
    """lr = 1e6 through Snakemake: the training job fails with the divergence message; no model file, no
    samples and no metrics exist for the run."""
    _rename_suite(ci_raw, "nan")
    ci_raw["training"]["lr"] = 1.0e6
    config = write_config(ci_raw, tmp_path / "nan.yaml")
    run_set = tmp_path / "results" / "nan" / "dino-grid-0.1" / "ddpm-std"
    run = run_set / "train" / "seed0"
    target = str(run.parent.relative_to(tmp_path))  # the run set's training (every seed, in one job)
    proc = snakemake_cli(target, "--cores", "1", "--configfile", str(config), workdir=tmp_path)
    assert proc.returncode != 0, proc.stderr[-3000:]
    log = (run_set / "train.log").read_text()
    assert "TrainingDivergedError" in log and "at step" in log and "lower training.lr" in log, log[-2000:]
    for name in ("model.pt", "losses.npz", "train_summary.json", "config.json"):
        assert not (run / name).exists(), name
    assert not (run.parent / "samples").exists() and not (run.parent / "metrics.csv").exists()
