"""rpd.evaluate.collect: the per-run metric files become metrics.csv (every row, every column) and summary.csv
(mean, sample sd and seed count per dataset, model, family, size, sampler, K and metric), the tables the report
and users read."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rpd.evaluate import METRIC_COLUMNS, PROVENANCE_COLUMNS, collect


def run_rows(model: str, seed: int, values: dict[tuple[str, int, str], float], family: str = "rpd") -> pd.DataFrame:
    return pd.DataFrame([
        {"suite": "s", "dataset": "g", "model": model, "family": family, "size": "std", "seed": seed,
         "sampler": sampler, "steps": steps, "metric": metric, "value": value, "n": 50, "parameters": 10,
         "commit": "abc", "config_hash": f"h{seed}", "versions": "torch", "device": "cpu", "train_seconds": 1.0,
         "sample_seconds": 0.5, "eval_seconds": 0.25, "extractor": ""}
        for (sampler, steps, metric), value in values.items()
    ], columns=METRIC_COLUMNS + PROVENANCE_COLUMNS)


@pytest.fixture
def collected(tmp_path):
    """Three seeds of rpd (two samplers and K, two metrics) and one seed of ddpm, one file per run."""
    files = []
    for seed, (a, b, c) in enumerate([(1.0, 10.0, 0.5), (2.0, 20.0, 0.25), (4.0, 60.0, 0.0)]):
        frame = run_rows("rpd", seed, {("ddim", 10, "rw1wd"): a, ("ddim", 10, "1wd"): b, ("ancestral", 100, "rw1wd"): c})
        frame.to_csv(tmp_path / f"rpd-{seed}.csv", index=False)
        files.append(str(tmp_path / f"rpd-{seed}.csv"))
    run_rows("ddpm", 0, {("ddim", 10, "rw1wd"): 7.0}, family="ddpm").to_csv(tmp_path / "ddpm-0.csv", index=False)
    files.append(str(tmp_path / "ddpm-0.csv"))
    frame = collect(files, tmp_path / "metrics.csv", tmp_path / "summary.csv")
    return frame, pd.read_csv(tmp_path / "metrics.csv"), pd.read_csv(tmp_path / "summary.csv")


def test_metrics_csv_holds_every_row_of_every_run_file(collected):
    frame, metrics, _ = collected
    assert len(metrics) == 3 * 3 + 1
    assert list(metrics.columns) == METRIC_COLUMNS + PROVENANCE_COLUMNS
    assert sorted(metrics.loc[metrics["model"] == "rpd", "config_hash"].unique()) == ["h0", "h1", "h2"]
    pd.testing.assert_frame_equal(frame, metrics, check_dtype=False)  # one row per label: .loc finds each row


def test_summary_gives_the_mean_sample_sd_and_seed_count_of_each_setting(collected):
    _, _, summary = collected
    assert list(summary.columns) == ["dataset", "model", "family", "size", "sampler", "steps", "metric", "mean", "sd",
                                     "seeds"]
    by_key = {(r.model, r.sampler, r.steps, r.metric): (r.mean, r.sd, r.seeds) for r in summary.itertuples()}
    assert set(by_key) == {("rpd", "ddim", 10, "rw1wd"), ("rpd", "ddim", 10, "1wd"), ("rpd", "ancestral", 100, "rw1wd"),
                           ("ddpm", "ddim", 10, "rw1wd")}
    mean, sd, seeds = by_key[("rpd", "ddim", 10, "rw1wd")]  # values 1, 2, 4
    assert (mean, seeds) == (pytest.approx(7 / 3), 3)
    assert sd == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))  # n − 1
    assert by_key[("rpd", "ddim", 10, "1wd")][:2] == (pytest.approx(30.0), pytest.approx(26.457513))
    assert by_key[("rpd", "ancestral", 100, "rw1wd")][:2] == (pytest.approx(0.25), pytest.approx(0.25))
    mean, sd, seeds = by_key[("ddpm", "ddim", 10, "rw1wd")]  # one seed: no sd
    assert (mean, seeds) == (7.0, 1) and math.isnan(sd)
    assert summary.loc[summary["model"] == "ddpm", "family"].tolist() == ["ddpm"]


def test_summary_rows_are_sorted_by_their_keys(collected):
    _, _, summary = collected
    keys = ["dataset", "model", "family", "size", "sampler", "steps", "metric"]
    assert summary[keys].values.tolist() == summary.sort_values(keys)[keys].values.tolist()
    assert summary["model"].tolist()[0] == "ddpm"
