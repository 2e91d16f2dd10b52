"""Every stage that runs a network computes on the config's `device`, through the one code path a GPU job takes
(there is no GPU here: the device is the CPU, the calls are the same); bf16 autocast; provenance and
train_seconds recorded at training time (rpd.devices, rpd.stages, rpd.provenance)."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from rpd import devices, elbo, evaluate, stages
from rpd.checkpoint import load_state
from rpd.config import config_hash, load_config
from rpd.devices import DeviceError, autocast
from rpd.io import load_json, save_json
from rpd.layout import sample_file, snapshots_file
from rpd.metrics.kid import fidelity_kwargs
from rpd.provenance import git_commit, package_versions
from rpd.runs import Run, run_config
from rpd.training import Checkpoint
from suite import REPO

DATASET = "dino-grid-0.1"


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> tuple[dict, Path, Path]:
    """The ci suite at a few hundred steps on a 2D data set: (config, train.npz, reference.npz)."""
    cfg = load_config(REPO / "benchmarks" / "ci.yaml")
    cfg["datasets"][DATASET]["n_train"] = 1000
    data = tmp_path_factory.mktemp("data")
    stages.make_dataset(cfg["datasets"][DATASET], 256, str(data / "train.npz"), str(data / "reference.npz"))
    return cfg, data / "train.npz", data / "reference.npz"


@pytest.fixture
def device_requests(monkeypatch) -> list[str]:
    """Records the `device` value each stage asks for (select_device itself is tested in test_devices.py)."""
    asked: list[str] = []

    def spy(requested: str, env=None) -> torch.device:
        asked.append(requested)
        return torch.device("cpu")

    for module in (stages, elbo, devices):
        monkeypatch.setattr(module, "select_device", spy)
    return asked


def _train_rpd(cfg: dict, train: Path, folder: Path) -> tuple[dict, Path]:
    prior_run = run_config(cfg, Run("prior", DATASET, "vqvae", "std", 0))
    stages.train_prior_run(prior_run, train, folder / "prior")
    run = run_config(cfg, Run("model", DATASET, "rpd", "std", 0))
    stages.train_model_run(run, train, folder / "prior" / "model.pt", folder / "rpd")
    return run, folder / "prior" / "model.pt"


def test_every_network_stage_computes_on_the_config_device(suite, tmp_path, device_requests, monkeypatch, capsys):
    cfg, train, reference = copy.deepcopy(suite[0]), suite[1], suite[2]
    cfg["device"] = "cpu"
    for block in ("prior_training", "training"):
        cfg[block]["steps"] = 20
    discarded, discard = [], Checkpoint.discard
    monkeypatch.setattr(Checkpoint, "discard", lambda self: discarded.append(self.path.stem) or discard(self))
    run, prior = _train_rpd(cfg, train, tmp_path)
    assert device_requests == ["cpu", "cpu"]  # the prior's and the denoiser's training
    assert discarded == ["prior", "rpd"]  # a run trained alone (not in a run set) keeps no checkpoint

    seen: list[tuple[torch.device, torch.device | str]] = []
    real_sample = stages.sample

    precisions: list[str] = []

    def sample(spec, net, *args, **kwargs):
        seen.append((next(net.parameters()).device, kwargs["device"]))
        precisions.append(kwargs["precision"])
        return real_sample(spec, net, *args, **kwargs)

    monkeypatch.setattr(stages, "sample", sample)
    capsys.readouterr()
    start = time.perf_counter()
    stages.sample_model_run({**run, "n_eval": 16, "precision": "bf16"}, tmp_path / "rpd", prior)
    elapsed = time.perf_counter() - start
    assert precisions == ["bf16"] * len(run["sampling"])
    # the job's log says where and in which precision it samples, then each (sampler, K) and its time as it is done
    said = capsys.readouterr().err.splitlines()
    label = stages._label(run)
    assert said[0] == f"[{label}] sampling on cpu in bf16", said
    assert [line.split(" in ")[0] for line in said[1:]] == [f"[{label}] sampled {s} K={k}" for s, k in run["sampling"]]
    assert all(0 <= float(line.split(" in ")[1].rstrip("s")) <= elapsed for line in said[1:]), said
    for sampler, steps in run["sampling"]:  # each file's sampling time, within the job's
        assert 0 < float(np.load(sample_file(tmp_path / "rpd", sampler, steps))["seconds"]) <= elapsed
    elbo.elbo_run(tmp_path / "rpd", reference, prior, tmp_path / "elbo.csv", t_draws=3)
    assert device_requests == ["cpu"] * 4
    assert len(seen) == len(run["sampling"]) and set(seen) == {(torch.device("cpu"), torch.device("cpu"))}
    # KID's feature extractor: torch-fidelity's `cuda` flag follows the device
    assert fidelity_kwargs("feature-net", "w.pt", 10, None, 2, 0, torch.device("cuda", 0))["cuda"] is True
    assert fidelity_kwargs("feature-net", "w.pt", 10, None, 2, 0, "cpu")["cuda"] is False


def test_feature_net_trains_on_the_requested_device(device_requests, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 1, 8, 8), dtype=np.uint8)
    y = np.arange(64) % 4
    np.savez(tmp_path / "train.npz", x=x, y=y)
    np.savez(tmp_path / "reference.npz", x=x[:16], y=y[:16])
    stages.train_feature_net_run({"name": "toy", "kind": "fmnist", "data_seed": 0}, {"feature_net_steps": 3},
                                 tmp_path / "train.npz", tmp_path / "reference.npz", tmp_path / "net", device="auto")
    assert device_requests == ["auto"] and (tmp_path / "net" / "model.pt").exists()


def test_sampling_device_argument_leaves_cpu_samples_unchanged(suite):
    """The device-parametrised loop on the CPU gives what the loop gave before it existed (the default
    argument), and the samples come back as a CPU array whatever the device. Across batch sizes the samples agree
    to float32 rounding, not bit for bit: each sample has its own noise, but the CPU's matrix kernels block a
    batch of 4 and one of 9 differently (1.5e-5 of values up to 448 with one thread on an AMD EPYC host)."""
    from rpd.diffusion import DiffusionSpec, sample

    cfg = suite[0]
    run = run_config(cfg, Run("model", DATASET, "ddpm", "std", 0))
    torch.manual_seed(0)
    net = stages.build_denoiser(run)
    spec = DiffusionSpec.from_run_config(run)
    args = (spec, net, None, 9, (2,), "ddpm", 4)
    default = sample(*args, seed=3, batch_size=4)
    explicit = sample(*args, seed=3, batch_size=4, device=torch.device("cpu"), precision="fp32")
    assert isinstance(explicit, np.ndarray) and np.array_equal(default, explicit)
    one_batch = sample(*args, seed=3, batch_size=9, device=torch.device("cpu"), precision="fp32")
    np.testing.assert_allclose(one_batch, default, rtol=1e-6, atol=1e-6 * float(np.abs(default).max()))


def test_autocast_is_bf16_only_when_asked():
    layer = torch.nn.Linear(4, 4)
    with autocast("cpu", "bf16"):
        assert layer(torch.ones(2, 4)).dtype == torch.bfloat16
    with autocast("cpu", "fp32"):
        assert layer(torch.ones(2, 4)).dtype == torch.float32
    with pytest.raises(DeviceError, match="config key 'precision'"):
        autocast("cpu", "fp16")


# The stated tolerance: bf16 keeps 8 bits of mantissa (relative rounding 2⁻⁸ ≈ 0.4%) in the network only; the
# sampled distribution's 1WD to the reference moves by less than this share of fp32's value.
BF16_1WD_TOLERANCE = 0.25


def test_bf16_trains_and_samples_within_tolerance_of_fp32(suite, tmp_path):
    cfg, train, reference = copy.deepcopy(suite[0]), suite[1], suite[2]
    cfg["training"].update(steps=200, checkpoint_every=0)  # 1WD 5.10 for both (2.89 at 400 steps, 1.4x the time)
    values = {}
    for precision in ("fp32", "bf16"):
        run = {**run_config({**cfg, "precision": precision}, Run("model", DATASET, "ddpm", "std", 0)), "n_eval": 256,
               "sampling": [["ddim", 20]]}
        assert ("precision" in run) == (precision == "bf16")  # fp32 runs keep their config hash
        folder = tmp_path / precision
        stages.train_model_run(run, train, None, folder)
        stages.sample_model_run(run, folder, None)
        frame = evaluate.evaluate_run(folder, reference, folder / "metrics.csv", run=run)
        values[precision] = float(frame.loc[frame["metric"] == "1wd", "value"].iloc[0])
    fp32, bf16 = values["fp32"], values["bf16"]
    assert np.isfinite(bf16) and abs(bf16 - fp32) <= BF16_1WD_TOLERANCE * fp32, values
    assert not np.array_equal(np.load(sample_file(tmp_path / "fp32", "ddim", 20))["x"],
                              np.load(sample_file(tmp_path / "bf16", "ddim", 20))["x"]), "bf16 had no effect"
    print(f"1WD after 200 steps, DDIM K = 20: fp32 {fp32:.4f}, bf16 {bf16:.4f}")


def test_provenance_is_recorded_at_training_and_carried_into_rows(suite, tmp_path):
    cfg, train, reference = copy.deepcopy(suite[0]), suite[1], suite[2]
    for block in ("prior_training", "training"):
        cfg[block]["steps"] = 20
    cfg["sampling"] = [{"samplers": ["ddim"], "steps": [2]}]
    run, prior = _train_rpd(cfg, train, tmp_path)
    summary = load_json(tmp_path / "rpd" / "train_summary.json")
    assert summary["commit"] == git_commit() and summary["versions"] == package_versions()
    assert summary["device"] == "cpu"
    assert load_state(tmp_path / "rpd" / "model.pt")["provenance"] == {k: summary[k] for k in ("commit", "versions",
                                                                                                "device")}
    # Rows name the code that trained the model, not the code that scores it.
    save_json(tmp_path / "rpd" / "train_summary.json", {**summary, "commit": "abc123", "versions": "torch=0"})
    stages.sample_model_run({**run, "n_eval": 256}, tmp_path / "rpd", prior)
    rows = evaluate.evaluate_run(tmp_path / "rpd", reference, tmp_path / "m.csv", run={**run, "n_eval": 256})
    bound = elbo.elbo_run(tmp_path / "rpd", reference, prior, tmp_path / "elbo.csv", t_draws=2)
    for frame in (rows, bound):
        assert set(frame["commit"]) == {"abc123"} and set(frame["versions"]) == {"torch=0"}


def test_train_seconds_after_a_resume_count_every_process(suite, tmp_path, monkeypatch):
    cfg, train = copy.deepcopy(suite[0]), suite[1]
    cfg["prior_training"].update(steps=100, checkpoint_every=50)
    run = run_config(cfg, Run("prior", DATASET, "vqvae", "std", 0))
    real_save = Checkpoint.save

    class Killed(Exception):
        pass

    def save_then_die(self, state):
        real_save(self, {**state, "train_seconds": state["train_seconds"] + 1000.0})  # a long first process
        raise Killed

    monkeypatch.setattr(Checkpoint, "save", save_then_die)
    with pytest.raises(Killed):
        stages.train_prior_run(run, train, tmp_path / "run")
    monkeypatch.undo()
    stages.train_prior_run(run, train, tmp_path / "run")
    seconds = load_json(tmp_path / "run" / "train_summary.json")["train_seconds"]
    assert 1000 < seconds < 1000 + 600, seconds  # the first process's 1000 s plus this one's few


def test_the_denoiser_job_hands_training_the_runs_settings(suite, tmp_path, monkeypatch):
    """What train_model_run gives rpd.training.fit and the data preparation: the selected device, the run's
    precision, steps × batch size draws (the prior's encodings are computed once when they cover the set), the
    snapshots it then writes, a checkpoint tied to the run config's hash; the summary's time is this training's."""
    cfg = copy.deepcopy(suite[0])
    cfg["prior_training"]["steps"] = 20
    cfg["training"].update(steps=20, checkpoint_every=10)
    stages.train_prior_run(run_config(cfg, Run("prior", DATASET, "vqvae", "std", 0)), train := suite[1],
                           tmp_path / "prior")
    run = run_config({**cfg, "precision": "bf16"}, Run("model", DATASET, "rpd", "std", 0))
    seen, device = {}, torch.device("cpu")
    fit, prepare = stages.fit, stages.denoiser_training
    monkeypatch.setattr(stages, "fit", lambda *a, **kw: seen.update(fit=kw) or fit(*a, **kw))
    monkeypatch.setattr(stages, "denoiser_training", lambda spec, net, prior, data, draws:
                        seen.update(draws=draws) or prepare(spec, net, prior, data, draws))
    monkeypatch.setattr(stages, "select_device", lambda requested, env=None: device)
    start = time.perf_counter()
    stages.train_model_run(run, train, tmp_path / "prior" / "model.pt", tmp_path / "rpd")
    elapsed = time.perf_counter() - start
    assert seen["draws"] == 20 * run["training"]["batch_size"]
    assert seen["fit"]["device"] is device and seen["fit"]["precision"] == "bf16"
    assert seen["fit"]["checkpoint"].fingerprint == config_hash(run)
    states = torch.load(snapshots_file(tmp_path / "rpd"), weights_only=True)
    assert sorted(states) == list(seen["fit"]["snapshots"].steps) and len(states) > 1
    assert 0 < load_json(tmp_path / "rpd" / "train_summary.json")["train_seconds"] < elapsed


def test_the_prior_job_seeds_the_codebook_from_the_data_and_restarts_dead_codes_before_the_last_step(
        suite, tmp_path, monkeypatch):
    """A VQ-VAE's codebook starts by k-means on the training points; dead codes are restarted every 100 steps but
    not after the last one (the decoder would get no update); training runs on the selected device in the run's
    precision, and the summary records the device."""
    from rpd.priors.vae2d import VQVAE2D

    cfg = copy.deepcopy(suite[0])
    cfg["prior_training"].update(steps=200, checkpoint_every=0)
    run = run_config({**cfg, "precision": "bf16"}, Run("prior", DATASET, "vqvae", "std", 0))
    calls, device = [], torch.device("cpu")
    init, restart, fit = VQVAE2D.init_codebook, VQVAE2D.restart_dead_codes, stages.fit
    monkeypatch.setattr(VQVAE2D, "init_codebook", lambda self, x: calls.append(("init", len(x))) or init(self, x))
    monkeypatch.setattr(VQVAE2D, "restart_dead_codes",
                        lambda self, batch: calls.append(("restart", len(batch))) or restart(self, batch))

    def spy_fit(*args, **kwargs):
        calls.append(("fit", kwargs["precision"], kwargs["device"] is device))
        return fit(*args, **kwargs)

    monkeypatch.setattr(stages, "fit", spy_fit)
    monkeypatch.setattr(stages, "select_device", lambda requested, env=None: device)
    stages.train_prior_run(run, suite[1], tmp_path / "prior")
    assert calls == [("init", 1000), ("fit", "bf16", True), ("restart", run["training"]["batch_size"])]
    assert load_json(tmp_path / "prior" / "train_summary.json")["device"] == "cpu"
