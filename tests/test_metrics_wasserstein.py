"""Exact W1 and the region-wise RW-1WD (SPEC §4) against cases with known answers."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpd.metrics.wasserstein import OTNotConvergedError, region_w1, w1

# Two regions: the Voronoi cells of these centres are x < 0 and x > 0.
CENTRES = np.array([[-0.5, 0.0], [0.5, 0.0]])
SCALE = 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shift_costs_its_length(seed: int) -> None:
    # Moving every point by v costs at least |mean shift| = |v| (Jensen) and the translation achieves it.
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 2)) * 5 + 50
    v = rng.normal(size=2)
    assert w1(x, x + v) == pytest.approx(np.linalg.norm(v), abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    v=st.tuples(st.floats(-10, 10), st.floats(-10, 10), st.floats(-10, 10)),
)
def test_shift_costs_its_length_property(n: int, seed: int, v: tuple[float, float, float]) -> None:
    x = np.random.default_rng(seed).uniform(-3, 3, size=(n, 3))
    assert w1(x, x + np.array(v)) == pytest.approx(np.linalg.norm(v), abs=1e-9)


def test_identical_sets_cost_zero() -> None:
    x = np.random.default_rng(5).normal(size=(30, 2)) * 20 + 50
    assert w1(x, x.copy()) == 0.0


def test_two_against_two_by_hand() -> None:
    # Pairing (0,0)→(3,0) and (0,2)→(0,1) costs (3 + 1)/2 = 2; the other pairing costs (1 + √13)/2.
    x = np.array([[0.0, 0.0], [0.0, 2.0]])
    y = np.array([[3.0, 0.0], [0.0, 1.0]])
    assert w1(x, y) == pytest.approx(2.0, abs=1e-12)


def test_different_sizes() -> None:
    # The single point sends half its mass to each: (|(3,4)| + |(0,1)|)/2 = 3.
    assert w1(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]])) == pytest.approx(3.0, abs=1e-12)


def test_symmetric() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(13, 2)) + 1
    assert w1(x, y) == pytest.approx(w1(y, x), abs=1e-12)
    assert w1(x, y) > 0.5


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rejected(bad: float) -> None:
    x = np.zeros((3, 2))
    y = np.ones((3, 2))
    y[1, 0] = bad
    with pytest.raises(ValueError, match="^y contains non-finite"):
        w1(x, y)


def test_empty_and_mismatched_rejected() -> None:
    with pytest.raises(ValueError, match="^x is empty"):
        w1(np.zeros((0, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="different dimensions: 2 vs 3"):
        w1(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.filterwarnings("ignore:numItermax reached")
def test_not_converged_raises() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(OTNotConvergedError, match="numItermax reached.*raise num_itermax"):
        w1(rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), num_itermax=1)


def test_region_w1_by_hand() -> None:
    ref = np.array([[-0.5, 0.02], [-0.52, 0.0], [-0.48, -0.01], [0.5, 0.0], [0.53, 0.01]])
    gen = ref.copy()
    gen[:3, 0] += 0.01  # region 0 shifted by 0.01 = 0.1 local shape units; region 1 identical
    result = region_w1(gen, ref, CENTRES, SCALE)
    w0, w1_ = (entry["w1"] for entry in result["per_region"])
    assert w0 == pytest.approx(0.1, abs=1e-12)
    assert w1_ == pytest.approx(0.0, abs=1e-12)
    assert result["rw1wd"] == pytest.approx(3 / 5 * 0.1, abs=1e-12)
    assert result["mass_error"] == 0.0
    assert [(e["region"], e["n_gen"], e["n_ref"]) for e in result["per_region"]] == [(0, 3, 3), (1, 2, 2)]


def test_region_without_generated_points() -> None:
    # Region 0 reference offsets (0.03, 0) and (0, −0.04) are 0.3 and 0.4 local units from the centre.
    ref = np.array([[-0.47, 0.0], [-0.5, -0.04], [0.5, 0.0], [0.52, 0.0]])
    gen = np.array([[0.5, 0.0], [0.52, 0.0], [0.5, 0.0], [0.52, 0.0]])  # all mass in region 1
    result = region_w1(gen, ref, CENTRES, SCALE)
    assert result["per_region"][0]["w1"] == pytest.approx(0.35, abs=1e-12)
    assert result["per_region"][1]["w1"] == pytest.approx(0.0, abs=1e-12)
    assert result["rw1wd"] == pytest.approx(0.5 * 0.35, abs=1e-12)
    # p_gen = (0, 1), p_ref = (0.5, 0.5).
    assert result["mass_error"] == pytest.approx(0.5, abs=1e-12)


def test_region_without_reference_points_has_no_weight() -> None:
    ref = np.array([[0.5, 0.0], [0.52, 0.0]])
    gen = np.array([[-0.5, 0.0], [0.52, 0.0]])
    result = region_w1(gen, ref, CENTRES, SCALE)
    assert result["per_region"][0] == {"region": 0, "n_gen": 1, "n_ref": 0, "w1": None}
    # Region 1: one generated point at 0.2 against reference points at 0 and 0.2 → (0.2 + 0)/2.
    assert result["rw1wd"] == pytest.approx(0.1, abs=1e-12)
    assert result["mass_error"] == pytest.approx(0.5, abs=1e-12)


def test_region_w1_rejects_bad_scale() -> None:
    with pytest.raises(ValueError, match="^scale must"):
        region_w1(CENTRES, CENTRES, CENTRES, 0.0)


def test_region_w1_names_the_bad_input() -> None:
    """The message names which of the three point sets is wrong (the user's data, the samples or the grid)."""
    empty = np.empty((0, 2))
    for name, args in {"gen": (empty, CENTRES, CENTRES), "ref": (CENTRES, empty, CENTRES),
                       "centres": (CENTRES, CENTRES, empty)}.items():
        with pytest.raises(ValueError, match=f"^{name} is empty"):
            region_w1(*args, SCALE)
    with pytest.raises(ValueError, match="share one dimension, got 2, 2, 3"):
        region_w1(CENTRES, CENTRES, np.zeros((2, 3)), SCALE)


def test_import_does_not_load_torch() -> None:
    # A fresh interpreter, without the POT switches this test process already set on import.
    env = {k: v for k, v in os.environ.items() if not k.startswith("POT_BACKEND_DISABLE_")}
    code = "import sys, rpd.metrics.wasserstein; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=120).returncode == 0


def test_region_w1_by_hand_with_single_points_and_an_empty_last_region():
    """Centres (0,0), (10,0), (20,0), scale 1. Region 0: reference (0,±1), one generated point (1,0): W1 = √2 (a
    single point is scored by W1, not as a missing region). Region 1: one reference point (0,2) from its centre, no
    generated point: it costs its distance, 2. Region 2 is empty on both sides: no weight, no W1."""
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    ref = np.array([[0.0, 1.0], [0.0, -1.0], [10.0, 2.0]])
    out = region_w1(np.array([[1.0, 0.0]]), ref, centres, 1.0)
    assert out["rw1wd"] == pytest.approx(2 / 3 * np.sqrt(2) + 1 / 3 * 2)
    assert out["mass_error"] == pytest.approx(0.5 * (1 / 3 + 1 / 3))
    assert [(r["n_gen"], r["n_ref"]) for r in out["per_region"]] == [(1, 2), (0, 1), (0, 0)]
    assert out["per_region"][2]["w1"] is None


@pytest.mark.parametrize("x, said", [
    (np.zeros(3), r"^x must be a 2-D array \(n_points, dim\), got shape \(3,\)$"),
    (np.zeros((0, 2)), r"^x is empty: it needs at least one point$"),
    (np.array([[0.0, np.nan]]), r"^x contains non-finite values \(NaN or inf\)$"),
])
def test_w1_names_what_is_wrong_with_a_point_set(x, said):
    with pytest.raises(ValueError, match=said):
        w1(x, np.zeros((2, 2)))
