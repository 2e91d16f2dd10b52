"""``rpd-bench``: the common tasks from one command (README "Command line").

    rpd-bench run ci --cores 2          # snakemake --configfile benchmarks/ci.yaml --cores 2 (extra args pass through)
    rpd-bench list [--cost]             # the suites in benchmarks/: jobs per rule (--cost: GPU/CPU-hours)
    rpd-bench report [SUITE]            # the path of the latest (or that suite's) report
    rpd-bench validate my-suite.yaml    # check a suite file; the error names the key and the fix

The workflow (``Snakefile``, ``workflow/``, ``benchmarks/``) lives in a checkout: the commands look for it in
``--root``, else the current directory, else the checkout this package is installed from (editable install).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rpd.config import ConfigError, load_config
from rpd.runs import diffusion_runs, prior_runs


class CliError(RuntimeError):
    """A command cannot run; the message says what is missing and how to fix it."""


def checkout_root(given: str | None) -> Path:
    """The checkout holding the Snakefile: ``given``, else the current directory, else the package's checkout."""
    candidates = [Path(given)] if given else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for root in candidates:
        if (root / "Snakefile").is_file() and (root / "benchmarks").is_dir():
            return root.resolve()
    raise CliError(f"no rpd-bench checkout (Snakefile and benchmarks/) in {', '.join(map(str, candidates))}; "
                   "run from a clone of the repository or pass --root <checkout>")


def suite_file(root: Path, suite: str) -> Path:
    """A suite given by name (``benchmarks/<name>.yaml``) or as a path to a YAML file."""
    path = Path(suite) if suite.endswith((".yaml", ".yml")) else root / "benchmarks" / f"{suite}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / "benchmarks").glob("*.yaml"))
        raise CliError(f"suite {suite!r}: no file {path}; known suites: {known} (or give a path to a .yaml file)")
    return path


def snakemake_command(root: Path, config: Path, args: Sequence[str]) -> list[str]:
    """``snakemake`` with this checkout's Snakefile and the suite, run through the current interpreter."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(root / "Snakefile"), "--configfile", str(config),
            *args]


def _env(root: Path) -> dict[str, str]:
    """The job environment: this interpreter's bin first (jobs call `python`), the checkout importable."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def job_counts(root: Path, config: Path) -> dict[str, int]:
    """Jobs per rule of a suite's whole DAG: a dry run in an empty directory (no result counts as done)."""
    with tempfile.TemporaryDirectory(prefix="rpd-bench-list-") as empty:
        proc = subprocess.run(snakemake_command(root, config, ["-n", "--quiet", "rules", "--directory", empty]),
                              env=_env(root), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise CliError(f"dry run of {config} failed:\n{proc.stderr.strip() or proc.stdout.strip()}")
    stats = proc.stdout.split("Job stats:", 1)[-1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, flags=re.M)}


def suite_jobs(root: Path, config: Path) -> str:
    """One line: a suite's jobs per rule from its DAG (or, where this machine cannot build it, its runs)."""
    try:
        counts = job_counts(root, config)
    except CliError as err:  # e.g. preflight: data or weights this machine lacks (paper's)
        first = "preflight found problems" if "preflight" in str(err) else str(err).splitlines()[-1].strip()
        return (f"{describe_suite(load_config(config))}; no DAG on this machine ({first}; "
                f"`rpd-bench run {config.stem} -n` shows them)")
    total = counts.pop("total", sum(counts.values()))
    return f"{total} jobs (" + ", ".join(f"{rule} {n}" for rule, n in counts.items() if rule != "all") + ")"


def suite_cost(config: Path, profile: str | None) -> str:
    """rpd.cost's estimate for a suite under a profile: jobs, GPU-hours, CPU-hours, cluster submissions."""
    from rpd.cost import estimate_cost  # measures this machine's FLOP/s per network: seconds to minutes

    return str(estimate_cost(load_config(config), profile))


def latest_report(root: Path, suite: str | None) -> Path:
    """``reports/<suite>/index.html``, or the most recently written report of any suite."""
    pages = [root / "reports" / suite / "index.html"] if suite else list((root / "reports").glob("*/index.html"))
    pages = [p for p in pages if p.is_file()]
    if not pages:
        what = f"suite {suite!r}" if suite else "any suite"
        raise CliError(f"no report of {what} under {root / 'reports'}; run one first: rpd-bench run {suite or 'ci'}")
    return max(pages, key=lambda p: p.stat().st_mtime)


def describe_suite(cfg: dict) -> str:
    """What a validated suite trains: datasets, experiments, runs."""
    return (f"suite {cfg['suite']}: {len(cfg['datasets'])} datasets, experiments {', '.join(cfg['experiments'])}; "
            f"{len(prior_runs(cfg))} prior and {len(diffusion_runs(cfg))} diffusion runs")


def _run(a: argparse.Namespace) -> int:
    root = checkout_root(a.root)
    extra = [x for x in a.snakemake_args if x != "--"]
    cmd = snakemake_command(root, suite_file(root, a.suite), ["--cores", a.cores, *extra])
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=a.directory or Path.cwd(), env=_env(root)).returncode


def _list(a: argparse.Namespace) -> int:
    root = checkout_root(a.root)
    for path in sorted((root / "benchmarks").glob("*.yaml")):
        line = suite_cost(path, a.profile) if a.cost else suite_jobs(root, path)
        print(f"{path.stem}: {line}", flush=True)
    return 0


def _report(a: argparse.Namespace) -> int:
    print(latest_report(Path(a.directory or Path.cwd()), a.suite))
    return 0


def _validate(a: argparse.Namespace) -> int:
    print(f"ok: {describe_suite(load_config(a.config))}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rpd-bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", help="the rpd-bench checkout (default: the current directory, else the package's)")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite with Snakemake (arguments after the suite pass through)")
    run.add_argument("suite", help="a name in benchmarks/ (ci, quick, paper) or a path to a suite .yaml")
    run.add_argument("--cores", default="all", help="snakemake --cores (default: all)")
    run.add_argument("--directory", help="where results/ and reports/ go (default: the current directory)")
    run.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="further snakemake arguments, e.g. -n")
    run.set_defaults(func=_run)
    ls = sub.add_parser("list", help="list the suites in benchmarks/ with their jobs (--cost: hours, rpd.cost)")
    ls.add_argument("--cost", action="store_true",
                    help="estimate GPU- and CPU-hours (python -m rpd.cost; measures this machine, minutes for paper)")
    ls.add_argument("--profile", help="with --cost: the profile (slurm, generic, local or a folder)")
    ls.set_defaults(func=_list)
    rep = sub.add_parser("report", help="print the path of the latest report (or of SUITE's)")
    rep.add_argument("suite", nargs="?")
    rep.add_argument("--directory", help="where reports/ is (default: the current directory)")
    rep.set_defaults(func=_report)
    val = sub.add_parser("validate", help="validate a suite file against the schema and the cross-checks")
    val.add_argument("config", help="path to the suite .yaml")
    val.set_defaults(func=_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ConfigError, OSError) as err:
        print(f"rpd-bench {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
