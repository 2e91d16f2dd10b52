"""A known-answer run through the job code (rpd.stages, rpd.evaluate): the denoiser is exact, so the answer is known.

The data are Gaussian, r₀ ~ N(m_y, diag s²) (2D points, and 8×8 class-conditional images with a mean image per
class). Its exact ε-predictor, E[ε | r_t] = √(1−ᾱ_t)(r_t − √ᾱ_t m_y)/(ᾱ_t s² + 1 − ᾱ_t), is saved as a run's
``model.pt`` by the training job's writer and loaded back by the sampling job (``rpd.stages.build_denoiser`` is
pointed at the oracle's class: the one substitution). Sampling (``sample_model_run``) and evaluation
(``evaluate_run``, the evaluate job's function) are the jobs' own code: noise per sample, class labels, the
[−1, 1] → uint8 mapping, the saved files, the tidy rows.

Known answers. The probability-flow map of a Gaussian is affine: from the sampler's first time step t₀,
r₀ = m_y + s · (r_T − √ᾱ_t₀ m_y) / √(ᾱ_t₀ s² + 1 − ᾱ_t₀). DDIM with many steps follows it, so each saved DDIM
sample is that map applied to its own starting noise (re-drawn from the job's per-sample generators). The
reference set is those exact images shifted by δ (2D) or the exact images themselves (images); then
W1(samples, reference) = ‖δ‖ exactly for the exact map (the identity coupling costs ‖δ‖ and no coupling costs
less than the mean shift), and deviates from it by at most the largest per-sample error. Ancestral sampling
(DDPM, K = T) draws from the same Gaussian with fresh noise: its per-class moments match m_y and s, and its
metrics match those of an independent exact draw scored the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from rpd import stages
from rpd.config import load_config
from rpd.data.specs import data_shape, num_classes
from rpd.diffusion import sample_generators, sample_labels, step_noise
from rpd.evaluate import evaluate_run
from rpd.io import load_npz, save_npz
from rpd.layout import sample_file
from rpd.metrics.images import classwise_w1, image_w1
from rpd.metrics.wasserstein import w1
from rpd.runs import Run, run_config
from rpd.schedule import alphas_cumprod, make_sampler
from suite import REPO

DDIM_K, ANCESTRAL_K = 1000, 1000  # large K: DDIM close to the flow map, ancestral at every training step


class GaussianEpsPredictor(nn.Module):
    """The exact ε-predictor of r₀ ~ N(m_y, diag s²), with the denoisers' call signature (x_t, t, extra, y).

    DDPM-family: the network sees x_t = r_t (c = 0, s = 1) and no extra input. ``m`` has one mean per class
    (one row for unconditional data); m, s and ᾱ are buffers, so the model file carries them.
    """

    def __init__(self, shape: tuple[int, ...], classes: int, T: int, beta_schedule: str) -> None:
        super().__init__()
        self.register_buffer("m", torch.zeros(max(classes, 1), *shape))
        self.register_buffer("s", torch.ones(shape))
        self.register_buffer("abar", alphas_cumprod(T, beta_schedule).float())

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, extra: list, class_labels: torch.Tensor | None = None):
        assert not extra  # DDPM: the network sees r_t only
        a = self.abar[t].view(-1, *[1] * (x_t.dim() - 1))
        m = self.m[0] if class_labels is None else self.m[class_labels]
        return (1 - a).sqrt() * (x_t - a.sqrt() * m) / (a * self.s**2 + 1 - a)


def oracle_run(tmp_path: Path, monkeypatch, dataset: str, m: torch.Tensor, s: torch.Tensor, n: int) -> dict:
    """A `ci` DDPM run whose model file holds the oracle for N(m, s²); build_denoiser rebuilds the oracle."""
    run = run_config(load_config(REPO / "benchmarks" / "ci.yaml"), Run("model", dataset, "ddpm", "std", 0))
    run = {**run, "n_eval": n, "sample_batch_size": n, "sampling": [["ddim", DDIM_K], ["ddpm", ANCESTRAL_K]]}
    shape, classes = data_shape(run["dataset"]), num_classes(run["dataset"])

    def build(_run: dict) -> nn.Module:
        return GaussianEpsPredictor(shape, classes, run["T"], run["beta_schedule"])

    monkeypatch.setattr(stages, "build_denoiser", build)
    oracle = build(run)
    oracle.m.copy_(m.expand_as(oracle.m))
    oracle.s.copy_(s)
    stages._write_training_outputs(run, oracle, [(0, 0.0)], 0.0, tmp_path)  # model.pt, config.json, summary
    return run


def exact_flow(run: dict, m_y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Where the probability flow takes each sample's own starting noise r_T (from the job's generators)."""
    n, shape = run["n_eval"], data_shape(run["dataset"])
    r_T = next(step_noise(sample_generators(run["seed"], range(n)), shape, 1)).double().numpy()
    t0 = int(make_sampler("ddim", run["T"], run["beta_schedule"], "eps", DDIM_K).timesteps[0])
    a = float(alphas_cumprod(run["T"], run["beta_schedule"])[t0])
    return m_y + s * (r_T - np.sqrt(a) * m_y) / np.sqrt(a * s**2 + 1 - a)


