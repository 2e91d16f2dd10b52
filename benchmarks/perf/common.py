"""Shared helpers of the speed benchmarks: the quick suite's settings, models built as the pipeline builds
them, medians, a matmul peak and plain-text tables.

torch is imported inside the functions that need it, so ``bench_metrics.py`` stays torch-free (POT would
otherwise load torch as a backend, see :mod:`rpd.metrics.wasserstein`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

QUICK_YAML = Path(__file__).resolve().parents[1] / "quick.yaml"
DATASET = "dino-grid-0.1"  # the dataset of quick's e1 (all four families, both sizes)
SIZES = ("std", "small")


def load_quick() -> dict:
    """benchmarks/quick.yaml, validated and with schema defaults filled in."""
    from rpd.config import load_config

    return load_config(QUICK_YAML)


def model_run(cfg: dict, model: str, size: str, seed: int = 0) -> dict:
    """The resolved run config the pipeline would write for (DATASET, model, size, seed)."""
    return run_for(cfg, DATASET, model, size, seed)


def run_for(cfg: dict, dataset: str, model: str, size: str, seed: int = 0) -> dict:
    """The resolved run config the pipeline would write for (dataset, model, size, seed)."""
    from rpd.runs import Run, run_config

    return run_config(cfg, Run("model", dataset, model, size, seed))


def build_model(run: dict):
    """(spec, denoiser, frozen prior or None), built as rpd.stages builds them (weights untrained)."""
    from rpd.diffusion import DiffusionSpec
    from rpd.families import FAMILIES_WITH_PRIOR
    from rpd.stages import build_denoiser, build_prior_for

    spec = DiffusionSpec.from_run_config(run)
    prior = None
    if spec.family in FAMILIES_WITH_PRIOR:
        prior = build_prior_for(run["prior_run"]).eval().requires_grad_(False)
    return spec, build_denoiser(run), prior


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def cpu_timed(fn: Callable[[], object]) -> float:
    """This process's CPU seconds over one call (single-threaded work: less distorted than wall time by other
    jobs sharing the cores)."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def matmul_peak_gflops(n: int, repeats: int) -> float:
    """Median GFLOP/s (2n³ per product, CPU time) of a float32 n×n matmul on the current torch thread setting."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    return 2 * n**3 / median([cpu_timed(lambda: torch.mm(a, b)) for _ in range(repeats)]) / 1e9


def header(title: str, lines: Sequence[str]) -> None:
    """A banner naming what is measured and the targets."""
    bar = "=" * 78
    print(f"{bar}\n{title}\n{bar}")
    for line in lines:
        print(f"  {line}")
    print()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as a right-aligned plain-text table (floats: 3 significant digits, whole numbers from 100)."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    print()
