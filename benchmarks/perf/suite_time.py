"""Where a suite's time went: job-seconds by rule and dataset, from Snakemake's ``*.benchmark.tsv`` files.

Every rule that trains, samples, evaluates or bounds writes ``<job>.benchmark.tsv`` (wall seconds ``s``, CPU
seconds, max RSS); this script sums the latest record of each file by rule and by (rule, dataset). Rules without
a benchmark file (dataset, synthetic_image_folder, collect, report) are not counted. The pipeline's wall time
comes from Snakemake's own log of the latest run that finished the suite (``.snakemake/log/`` in the working
folder): from its first job's start to its last job's end (set-up and DAG building not included).

Start-up: the job's log beside its benchmark file (``<job>.log``) opens with ``job start-up: <s> s``, the
seconds from the job process's start (Snakemake's script wrapper, the interpreter, the imports) to its first
operation (rpd.logs.log_to). The ``start-up s`` column sums them; the first line gives their share of the
job-seconds (issue 14's target: at most 10% over the quick suite's DAG).

Run: python benchmarks/perf/suite_time.py results/<suite>      (e.g. results/quick, /tmp/ci0/results/ci)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common import table

FILE_RULES = {"sample": "sample_model", "evaluate": "evaluate", "elbo": "elbo"}
STARTUP_PREFIX = "job start-up:"  # rpd.logs.STARTUP_PREFIX (not imported: this script stays rpd-free)


@dataclass(frozen=True)
class Job:
    rule: str
    dataset: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float
    startup_seconds: float  # NaN when the job's log has no start-up line (older runs)


def rule_of(path: Path) -> str:
    """The rule that wrote ``path``: named by the file, except ``train`` (prior, model or feature net)."""
    stem = path.name.removesuffix(".benchmark.tsv")
    if stem != "train":
        return FILE_RULES.get(stem, stem)
    if path.parent.name == "feature-net":
        return "feature_net"
    # a run set's training job (train/seed<k>/ beside its benchmark file), or one seed's (results made before
    # 2026-11-30, when training was one job per seed: config.json beside it)
    configs = [c for c in (path.parent / "config.json", *sorted(path.parent.glob("train/seed*/config.json")))
               if c.exists()]
    kind = json.loads(configs[0].read_text()).get("kind") if configs else None
    return {"prior": "train_prior", "model": "train_model"}.get(kind, "train (unknown kind)")


def read_jobs(results: Path) -> list[Job]:
    """One Job per benchmark file under ``results`` (its last record: Snakemake appends one per repeat)."""
    jobs = []
    for path in sorted(results.rglob("*.benchmark.tsv")):
        with path.open() as f:
            records = list(csv.DictReader(f, delimiter="\t"))
        if not records:
            continue
        rec = records[-1]
        dataset = path.relative_to(results).parts[0]
        jobs.append(Job(rule_of(path), dataset, float(rec["s"]), _float(rec.get("cpu_time")),
                        _float(rec.get("max_rss")), startup_of(path)))
    return jobs


def startup_of(benchmark: Path) -> float:
    """The start-up seconds logged by the job that wrote ``benchmark`` (the first line of its log), or NaN."""
    log = benchmark.with_name(benchmark.name.removesuffix(".benchmark.tsv") + ".log")
    if not log.exists():
        return math.nan
    with log.open() as f:
        first = f.readline()
    return _float(first.removeprefix(STARTUP_PREFIX).split()[0]) if first.startswith(STARTUP_PREFIX) else math.nan


def _float(value: str | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def summarise(jobs: list[Job], key) -> list[list]:
    """Rows [*key, jobs, job-seconds, share, mean s, max s, CPU s, max RSS MB, start-up s], largest job-seconds
    first (start-up s sums the jobs that logged one)."""
    groups: dict[tuple, list[Job]] = defaultdict(list)
    for job in jobs:
        groups[key(job)].append(job)
    total = sum(j.seconds for j in jobs) or 1.0
    rows = []
    for k, js in groups.items():
        secs = sum(j.seconds for j in js)
        rows.append([*k, len(js), secs, f"{secs / total:.0%}", secs / len(js), max(j.seconds for j in js),
                     sum(j.cpu_seconds for j in js), max(j.max_rss_mb for j in js), _startup_sum(js)])
    return sorted(rows, key=lambda r: -r[len(k) + 1])


def _startup_sum(jobs: list[Job]) -> float:
    logged = [j.startup_seconds for j in jobs if not math.isnan(j.startup_seconds)]
    return sum(logged) if logged else math.nan


def startup_line(jobs: list[Job]) -> str:
    """The summed start-up of the jobs that logged one, and its share of those jobs' job-seconds."""
    logged = [j for j in jobs if not math.isnan(j.startup_seconds)]
    if not logged:
        return "start-up: no job log has a start-up line (runs from before rpd.logs wrote one)"
    startup, seconds = sum(j.startup_seconds for j in logged), sum(j.seconds for j in logged)
    return (f"start-up (process start to first operation, from the job logs): {startup:.1f} s over {len(logged)} "
            f"jobs, {startup / seconds:.0%} of their {seconds:.0f} job-seconds (median {_median(logged):.2f} s a job)")


def _median(jobs: list[Job]) -> float:
    values = sorted(j.startup_seconds for j in jobs)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


# Snakemake logs each job's start and end under a line like "[Mon Nov 30 14:41:31 2026]".
LOG_TIMESTAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$", re.MULTILINE)


def pipeline_wall(results: Path) -> tuple[Path, float] | None:
    """Snakemake's log of the latest run that finished ``results`` (results/<suite>: the log names its files and
    reports 100% done) and its seconds from the first job's start to the last job's end; None if there is none."""
    results = results.resolve()
    logs = sorted((results.parent.parent / ".snakemake" / "log").glob("*.snakemake.log"), reverse=True)
    for log in logs:  # newest first (Snakemake names them by their start time)
        text = log.read_text(errors="replace")
        if f"results/{results.name}/" not in text or "(100%) done" not in text:
            continue
        stamps = [datetime.strptime(s, "%a %b %d %H:%M:%S %Y") for s in LOG_TIMESTAMP.findall(text)]
        if len(stamps) >= 2:
            return log, (stamps[-1] - stamps[0]).total_seconds()
    return None


def wall_line(results: Path) -> str:
    found = pipeline_wall(results)
    if found is None:
        return "pipeline wall time: no Snakemake log of a finished run beside these results"
    log, seconds = found
    return (f"pipeline wall time: {seconds // 60:.0f} min {seconds % 60:.0f} s ({seconds:.0f} s), first job's start "
            f"to last job's end, in Snakemake's log {log.name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a suite's results folder, e.g. results/quick")
    args = parser.parse_args(argv)
    jobs = read_jobs(args.results)
    if not jobs:
        raise SystemExit(f"no *.benchmark.tsv files under {args.results}: run the suite first")
    total = sum(j.seconds for j in jobs)
    print(f"{args.results}: {len(jobs)} jobs with benchmark files, {total:.0f} job-seconds "
          f"({total / 60:.1f} job-minutes), {sum(j.cpu_seconds for j in jobs):.0f} CPU seconds")
    print(wall_line(args.results))
    print(startup_line(jobs) + "\n")
    stats = ["jobs", "job-s", "share", "mean s", "max s", "CPU s", "max RSS MB", "start-up s"]
    table(["rule", *stats], summarise(jobs, lambda j: (j.rule,)))
    table(["rule", "dataset", *stats], summarise(jobs, lambda j: (j.rule, j.dataset)))


if __name__ == "__main__":
    main()