def ancestral_moments(run: dict, m: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the ancestral sampler's output at K = T for r₀ ~ N(m, s²) and the exact ε, in closed form.

    Each DDPM step is affine in r_t: r_{t−1} = a_t r_t + b_t + σ_t z, with DDPM's posterior mean (its eq. 7) at
    x̂₀ = E[r₀ | r_t] and σ_t² = β̃_t (diffusers' "fixed_small"). From r_T ~ N(0, 1): μ ← a μ + b, v ← a² v + σ².
    With T = 1000 steps it is slightly narrower than s for narrow data (s = 0.08: 0.0763), which the test
    must see, not the nominal s.
    """
    abar = alphas_cumprod(run["T"], run["beta_schedule"]).double().numpy()
    mu, v = np.zeros_like(m), np.ones_like(m)
    for t in range(run["T"] - 1, -1, -1):
        ab, ab_prev = abar[t], abar[t - 1] if t > 0 else 1.0
        alpha = ab / ab_prev
        gain = np.sqrt(ab) * s**2 / (ab * s**2 + 1 - ab)  # x̂₀ = m + gain · (r_t − √ᾱ m)
        c_x0, c_rt = np.sqrt(ab_prev) * (1 - alpha) / (1 - ab), np.sqrt(alpha) * (1 - ab_prev) / (1 - ab)
        a, b = c_x0 * gain + c_rt, c_x0 * (m - gain * np.sqrt(ab) * m)
        mu, v = a * mu + b, a * a * v + ((1 - ab_prev) / (1 - ab) * (1 - alpha) if t > 0 else 0.0)
    return mu, np.sqrt(v)


def values(frame: pd.DataFrame, sampler: str, metric: str) -> float:
    row = frame[(frame["sampler"] == sampler) & (frame["metric"] == metric)]
    assert len(row) == 1, (sampler, metric, frame[["sampler", "steps", "metric"]])
    return float(row["value"].iloc[0])


def test_known_answer_2d(tmp_path, monkeypatch):
    m, s = np.array([1.0, -0.5]), np.array([0.3, 0.6])
    delta = np.array([3.0, 4.0])  # ‖δ‖ = 5
    run = oracle_run(tmp_path, monkeypatch, "dino-grid-0.1", torch.tensor(m), torch.tensor(s), n=1000)
    exact = exact_flow(run, m, s)
    save_npz(tmp_path / "reference.npz", x=exact + delta)

    stages.sample_model_run(run, tmp_path, None)
    rows = evaluate_run(tmp_path, tmp_path / "reference.npz", tmp_path / "metrics.csv", run=run)

    ddim = load_npz(sample_file(tmp_path, "ddim", DDIM_K))["x"]
    err = np.linalg.norm(ddim - exact, axis=1).max()
    assert err < 0.05  # DDIM with K = 1000 follows the flow map sample by sample (measured: 0.023 at most with K = 250)
    assert abs(values(rows, "ddim", "1wd") - 5.0) <= err + 1e-6  # W1 = ‖δ‖ up to the largest sample error

    ancestral = load_npz(sample_file(tmp_path, "ddpm", ANCESTRAL_K))["x"]
    n = len(ancestral)
    mean, sd = ancestral_moments(run, m, s)
    assert np.all(np.abs(ancestral.mean(0) - mean) < 5 * sd / np.sqrt(n))
    assert np.all(np.abs(ancestral.std(0) - sd) < 5 * sd / np.sqrt(2 * n))
    # the metric agrees with an independent exact draw scored against the same reference (sampling noise of
    # the two-sample W1 at N = 1000 in 2D: a few hundredths)
    independent = m + s * np.random.default_rng(1).standard_normal((n, 2))
    assert values(rows, "ddpm", "1wd") == pytest.approx(w1(independent, exact + delta), abs=0.08)
    assert values(rows, "ddpm", "1wd") == pytest.approx(values(rows, "ddim", "1wd"), abs=0.08)  # DDIM ≈ ancestral
    assert set(rows["steps"]) == {DDIM_K, ANCESTRAL_K} and (rows["n"] == n).all()
    assert pd.read_csv(tmp_path / "metrics.csv")["value"].tolist() == pytest.approx(rows["value"].tolist())


def class_means(classes: int, shape: tuple[int, ...]) -> torch.Tensor:
    """A distinct mean image per class in model space: brightness by class, a ramp whose direction flips."""
    ramp = torch.linspace(-0.15, 0.15, shape[-1]).expand(shape)
    return torch.stack([-0.5 + 0.09 * y + (ramp if y % 2 else -ramp) for y in range(classes)])


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Model space [−1, 1] to stored pixels, independently of the job's own mapping."""
    return np.round(np.clip((x + 1) / 2, 0, 1) * 255).astype(np.uint8)


def test_known_answer_class_conditional_images(tmp_path, monkeypatch):
    n, sd = 500, 0.08
    cfg_dataset = run_config(load_config(REPO / "benchmarks" / "ci.yaml"), Run("model", "fmnist-8", "ddpm", "std", 0))
    shape, classes = data_shape(cfg_dataset["dataset"]), num_classes(cfg_dataset["dataset"])
    means = class_means(classes, shape)
    run = oracle_run(tmp_path, monkeypatch, "fmnist-8", means, torch.full(shape, sd), n=n)
    run = {**run, "kid": {**run["kid"], "subsets": 10}}  # KID of the same images is 0 on any subsets; 100 cost 0.5 s
    labels = sample_labels(n, classes)
    m_y = means.double().numpy()[labels]
    exact = exact_flow(run, m_y, np.full(shape, sd))
    reference = {"x": to_uint8(exact), "y": labels}
    save_npz(tmp_path / "reference.npz", **reference)
    # the KID feature net, trained by its job on an independent exact draw (labels i mod C)
    rng = np.random.default_rng(2)
    train_y = np.arange(1000) % classes
    train = to_uint8(means.numpy()[train_y] + sd * rng.standard_normal((1000, *shape)))
    save_npz(tmp_path / "train.npz", x=train, y=train_y)
    net_dir = tmp_path / "feature-net"
    stages.train_feature_net_run(run["dataset"], {**run["kid"], "feature_net_steps": 10}, tmp_path / "train.npz",
                                 tmp_path / "reference.npz", net_dir)

    stages.sample_model_run(run, tmp_path, None)
    rows = evaluate_run(tmp_path, tmp_path / "reference.npz", tmp_path / "metrics.csv", net_dir / "model.pt", run)

    ddim = load_npz(sample_file(tmp_path, "ddim", DDIM_K))
    assert ddim["x"].dtype == np.uint8 and (ddim["y"] == labels).all()
    flips = np.abs(ddim["x"].astype(int) - reference["x"].astype(int))
    assert flips.max() <= 1  # each stored pixel is the flow map's, up to one quantisation step
    bound = np.sqrt((flips.astype(float) ** 2).reshape(n, -1).sum(1)).max() / 255
    assert values(rows, "ddim", "1wd") <= bound + 1e-9 and values(rows, "ddim", "cw1wd") <= bound + 1e-9
    assert abs(values(rows, "ddim", "kid")) < 0.01, values(rows, "ddim", "kid")  # the same images up to rounding

    ancestral = load_npz(sample_file(tmp_path, "ddpm", ANCESTRAL_K))
    x = ancestral["x"].astype(float) / 255 * 2 - 1  # back to model space (quantisation: ±1/255)
    assert (ancestral["y"] == labels).all()
    mean, out_sd = ancestral_moments(run, means.double().numpy(), np.full(shape, sd))
    per_class = n // classes
    for y in range(classes):  # each class's samples have that class's mean image and the predicted sd
        xs = x[ancestral["y"] == y]
        assert np.abs(xs.mean(0) - mean[y]).max() < 5 * out_sd.max() / np.sqrt(per_class) + 1 / 255, y
    resid = x - mean[ancestral["y"]]  # 32,000 values: the pooled sd is known to ±0.4% (quantisation adds 0.05%)
    assert resid.std() == pytest.approx(out_sd.mean(), rel=0.02)
    assert resid.std() < 0.97 * sd  # measured 0.0759: the bias of ancestral DDPM at T = 1000 is real
    # DDIM and ancestral agree at large K: the ancestral metrics equal those of an independent exact draw
    independent = to_uint8(m_y + sd * np.random.default_rng(3).standard_normal((n, *shape)))
    expected_1wd, expected_cw = image_w1(independent, reference["x"]), classwise_w1(independent, labels,
                                                                                    reference["x"], labels)
    assert values(rows, "ddpm", "1wd") == pytest.approx(expected_1wd, rel=0.1)
    assert values(rows, "ddpm", "cw1wd") == pytest.approx(expected_cw, rel=0.1)
    # class labels matter: the same samples scored as class y + 1 are far worse
    shifted = classwise_w1(ancestral["x"], (ancestral["y"] + 1) % classes, reference["x"], labels)
    assert shifted > 2 * values(rows, "ddpm", "cw1wd")
