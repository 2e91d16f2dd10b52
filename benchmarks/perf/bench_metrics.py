"""Time and peak memory of the exact OT metrics (global W1 and region-wise RW-1WD) on the grid dataset.

Run: python benchmarks/perf/bench_metrics.py [--smoke]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tracemalloc
from collections.abc import Callable

from common import DATASET, header, load_quick, median, table, timed
from rpd.data.grid import grid_centres, make_grid_dataset
from rpd.metrics.wasserstein import region_w1, w1  # first import of POT: keeps torch out of it


def maxrss_mib() -> float:
    """This process's peak resident set size so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _probe(fn: Callable[[], object], conn) -> None:
    rss_before = maxrss_mib()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    conn.send((peak / 2**20, maxrss_mib() - rss_before))


def peak_memory(fn: Callable[[], object]) -> tuple[float, float]:
    """(tracemalloc peak MiB, peak-RSS growth MiB) of one call of ``fn`` in a forked child.

    A fresh child starts its peak RSS at the parent's current RSS, so earlier, larger calls in this
    process cannot hide the growth (in-process ru_maxrss is a high-water mark).
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_probe, args=(fn, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", dest="quick",
                        help="smoke run: 1 timed repeat per cell, N = 64")
    parser.add_argument("--repeats", type=int, help="timed repeats per cell (default 5, quick 1)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1000, 2000], help="N (points per set)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    if args.quick:
        args.sizes = [64]

    cfg = load_quick()
    ds = cfg["datasets"][DATASET]
    centres = grid_centres(ds["grid"])
    header("bench_metrics: rpd.metrics.wasserstein.w1 and region_w1 (POT exact EMD, numpy only)", [
        f"generated and reference sets: make_grid_dataset({DATASET}), N points each, different seeds",
        f"N ∈ {args.sizes}: 1000 = quick's n_eval, 256 = ci's; time = median of {repeats} call(s)",
        "memory, from one extra call in a forked child (so earlier calls' high-water marks don't mask it):",
        "  tracemalloc peak = Python + numpy allocations (numpy reports to tracemalloc; POT's C++ solver",
        "    internals are not seen)",
        "  ΔmaxRSS = growth of the child's peak RSS (getrusage ru_maxrss) over the call: all allocations,",
        "    including C++ ones, at page granularity (plus tracemalloc's bookkeeping and copy-on-write pages)",
        "targets: none fixed; cost matrix is N² float64 (N = 2000: 30.5 MiB)",
    ])
    rows = []
    for n in sorted(args.sizes):
        gen = make_grid_dataset(ds["shape"], ds["grid"], ds["scale"], ds["jitter"], n, seed=1)
        ref = make_grid_dataset(ds["shape"], ds["grid"], ds["scale"], ds["jitter"], n, seed=2)
        metrics: dict[str, Callable[[], object]] = {
            "w1": lambda: w1(gen, ref),
            "region_w1": lambda: region_w1(gen, ref, centres, ds["scale"]),
        }
        times: dict[str, list[float]] = {name: [] for name in metrics}
        for _ in range(repeats):  # alternate the two metrics so background load hits both
            for name, fn in metrics.items():
                times[name].append(timed(fn))
        for name, fn in metrics.items():
            traced, rss = peak_memory(fn)
            rows.append([n, name, median(times[name]), traced, rss, f"{8 * n * n / 2**20:.1f}"])
    table(["N", "metric", "seconds", "tracemalloc peak MiB", "ΔmaxRSS MiB", "N² float64 MiB"], rows)
    print(f"ΔmaxRSS floor (no-op call in a forked child): {peak_memory(lambda: None)[1]:.2f} MiB")


if __name__ == "__main__":
    main()
