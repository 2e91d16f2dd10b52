"""Run the speed benchmarks (training, sampling, metrics) in sequence, each in its own process.

Run: python benchmarks/perf/run_all.py [--smoke]      (``make perf`` runs it without --smoke; tests/test_perf_smoke.py
runs every benchmark's --smoke mode in the test run)
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_train.py", "bench_sampling.py", "bench_metrics.py", "bench_images.py", "bench_startup.py")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> list[str]:
    """CPU, load, library versions and torch's thread settings (torch imported here only)."""
    import numpy
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"cpu: {cpu_model()}; os.cpu_count() = {os.cpu_count()}, usable = {usable}; load average {load}",
        f"python {platform.python_version()} on {platform.platform()}",
        f"torch {torch.__version__}: default threads {torch.get_num_threads()} (interop "
        f"{torch.get_num_interop_threads()}); the benchmarks set 1; numpy {numpy.__version__}",
        "OMP/MKL_NUM_THREADS = "
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}/{os.environ.get('MKL_NUM_THREADS', 'unset')}",
        "numbers are noisy if the load average is above 0 before the run (other jobs share the cores)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", help="pass --smoke to every benchmark (tiny sizes)")
    args = parser.parse_args()
    print("rpd-bench speed benchmarks" + (" (--smoke: tiny sizes, numbers not meaningful)" if args.smoke else ""))
    for line in machine_info():
        print(f"  {line}")
    print(flush=True)
    failed = []
    for script in SCRIPTS:
        start = time.perf_counter()
        cmd = [sys.executable, str(HERE / script)] + (["--smoke"] if args.smoke else [])
        code = subprocess.run(cmd).returncode
        print(f"[{script}: exit {code}, {time.perf_counter() - start:.1f}s wall]\n", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
