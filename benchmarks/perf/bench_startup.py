"""Job start-up: seconds from a fresh Python process's start to the first useful operation of each job kind.

Each workflow/scripts/*.py entry imports its rpd module, then works; the import is the start-up a job pays
before anything useful happens (Snakemake's own script wrapper comes on top). Each entry's imports run in a
fresh interpreter, ``repeats`` times, median; "+ first op" also builds what the job builds first for 2D data
(a denoiser or a prior), importing whatever that pulls in.

The same start-up measured in real jobs (process start to the job's first operation, logged as the first
line of each job log) is summed over a suite's DAG by ``suite_time.py results/<suite>``.

Run: python benchmarks/perf/bench_startup.py [--smoke]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import header, median, table

# job kind: (what its workflow script imports, the first operation of a 2D job)
ENTRIES = {
    "collect": ("from rpd.evaluate import collect", ""),
    "evaluate (2D)": ("from rpd.evaluate import evaluate_run", "from rpd.metrics.wasserstein import w1"),
    "make_dataset": ("from rpd.data.build import make_dataset", ""),
    "train_prior (2D)": ("from rpd.stages import train_prior_run", ""),
    "train_model (2D)": ("from rpd.stages import train_model_run", "from diffusers.training_utils import EMAModel"),
    "sample_model (2D)": ("from rpd.stages import sample_model_run", ""),
    "elbo (2D)": ("from rpd.elbo import elbo_run", ""),
}
SMOKE = ("collect",)


def fresh_process_seconds(code: str) -> float:
    """Wall seconds of ``python -c code`` in a fresh interpreter (start-up, imports, exit)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", help="one repeat of the lightest entry")
    parser.add_argument("--repeats", type=int, help="fresh processes per entry (default 3, smoke 1)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.smoke else 3)
    entries = {k: v for k, v in ENTRIES.items() if not args.smoke or k in SMOKE}
    header("bench_startup: seconds from process start to a job's first useful operation", [
        f"each entry in a fresh `{sys.executable} -c ...`, median of {repeats}; the bare interpreter is the floor",
        "imports = the workflow script's rpd import; + first op = also what the job needs next (2D)",
    ])
    floor = median([fresh_process_seconds("pass") for _ in range(repeats)])
    rows = [["python -c pass", floor, ""]]
    for name, (imports, first_op) in entries.items():
        seconds = median([fresh_process_seconds(imports) for _ in range(repeats)])
        full = median([fresh_process_seconds(f"{imports}\n{first_op}") for _ in range(repeats)]) if first_op else ""
        rows.append([name, seconds, full])
    table(["job", "imports s", "+ first op s"], rows)


if __name__ == "__main__":
    main()
