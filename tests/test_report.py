"""The HTML report renders from a small synthetic results tree (no training, no torch)."""

from __future__ import annotations

import itertools
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rpd.data.grid import make_grid_dataset
from rpd.io import save_npz
from rpd.layout import run_folder, sample_file
from rpd.report import ReportInputs, render_report
from rpd.report.plots import GALLERY_COLUMNS, gallery_rows
from rpd.report.stats import paired_outcomes, t_interval

EVIL = "<script>alert(1)</script>"
EVIL_DS = "<img src=x onerror=alert(2)>"  # a dataset name is a folder name: no slash allowed, but HTML is
N = 64
SEEDS = [0, 1, 2]  # the decision rule needs 3 paired seeds (SPEC §7)
IMG = "img"  # a small labelled image data set (stands in for fmnist)
CLASSES = 3


def _config() -> dict:
    sizes = {"std": {"hidden": 32, "depth": 2}, "small": {"hidden": 16, "depth": 2}}
    training = {"steps": 10, "batch_size": 8, "lr": 1e-3, "ema_decay": 0.0, "warmup": 0, "grad_clip": 1.0,
                "log_every": 5}
    dataset = {"kind": "grid", "shape": "dino", "grid": 2, "jitter": 0.02, "n_train": 100, "data_seed": 1}
    vq = {"family": "rpd", "prior": "vqvae", "prior_size": "std", "target": "eps", "aux": "omega"}
    return {
        "suite": "t", "T": 100, "beta_schedule": "linear", "seeds": SEEDS, "n_eval": N, "threads": 1,
        "sample_batch_size": N,
        "datasets": {"d-0.1": {**dataset, "scale": 0.1}, "d-0.4": {**dataset, "scale": 0.4},
                     EVIL_DS: {**dataset, "scale": 0.1}, IMG: {"kind": "fmnist", "resolution": 8}},
        "priors": {"vqvae": {"kind": "vqvae", "codes": 4, "latent_dim": 2, "commitment": 0.25, "beta": 1.0,
                             "sigma_floor": 0.1},
                   "betavae": {"kind": "betavae", "latent_dim": 2, "codes": 16, "commitment": 0.25, "beta": 1.0,
                               "sigma_floor": 0.1}},
        "prior_sizes": sizes, "prior_training": training, "networks": sizes, "training": training,
        "models": {
            "rpd": vq,
            EVIL: {**vq, "target": "v"},
            "rpd_mu": {**vq, "aux": "mu"},
            "rpd_b": {**vq, "prior": "betavae"},
            "rpd_bs": {**vq, "prior": "betavae", "prior_size": "small"},
            "ddpm": {"family": "ddpm", "target": "eps", "aux": "omega"},
            "diffusevae1": {"family": "diffusevae1", "prior": "betavae", "prior_size": "std", "target": "eps",
                            "aux": "omega"},
        },
        "sampling": [{"samplers": ["ddpm", "ddim"], "steps": [1, 10]}],
        "experiments": {
            "e1": {"datasets": ["d-0.1"], "models": ["rpd", EVIL, "ddpm", "diffusevae1"], "sizes": ["std", "small"]},
            "e2": {"datasets": ["d-0.1", EVIL_DS], "models": ["rpd", EVIL, "ddpm", "diffusevae1"], "sizes": ["std"]},
            "e3": {"datasets": ["d-0.1"], "models": ["rpd", "ddpm"], "sizes": ["std", "small"]},
            "e4": {"datasets": ["d-0.1"], "models": ["rpd", "rpd_mu"], "sizes": ["std"]},
            "e5": {"datasets": ["d-0.1"], "models": ["rpd_b", "rpd_bs"], "sizes": ["std"]},
            "e6": {"datasets": [IMG], "models": ["rpd", "ddpm"], "sizes": ["std"]},
            "e7": {"datasets": ["d-0.1", "d-0.4"], "models": ["rpd", "ddpm"], "sizes": ["std"],
                   "sampling": [{"samplers": ["ddim"], "steps": [10]}]},
            "e8": {"datasets": ["d-0.1"], "models": ["rpd_b", "diffusevae1"], "sizes": ["std"]},  # same prior
        },
    }


