"""The evaluation estimate follows the work of exact OT (rpd/resources.py).

tests/test_resources.py compares every `ci` estimate with measured costs (slow: it needs a finished run); these
fast checks pin how the evaluation estimate scales, so that mutation testing kills a wrong scaling in well under
a second instead of through Snakemake dry runs. Exact OT on N points costs O(N²) memory (a few float64 N×N
matrices) and is priced at 10 minutes per (sampler, K) pair at N = 10⁴ on a CPU (×3 for images: KID features
and longer vectors); a prior has one sample file, a model one per (sampler, K).
"""

from __future__ import annotations

import pytest

from rpd.config import load_config
from rpd.resources import MIN_MINUTES, needs
from rpd.runs import Run, run_config
from suite import REPO

PAPER = load_config(REPO / "benchmarks" / "paper.yaml")


def evaluate(run: dict, n: int, pairs: int, images: bool) -> tuple[float, float]:
    """(minutes above the floor, MB) of the evaluate job of ``run`` at N = n with ``pairs`` sample files."""
    res = needs("evaluate", {**run, "n_eval": n, "sampling": [["ddim", k + 1] for k in range(pairs)]}, images)
    return res.minutes - MIN_MINUTES, res.mem_mb


@pytest.mark.parametrize("dataset,images,per_pair", [("dino-grid-0.1", False, 10.0), ("fmnist", True, 30.0)])
def test_prior_evaluation_is_one_exact_ot(dataset, images, per_pair) -> None:
    prior = run_config(PAPER, Run("prior", dataset, "betavae_img" if images else "vqvae", "std", 0))
    minutes, mb = evaluate(prior, 10_000, 5, images)  # a prior scores its one sample file, whatever the grid
    assert minutes == pytest.approx(per_pair, rel=1e-9)
    assert evaluate(prior, 20_000, 1, images)[0] == pytest.approx(4 * per_pair, rel=1e-9)  # O(N²) time
    assert evaluate(prior, 20_000, 1, images)[1] - mb == pytest.approx(3 * 8 * (20_000**2 - 10_000**2) / 1e6)


@pytest.mark.parametrize("dataset,images,per_pair", [("dino-grid-0.1", False, 10.0), ("fmnist", True, 30.0)])
def test_model_evaluation_adds_one_ot_per_sample_file(dataset, images, per_pair) -> None:
    model = run_config(PAPER, Run("model", dataset, "rpd", "std", 0))
    assert evaluate(model, 10_000, 1, images)[0] == pytest.approx(per_pair, rel=1e-9)
    assert evaluate(model, 10_000, 40, images)[0] == pytest.approx(40 * per_pair, rel=1e-9)
    assert evaluate(model, 5_000, 4, images)[0] == pytest.approx(per_pair, rel=1e-9)  # 4 pairs × (½)²
