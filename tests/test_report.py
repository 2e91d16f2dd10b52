"""The HTML report renders from a small synthetic results tree (no training, no torch)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.data.grid import make_grid_dataset
from rpd.io import save_npz
from rpd.layout import sample_file
from rpd.report import render_report
from rpd.report.render import paired_differences, t_interval

EVIL = "<script>alert(1)</script>"
N = 64
SEEDS = [0, 1]


def _config() -> dict:
    sizes = {"std": {"hidden": 32, "depth": 2}, "small": {"hidden": 16, "depth": 2}}
    training = {"steps": 10, "batch_size": 8, "lr": 1e-3, "ema_decay": 0.0, "warmup": 0, "grad_clip": 1.0,
                "log_every": 5}
    dataset = {"kind": "grid", "shape": "dino", "grid": 2, "jitter": 0.02, "n_train": 100, "data_seed": 1}
    return {
        "suite": "t", "T": 100, "beta_schedule": "linear", "seeds": SEEDS, "n_eval": N, "threads": 1,
        "sample_batch_size": N,
        "datasets": {"d-0.1": {**dataset, "scale": 0.1}, "d-0.4": {**dataset, "scale": 0.4}},
        "priors": {"vqvae": {"kind": "vqvae", "codes": 4, "latent_dim": 2, "commitment": 0.25, "beta": 1.0,
                             "sigma_floor": 0.1},
                   "betavae": {"kind": "betavae", "latent_dim": 2, "codes": 16, "commitment": 0.25, "beta": 1.0,
                               "sigma_floor": 0.1}},
        "prior_sizes": sizes, "prior_training": training, "networks": sizes, "training": training,
        "models": {
            "rpd": {"family": "rpd", "prior": "vqvae", "prior_size": "std", "target": "eps", "aux": "omega"},
            EVIL: {"family": "rpd", "prior": "vqvae", "prior_size": "std", "target": "v", "aux": "omega"},
            "ddpm": {"family": "ddpm", "target": "eps", "aux": "omega"},
            "diffusevae1": {"family": "diffusevae1", "prior": "betavae", "prior_size": "std", "target": "eps",
                            "aux": "omega"},
        },
        "sampling": [{"samplers": ["ddpm", "ddim"], "steps": [1, 10]}],
        "experiments": {
            "e1": {"datasets": ["d-0.1"], "models": ["rpd", EVIL, "ddpm", "diffusevae1"], "sizes": ["std", "small"]},
            "e7": {"datasets": ["d-0.1", "d-0.4"], "models": ["rpd", "ddpm"], "sizes": ["std"],
                   "sampling": [{"samplers": ["ddim"], "steps": [10]}]},
        },
    }


def _results_tree(root: Path, cfg: dict) -> Path:
    """reference.npz, sample files (none for the EVIL model) and metrics.csv under root/results/t."""
    out = root / "results" / cfg["suite"]
    rng = np.random.default_rng(0)
    rows = []
    base = {"suite": "t", "n": N, "commit": "abc123", "config_hash": "h", "versions": "numpy=1;pot=2",
            "device": "cpu", "train_seconds": 2.0, "sample_seconds": 0.5, "eval_seconds": 0.1}

    def run(dataset: str, name: str, family: str, size: str, seed: int, pairs, quality: float) -> None:
        ds = cfg["datasets"][dataset]
        for sampler, steps in pairs:
            if name != EVIL:
                x = make_grid_dataset("dino", 2, ds["scale"], quality, N, seed + steps)
                save_npz(sample_file(out / dataset / f"{name}-{size}" / f"seed{seed}", sampler, steps), x=x,
                         seconds=np.array(0.5))
            for metric in ("1wd", "rw1wd", "mass_error"):
                rows.append({**base, "dataset": dataset, "model": name, "family": family, "size": size, "seed": seed,
                             "sampler": sampler, "steps": steps, "metric": metric,
                             "value": quality + 0.05 * rng.random(), "parameters": 1000 if size == "std" else 400})

    for dataset, ds in cfg["datasets"].items():
        save_npz(out / dataset / "reference.npz", x=make_grid_dataset("dino", 2, ds["scale"], 0.02, N, 99))
        for prior, seed in itertools.product(("vqvae", "betavae"), SEEDS):
            run(dataset, prior, prior, "std", seed, [("prior", 0)], 1.0)
    pairs = list(itertools.product(["ddpm", "ddim"], [1, 10]))
    quality = {"rpd": 0.1, EVIL: 0.2, "ddpm": 0.6, "diffusevae1": 0.4}
    for (name, m), size, seed in itertools.product(cfg["models"].items(), ["std", "small"], SEEDS):
        run("d-0.1", name, m["family"], size, seed, pairs, quality[name])
    for name, seed in itertools.product(["rpd", "ddpm"], SEEDS):
        run("d-0.4", name, cfg["models"][name]["family"], "std", seed, [("ddim", 10)], quality[name])
    pd.DataFrame(rows).to_csv(out / "metrics.csv", index=False)
    return out / "metrics.csv"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("report")
    cfg = _config()
    metrics = _results_tree(root, cfg)
    html = root / "reports" / "t" / "index.html"
    render_report(metrics, cfg, html)
    return html, html.read_text(encoding="utf-8")


def test_sections_present(report: tuple[Path, str]) -> None:
    _, text = report
    for heading in ('id="e1"', 'id="e7"', 'id="methods"', "Provenance", "RPD against DDPM, seed-paired",
                    "RW-1WD 95% interval", "emd2", "trailing", "clip_sample=False",
                    "DDIMScheduler", "abc123"):
        assert heading in text, heading
    assert "<!DOCTYPE html>" in text


def test_families_not_run_are_listed(report: tuple[Path, str]) -> None:
    _, text = report
    for fid, title in [("E2", "Few steps"), ("E3", "Network size"), ("E4", "Auxiliary variable"),
                       ("E5", "Prior capacity"), ("E6", "Conditional FMNIST"), ("E8", "ELBO consistency")]:
        assert f"{fid} {title} (not run)" in text
    assert "E1 Fine structure (not run)" not in text and "E7 Scale sweep (not run)" not in text


def test_figures_exist_and_are_relative(report: tuple[Path, str]) -> None:
    html, text = report
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert len(sources) >= 2  # E1 scatter grid and E7 scale sweep
    for src in sources:
        assert not src.startswith(("/", "http:", "https:", "file:")) and ".." not in src
        png = html.parent / src
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Offline: no external resources of any kind.
    assert not re.search(r'(src|href)="(https?:)?//', text)


def test_names_are_escaped(report: tuple[Path, str]) -> None:
    _, text = report
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_paired_comparison_and_intervals(report: tuple[Path, str]) -> None:
    _, text = report
    # rpd (0.1…0.15) always beats ddpm (0.6…0.65): every seed wins, and the interval excludes 0.
    assert "2/2" in text and "RPD better" in text
    mean, sd, n, lo, hi = t_interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3) and sd == pytest.approx(1.0)
    assert hi - mean == pytest.approx(4.302652729911275 / np.sqrt(3))  # t_{0.975, 2}
    frame = pd.DataFrame({"dataset": "d", "size": "std", "sampler": "ddim", "steps": 10, "metric": "rw1wd",
                          "model": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "value": [1.0, 3.0, 2.0, 2.0]})
    d = paired_differences(frame, ["a"], ["b"]).iloc[0]
    assert (d["seeds"], d["mean"], d["wins"]) == (2, 0.0, 1)
