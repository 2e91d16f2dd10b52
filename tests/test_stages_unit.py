"""rpd.stages glue on its own: a run set's sampling job draws each seed's samples with that seed's own run config,
run folder and prior (rpd.runsets: one job samples every seed of a run set)."""

from __future__ import annotations

import pytest

from rpd import stages


def test_sample_model_runs_samples_each_seed_with_its_own_folder_and_prior(monkeypatch):
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda run, run_dir, prior: calls.append((run, run_dir, prior)))
    runs = [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    stages.sample_model_runs(runs, ["r/seed0", "r/seed1", "r/seed2"], ["p/seed0", None, "p/seed2"])
    assert calls == [({"seed": 0}, "r/seed0", "p/seed0"), ({"seed": 1}, "r/seed1", None),
                     ({"seed": 2}, "r/seed2", "p/seed2")]


def test_sample_model_runs_refuses_lists_of_different_lengths(monkeypatch):
    # a missing folder would silently leave a seed unsampled (and its evaluation failing far from the cause)
    calls = []
    monkeypatch.setattr(stages, "sample_model_run", lambda *args: calls.append(args))
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}, {"seed": 1}], ["r/seed0"], [None, None])
    with pytest.raises(ValueError):
        stages.sample_model_runs([{"seed": 0}], ["r/seed0"], [None, None])