def class_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n grey 8×8 uint8 images (as the pipeline stores them) whose pixels are about 255·class/10, with labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % CLASSES
    x = np.clip(y[:, None, None, None] / 10 + 0.02 * rng.random((n, 1, 8, 8)), 0, 1)
    return np.round(255 * x).astype(np.uint8), y


def _results_tree(root: Path, cfg: dict) -> Path:
    """Reference sets, sample files (none for the EVIL model), losses and metrics.csv under root/results/t."""
    out = root / "results" / cfg["suite"]
    rng = np.random.default_rng(0)
    rows = []
    base = {"suite": "t", "n": N, "commit": "abc123", "config_hash": "h", "versions": "numpy=1;pot=2",
            "device": "cpu", "train_seconds": 2.0, "sample_seconds": 0.5, "eval_seconds": 0.1, "extractor": ""}

    def run(dataset: str, name: str, family: str, size: str, seed: int, pairs, quality: float) -> None:
        run_dir = out / run_folder(f"{dataset}/{name}-{size}", seed)
        image = dataset == IMG
        for sampler, steps in pairs:
            if name != EVIL:
                if image:  # every model its own images, so a gallery showing another's is caught
                    x, y = class_images(N, seed + steps + 1000 * len(name))
                    save_npz(sample_file(run_dir, sampler, steps), x=x, y=y, seconds=np.array(0.5))
                else:
                    x = make_grid_dataset("dino", 2, cfg["datasets"][dataset]["scale"], quality, N, seed + steps)
                    save_npz(sample_file(run_dir, sampler, steps), x=x, seconds=np.array(0.5))
            metrics = {"1wd": "", "cw1wd": "", "kid": EVIL} if image else {"1wd": "", "rw1wd": "", "mass_error": ""}
            for metric, extractor in metrics.items():
                rows.append({**base, "dataset": dataset, "model": name, "family": family, "size": size, "seed": seed,
                             "sampler": sampler, "steps": steps, "metric": metric, "extractor": extractor,
                             "value": quality / max(steps, 1) ** 0.1 + 0.01 * rng.random(),
                             "parameters": 1000 if size == "std" else 400})
        if family not in ("vqvae", "betavae"):
            steps_logged = np.arange(5, 55, 5)
            save_npz(run_dir / "losses.npz", step=steps_logged, loss=quality * 2 / np.sqrt(steps_logged) + 0.01 * seed)
        run_set = out / dataset / f"{name}-{size}"  # every job processes a run set (all its seeds)
        run_set.mkdir(parents=True, exist_ok=True)
        for job in ("train", "sample", "evaluate"):
            (run_set / f"{job}.benchmark.tsv").write_text("s\th:m:s\tmax_rss\tcpu_time\n1.5\t0:00:01\t321.0\t1.2\n")

    for dataset, ds in cfg["datasets"].items():
        if dataset == IMG:
            x, y = class_images(N, 99)
            save_npz(out / dataset / "reference.npz", x=x, y=y)
        else:
            save_npz(out / dataset / "reference.npz", x=make_grid_dataset("dino", 2, ds["scale"], 0.02, N, 99))
        for prior, size, seed in itertools.product(("vqvae", "betavae"), ("std", "small"), SEEDS):
            run(dataset, prior, prior, size, seed, [("prior", 0)], 1.0 if size == "std" else 1.5)
    pairs = list(itertools.product(["ddpm", "ddim"], [1, 10]))
    quality = {"rpd": 0.1, EVIL: 0.2, "rpd_mu": 0.3, "rpd_b": 0.2, "rpd_bs": 0.5, "ddpm": 0.6, "diffusevae1": 0.4}
    for (name, m), size, seed in itertools.product(cfg["models"].items(), ["std", "small"], SEEDS):
        for dataset in ("d-0.1", EVIL_DS):
            run(dataset, name, m["family"], size, seed, pairs, quality[name])
    for name, seed in itertools.product(["rpd", "ddpm"], SEEDS):
        run("d-0.4", name, cfg["models"][name]["family"], "std", seed, [("ddim", 10)], quality[name])
        run(IMG, name, cfg["models"][name]["family"], "std", seed, pairs, quality[name])
    for name, seed in itertools.product(["rpd_b", "diffusevae1"], SEEDS):
        for metric, value in (("elbo", 3.0), ("elbo_diffusion", 2.0), ("j2", 0.5)):
            rows.append({**base, "dataset": "d-0.1", "model": name, "family": cfg["models"][name]["family"],
                         "size": "std", "seed": seed, "sampler": "bound", "steps": 100, "metric": metric,
                         "value": value * (1 if name == "rpd_b" else 2) + 0.01 * seed, "parameters": 1000})
    pd.DataFrame(rows).to_csv(out / "metrics.csv", index=False)
    return out / "metrics.csv"


