"""rpd.report.methods on a hand-made config and metrics rows: the numbers the Methods text and tables show.

Every number in Methods comes from the config, metrics.csv or the code; these tests check that each one is the
right one (N, K per sampler, seeds, thresholds, parameter counts, training settings) without rendering a report
(issue 18: a mutant of a Methods builder dies in a fraction of a second).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rpd.report import methods as M
from rpd.report.context import Context

CODE = {"beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "alpha_bar_T": 4.04e-5,
        "time_embedding": 64, "groupnorm_groups": 8}
CONFIG = {
    "T": 500, "beta_schedule": "cosine", "n_eval": 77, "seeds": [3, 5],
    "datasets": {"g": {"kind": "grid", "shape": "dino", "grid": 3, "scale": 0.25, "jitter": 0.1, "n_train": 900,
                       "data_seed": 11},
                 "h": {"kind": "grid", "scale": 0.5},
                 "f": {"kind": "fmnist", "resolution": 8, "classes": {"a": 1}}},
    "sampling": [{"samplers": ["ddim"], "steps": [3, 1]}],
    "experiments": {"e1": {"models": ["rpd"]},
                    "e2": {"models": ["ddpm"], "sampling": [{"samplers": ["ddpm", "ddim"], "steps": [100, 10]}]}},
    "models": {"ddpm": {"family": "ddpm", "target": "eps"},
               "rpd": {"family": "rpd", "prior": "vq", "prior_size": "s", "target": "v", "aux": "omega",
                       "hidden": "not shown"}},
    "priors": {"vq": {"kind": "vqvae", "codes": 16, "latent_dim": 2}},
    "networks": {"small": {"width": 32}, "big": {"width": 128, "depth": 4}},
    "image_networks": {"tiny": {"channels": [8, 16]}},
    "prior_sizes": {"s": {"width": 8}},
    "training": {"steps": 1000, "batch_size": 64, "lr": 0.001, "ema_decay": 0.999, "warmup": 10, "grad_clip": 1.0},
    "prior_training": {"steps": 200},
    "image_training": {"steps": 50, "lr": 0.0002},
    "sanity": {"max_out_of_range": 0.02, "min_accuracy_ratio": 0.75, "min_steps": 4},
}


def row(model: str, size: str, parameters: float, dataset: str = "g", metric: str = "rw1wd", n: float = 77,
        **extra: object) -> dict:
    family = CONFIG["models"].get(model, {}).get("family", "vqvae")
    return {"suite": "s", "dataset": dataset, "model": model, "family": family, "size": size, "seed": 3,
            "sampler": "ddim", "steps": 1, "metric": metric, "value": 1.0, "n": n, "parameters": parameters,
            "extractor": "", **extra}


def metrics() -> pd.DataFrame:
    return pd.DataFrame([row("rpd", "small", 100), row("rpd", "big", 900), row("rpd", "big", 910, n=50),
                         row("ddpm", "small", 120), row("vq", "s", 30), row("rpd", "tiny", 5000, dataset="f",
                                                                             metric="kid", extractor="lenet")])


def ctx_of(m: pd.DataFrame, config: dict = CONFIG) -> Context:
    return Context(config, m, inputs=None, out_dir=Path("."))


def items(ctx: Context) -> dict[str, str]:
    return dict(M.method_items(ctx, CODE))


def test_method_items_show_n_the_schedule_and_k_per_sampler() -> None:
    text = items(ctx_of(metrics()))
    assert list(text) == ["1WD", "RW-1WD", "mass error", "diffusion", "samplers", "sampling z",
                          "seeds and intervals", "sample figures"]
    assert text["1WD"].startswith("Exact Wasserstein-1 distance between the N = 50, 77 generated points")
    assert text["diffusion"].startswith("T = 500, β schedule cosine (diffusers linear) from β_start = 0.0001 to "
                                        "β_end = 0.02, ᾱ_T = 4e-05. Every family")
    assert text["samplers"].endswith("K per sampler: ddim: 1, 3, 10, 100; ddpm: 10, 100.")
    assert text["seeds and intervals"].startswith("Seeds 3, 5; each seed")
    assert text["sample figures"].startswith("Full views and galleries: seed 3; ")


def test_method_items_without_n_rows_fall_back_to_the_config() -> None:
    m = metrics().assign(n=float("nan"))
    assert items(ctx_of(m))["1WD"].startswith("Exact Wasserstein-1 distance between the N = 77 generated")
    defaults = {k: v for k, v in CONFIG.items() if k not in ("T", "beta_schedule", "seeds")}
    text = items(ctx_of(metrics(), defaults))
    assert text["diffusion"].startswith("T = 1000, β schedule linear (diffusers linear)")
    assert text["seeds and intervals"].startswith("Seeds ; each seed")
    assert text["sample figures"].startswith("Full views and galleries: seed 0; ")


def test_dataset_tables_show_each_grid_setting_and_the_image_specs() -> None:
    grids, images = M.dataset_tables(CONFIG)
    assert grids.columns == ["dataset", "shape", "grid", "scale", "jitter", "n_train", "data_seed"]
    assert grids.rows == [["g", "dino", "3", "0.25", "0.1", "900", "11"], ["h", "", "4", "0.5", "", "", ""]]
    assert grids.numeric == [False, False, True, True, True, True, True]
    assert grids.caption.startswith("Datasets (Datasaurus shape")
    assert images.rows == [["f", "kind=fmnist, resolution=8, classes={a=1}"]]
    assert images.columns == ["dataset", "settings"]
    only_grids = {**CONFIG, "datasets": {"g": CONFIG["datasets"]["g"]}}
    assert len(M.dataset_tables(only_grids)) == 1


def test_network_table_lists_each_run_network_with_its_parameter_counts() -> None:
    t = M.network_table(ctx_of(metrics()), CODE)
    assert t.columns == ["model", "family", "settings", "size", "network", "parameters"]
    assert t.rows == [
        ["vq", "VQ-VAE prior", "codes=16, latent_dim=2", "s (2D)", "width=8", "30"],
        ["ddpm", "DDPM", "target=eps", "small (2D)", "width=32", "120"],
        ["rpd", "RPD", "prior=vq, prior_size=s, target=v, aux=omega", "big (2D)", "width=128, depth=4", "900, 910"],
        ["rpd", "RPD", "prior=vq, prior_size=s, target=v, aux=omega", "small (2D)", "width=32", "100"],
        ["rpd", "RPD", "prior=vq, prior_size=s, target=v, aux=omega", "tiny (images)", "channels=[8, 16]", "5000"]]
    assert t.numeric == [False] * 5 + [True]
    assert "with a 64-d sinusoidal time embedding" in t.caption
    assert "GroupNorm with 8 groups" in t.caption
    empty = M.network_table(ctx_of(metrics().iloc[:0]), CODE)
    assert empty.rows == []
    # each model's sizes in the order of its own counts: ddpm's big network is its smaller one
    own = M.network_table(ctx_of(pd.concat([metrics(), pd.DataFrame([row("ddpm", "big", 10)])])), CODE)
    assert [(r[0], r[3], r[5]) for r in own.rows if r[0] != "vq"] == [
        ("ddpm", "small (2D)", "120"), ("ddpm", "big (2D)", "10"), ("rpd", "big (2D)", "900, 910"),
        ("rpd", "small (2D)", "100"), ("rpd", "tiny (images)", "5000")]


def test_training_table_per_stage_and_modality() -> None:
    t = M.training_table(CONFIG)
    assert t.columns == ["stage", "steps", "batch size", "lr", "EMA decay", "warmup", "grad clip"]
    assert t.rows == [["prior (images)", "—", "—", "—", "—", "—", "—"],
                      ["diffusion (images)", "50", "—", "0.0002", "—", "—", "—"],
                      ["prior (2D)", "200", "—", "—", "—", "—", "—"],
                      ["diffusion (2D)", "1000", "64", "0.001", "0.999", "10", "1.0"]]
    assert t.numeric == [False] + [True] * 6


def test_sanity_text_gives_the_suites_thresholds() -> None:
    text = M.sanity_text(ctx_of(metrics()))
    assert "widened by 25% of its width per side" in text
    assert "at every K ≥ 4 at most 2% of values are outside and the accuracy ratio is at least 0.75" in text
    default = M.sanity_text(ctx_of(metrics(), {k: v for k, v in CONFIG.items() if k != "sanity"}))
    assert "at every K ≥ 10 at most 5% of values are outside and the accuracy ratio is at least 0.5" in default


def test_judging_items_name_the_kid_extractor_and_the_image_datasets() -> None:
    text = dict(M.judging_items(ctx_of(metrics())))
    assert list(text)[:4] == ["verdicts", "sanity of the samples", "data floor", "KID feature extractor"]
    assert text["sanity of the samples"] == M.sanity_text(ctx_of(metrics()))
    assert text["verdicts"].startswith(M.DECISION_RULE + " Each claim's deciding test")
    assert f"(precondition: the smallest < {M.SMALL_SHARE:.0%} of the largest's parameters)" in text["verdicts"]
    assert f"a row '{M.FLOOR_MODEL}' and the figures a black line: {M.FLOOR_DRAWS} fresh draws" in text["data floor"]
    assert f"(seeds data_seed + {M.FLOOR_SEED_OFFSET} + i," in text["data floor"]
    assert text["KID feature extractor"] == ("KID through torch-fidelity, kid_subset_size = min(1000, N); feature "
                                             "extractor: lenet. Every KID column names it.")
    assert text["image metrics"].endswith("Rows with these metrics: f.")
    assert f"EMA weights at {M.SNAPSHOTS_PER_RUN} evenly spaced" in text["training snapshots (E4)"]
    for mod, (sampler, k) in M.PROGRESS_SAMPLING.items():
        assert f"{'2D' if mod == 'points' else 'images'}: {sampler} at K = {k}" in text["training snapshots (E4)"]
    assert text["ELBO derivation (E8)"] == M.elbo_methods_markdown()
    assert text["sample galleries"].startswith(f"Seed 3. Images: the first {M.GALLERY_COLUMNS} samples of each class")
    grids_only = dict(M.judging_items(ctx_of(metrics().iloc[:5])))
    assert grids_only["image metrics"].endswith("Rows with these metrics: none in this suite.")
    assert grids_only["KID feature extractor"] == "No KID rows in this suite (KID applies to images)."


def test_kid_extractors_and_spec_text() -> None:
    m = pd.DataFrame([row("rpd", "tiny", 1, metric="kid", extractor=e) for e in ("b", "", "a", "b")])
    assert M.kid_extractors(m).endswith("feature extractor: a, b. Every KID column names it.")
    assert "feature extractor: not recorded in metrics.csv." in M.kid_extractors(m.drop(columns="extractor"))
    assert "not recorded in metrics.csv" in M.kid_extractors(m.assign(extractor=""))
    assert M.spec_text({"a": 1, "b": {"c": [1, 2], "d": {"e": "x"}}}) == "a=1, b={c=[1, 2], d={e=x}}"
    assert M.spec_text(3) == "3"


def test_build_methods_puts_the_code_constants_in_the_text(monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(M, "code_constants", lambda T, schedule: asked.append((T, schedule)) or CODE)
    built = M.build_methods(ctx_of(metrics()))
    assert asked == [(500, "cosine")]
    names = [k for k, _ in built["items"]]
    assert names == [k for k, _ in M.method_items(ctx_of(metrics()), CODE) + M.judging_items(ctx_of(metrics()))]
    grids, images, networks, training = built["tables"]
    assert (grids.rows, images.rows) == tuple(t.rows for t in M.dataset_tables(CONFIG))
    assert networks.rows == M.network_table(ctx_of(metrics()), CODE).rows and "64-d sinusoidal" in networks.caption
    assert training.rows == M.training_table(CONFIG).rows
    M.build_methods(ctx_of(metrics(), {k: v for k, v in CONFIG.items() if k not in ("T", "beta_schedule")}))
    assert asked[-1] == (1000, "linear")


def test_code_constants_are_read_from_the_scheduler_and_the_networks() -> None:
    """Slow (imports torch and diffusers, builds two tiny denoisers): mutmut runs it after the fast tests."""
    code = M.code_constants(500, "cosine")
    assert code == {"beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "squaredcos_cap_v2",
                    "alpha_bar_T": code["alpha_bar_T"], "time_embedding": 64, "groupnorm_groups": 8}
    assert 0 < code["alpha_bar_T"] < 1e-7  # the cosine schedule ends near 0
    assert abs(M.code_constants(1000, "linear")["alpha_bar_T"] - 4.0358e-5) < 1e-8
