"""rpd/resources.py's ELBO estimate follows the bound's work (rpd.elbo): every t of the T steps for each 2D
reference point, IMAGE_T_DRAWS + 2 network evaluations per reference image whatever T is. The rate is the
sampling job's (same network, same device), so the ratio to the sampling estimate is fixed by the work alone."""

from __future__ import annotations

import pytest

from rpd.batching import IMAGE_ROWS_PER_CALL, IMAGE_T_DRAWS
from rpd.config import load_config
from rpd.resources import MIN_MINUTES, needs
from rpd.runs import Run, run_config
from suite import REPO

PAPER = {**load_config(REPO / "benchmarks" / "paper.yaml"), "device": "cpu"}


def _work(stage: str, run: dict, images: bool) -> float:
    return needs(stage, run, images).minutes - MIN_MINUTES


@pytest.mark.parametrize(("dataset", "images"), [("fmnist", True), ("dino-grid-0.1", False)])
def test_elbo_minutes_are_the_bound_s_network_evaluations_at_the_sampling_rate(dataset: str, images: bool) -> None:
    run = run_config(PAPER, Run("model", dataset, "ddpm", "std", 0))
    evaluations_per_point = IMAGE_T_DRAWS + 2 if images else run["T"]
    sampling_steps = sum(int(k) for _, k in run["sampling"])
    assert _work("elbo", run, images) == pytest.approx(
        _work("sample", run, images) * evaluations_per_point / sampling_steps)


def test_image_elbo_does_not_grow_with_t_and_2d_elbo_does() -> None:
    image = run_config(PAPER, Run("model", "fmnist", "ddpm", "std", 0))
    points = run_config(PAPER, Run("model", "dino-grid-0.1", "ddpm", "std", 0))
    assert _work("elbo", {**image, "T": 2 * image["T"]}, True) == pytest.approx(_work("elbo", image, True))
    assert _work("elbo", {**points, "T": 2 * points["T"]}, False) == pytest.approx(2 * _work("elbo", points, False))
    for run, images in ((image, True), (points, False)):  # and linearly with the reference points
        assert _work("elbo", {**run, "n_eval": 2 * run["n_eval"]}, images) == pytest.approx(
            2 * _work("elbo", run, images))


def test_image_elbo_memory_is_that_of_one_network_call_of_image_rows() -> None:
    """The bound runs IMAGE_ROWS_PER_CALL images per network call: its memory is at most a sampling job's with
    that batch (which adds its noise blocks), and more than one with a smaller batch (fewer activations)."""
    run = run_config(PAPER, Run("model", "fmnist", "ddpm", "std", 0))
    elbo = needs("elbo", run, True).mem_mb
    assert elbo <= needs("sample", {**run, "sample_batch_size": IMAGE_ROWS_PER_CALL}, True).mem_mb
    assert elbo > needs("sample", {**run, "sample_batch_size": IMAGE_ROWS_PER_CALL // 4}, True).mem_mb