def _render(root: Path, cfg: dict) -> tuple[Path, str]:
    metrics = _results_tree(root, cfg)
    html = render_report(ReportInputs.for_results(metrics.parent, cfg), cfg, root / "reports" / "t")
    return html, html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")  # module scope: tests/mutmut_plugin.py runs tests needing a built report last
def report(synthetic_report) -> tuple[Path, str]:
    """The synthetic report (tests/conftest.py renders it once per session)."""
    return synthetic_report.html, synthetic_report.text


@pytest.fixture(scope="module")
def e1_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cfg = _config()
    cfg["experiments"] = {"e1": cfg["experiments"]["e1"]}
    return _render(tmp_path_factory.mktemp("report_e1"), cfg)


def test_sections_present(report: tuple[Path, str]) -> None:
    _, text = report
    for fid in ("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "methods", "claims", "jobs"):
        assert f'id="{fid}"' in text, fid
    for heading in ("Provenance", "RPD wins", "RW-1WD 95% interval", "emd2", "trailing",
                    "clip_sample=False", "DDIMScheduler", "abc123", "Verdict on C1", "Verdict on C4",
                    "−ELBO", "J₂", "mean training loss", "CW-1WD", "max RSS MB", "non-inferiority"):
        assert heading in text, heading
    assert "<!DOCTYPE html>" in text
    assert "(not run)" not in text.split('id="claims"')[1].split("</table>")[0]  # every claim's family ran


def test_claim_verdicts_follow_the_data(report: tuple[Path, str]) -> None:
    _, text = report
    claims = text.split('id="claims"')[1].split("</table>")[0]
    rows = {r.split("<td>")[1].split("</td>")[0]: r for r in claims.split("<tr")[2:]}
    # rpd (0.1 + noise) beats ddpm (0.6) on every seed: C1 and C2 supported.
    assert "<td>supported</td>" in rows["C1"] and "<td>supported</td>" in rows["C2"]
    # rpd_mu's loss curve sits above rpd's: C4 supported; rpd_bs (0.5) worse than rpd_b (0.2): C5 supported.
    assert "<td>supported</td>" in rows["C4"] and "<td>supported</td>" in rows["C5"]
    assert "<td>supported</td>" in rows["C6"]  # on the same β-VAE, RPD's J₂ is half DiffuseVAE's
    assert 'href="#e3"' in rows["C3"]


def test_families_not_run_are_listed(e1_only: tuple[Path, str]) -> None:
    _, text = e1_only
    for fid, title in [("E2", "Few steps"), ("E3", "Network size"), ("E4", "Auxiliary variable"),
                       ("E5", "Prior capacity"), ("E6", "Conditional FMNIST"), ("E7", "Scale sweep"),
                       ("E8", "ELBO consistency")]:
        assert f"{fid} {title} (not run)" in text
    assert "E1 Fine structure (not run)" not in text
    claims = text.split('id="claims"')[1].split("</table>")[0]
    assert claims.count("<td>not run</td>") == 5  # C2–C6; C1 has results
    for fid in ("E2", "E3", "E4", "E5", "E8"):
        assert f"{fid} is not in this suite" in claims


def test_figures_exist_and_are_relative(report: tuple[Path, str]) -> None:
    html, text = report
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert len(sources) >= 15  # scatter grids, metric-vs-K, vs parameters, loss curves, image galleries
    for src in sources:
        assert not src.startswith(("/", "http:", "https:", "file:")) and ".." not in src
        png = html.parent / src
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Offline: no external resources of any kind.
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert not re.search(r"@import|url\(", text)


def test_names_are_escaped(report: tuple[Path, str]) -> None:
    _, text = report
    assert EVIL not in text and EVIL_DS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text
    assert text.count("<script>") == 1  # the table sorter only
    for alt in re.findall(r'alt="([^"]*)"', text):
        assert "<" not in alt and ">" not in alt
    # The evil names reach the new sections too (E2 tables, KID extractor in E6), escaped.
    for fid in ("e2", "e6"):
        body = text.split(f'id="{fid}"')[1].split("<h2")[0]
        assert "&lt;script&gt;" in body or "&lt;img" in body, fid


def test_image_gallery_rows_are_classes(report: tuple[Path, str]) -> None:
    x, y = class_images(40, 3)
    rows, labels = gallery_rows(x, y, list(range(CLASSES)))
    assert labels == [f"class {c}" for c in range(CLASSES)]
    for c, row in enumerate(rows):
        assert 0 < len(row) <= GALLERY_COLUMNS
        assert all(abs(float(im.mean()) / 255 - c / 10) < 0.03 for im in row)  # every image of row c is of class c
    rows, labels = gallery_rows(x, None, None)
    assert len(rows) == 2 and labels[0] == "samples 1–8" and len(rows[0]) == GALLERY_COLUMNS
    html, text = report
    e6 = text.split('id="e6"')[1].split("<h2")[0]
    galleries = re.findall(r'<img src="([^"]+)" alt="Samples of (\w+)-std', e6)
    assert {m for _, m in galleries} == {"rpd", "ddpm"}
    for src, _ in galleries:
        width, height = struct.unpack(">II", (html.parent / src).read_bytes()[16:24])  # PNG IHDR
        assert width > 100 and height > 60
    assert "one row per class" in e6


def test_report_in_chromium(report: tuple[Path, str], tmp_path: Path) -> None:
    """The synthetic report (evil names in every section) in a real browser: no script runs, images load."""
    from browser import Chromium, find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no chromium binary (apt-get install chromium)")
    html, _ = report
    with Chromium(chromium) as browser:
        page = browser.load(html.as_uri())
        scripts = browser.evaluate("document.querySelectorAll('script').length")
        shown = browser.evaluate("document.body.innerText")
        dialogs = [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]
    assert page.errors == [] and not dialogs and scripts == 1
    assert [i["src"] for i in page.images if i["naturalWidth"] == 0] == []
    assert EVIL in shown and EVIL_DS in shown  # shown as text


def test_paired_comparison_and_intervals(report: tuple[Path, str]) -> None:
    _, text = report
    # rpd (0.1…0.11) always beats ddpm (0.6…0.61): every seed wins, and the interval excludes a ratio of 1.
    assert "3/3" in text and "RPD better" in text
    mean, sd, n, lo, hi = t_interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3) and sd == pytest.approx(1.0)
    assert hi - mean == pytest.approx(4.302652729911275 / np.sqrt(3))  # t_{0.975, 2}
    frame = pd.DataFrame({"dataset": "d", "size": "std", "sampler": "ddim", "steps": 10, "metric": "rw1wd",
                          "model": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "value": [1.0, 3.0, 2.0, 2.0]})
    (d,) = paired_outcomes(frame, ["a"], ["b"], "rw1wd")
    assert (d.seeds, d.wins) == (2, 1) and d.mean == pytest.approx(np.mean(np.log([0.5, 1.5])))  # log ratio
