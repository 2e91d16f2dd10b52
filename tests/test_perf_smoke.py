"""Every speed benchmark in benchmarks/perf runs in its smoke mode (tiny sizes), so none rots between `make perf`
runs; the timings are not checked (targets live in the benchmarks' own output, not in timed tests)."""

from __future__ import annotations

import importlib
import math
import sys
import time

import pytest
import torch

from rpd.logs import STARTUP_PREFIX, log_to
from suite import REPO

START_OF_TESTS = time.time()

PERF = REPO / "benchmarks" / "perf"
sys.path.insert(0, str(PERF))


def _bench(name: str):
    return importlib.import_module(name)


def test_run_all_runs_every_benchmark():
    """run_all.py (what `make perf` runs) lists every bench_*.py in the folder, so none is left out."""
    assert set(_bench("run_all").SCRIPTS) == {p.name for p in PERF.glob("bench_*.py")}


@pytest.mark.parametrize("script", sorted(p.stem for p in PERF.glob("bench_*.py")))
def test_benchmark_smoke(script, capsys, monkeypatch):
    threads = torch.get_num_threads()
    monkeypatch.chdir(REPO)
    try:
        _bench(script).main(["--smoke"])
    finally:
        torch.set_num_threads(threads)  # the benchmarks pin torch to one thread
    out = capsys.readouterr().out
    assert script in out and "-----" in out  # its banner, then at least one table


def test_suite_time_sums_benchmark_files(tmp_path, capsys):
    """suite_time.py sums job-seconds by rule and dataset, telling prior from model training by config.json."""
    suite_time = _bench("suite_time")
    # run-set training jobs (d1), and one per seed as results made before 2026-11-30 have them (d2)
    rows = {"d1/vqvae-std/train": 10.0, "d1/rpd-std/train": 30.0, "d1/rpd-std/sample": 5.0,
            "d2/rpd-std/seed0/train": 20.0, "d2/feature-net/train": 7.0}
    for job, seconds in rows.items():
        path = tmp_path / f"{job}.benchmark.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        older, latest = f"{seconds + 100}\t0\t1\t1", f"{seconds}\t0:00:{seconds}\t50.0\t2.0"
        path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{older}\n{latest}\n")
        if "feature-net" not in job and job.endswith("train"):
            kind = "prior" if "vqvae" in job else "model"
            config = path.parent / ("config.json" if "seed0" in job else "train/seed0/config.json")
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(f'{{"kind": "{kind}"}}')
        if job != "d2/feature-net/train":  # its log has no start-up line (a run from before rpd.logs wrote one)
            log = path.with_name(path.name.replace(".benchmark.tsv", ".log"))
            log.write_text(f"{STARTUP_PREFIX} {seconds / 10} s from process start\nstep 1/1\n")
    jobs = suite_time.read_jobs(tmp_path)
    by_rule = {r[0]: (r[1], r[2]) for r in suite_time.summarise(jobs, lambda j: (j.rule,))}
    assert by_rule == {"train_model": (2, 50.0), "train_prior": (1, 10.0), "sample_model": (1, 5.0),
                       "feature_net": (1, 7.0)}
    by_dataset = {tuple(r[:2]): r[3] for r in suite_time.summarise(jobs, lambda j: (j.rule, j.dataset))}
    assert by_dataset[("train_model", "d1")] == 30.0 and by_dataset[("train_model", "d2")] == 20.0
    startup = {r[0]: r[-1] for r in suite_time.summarise(jobs, lambda j: (j.rule,))}
    assert startup["train_model"] == pytest.approx(5.0) and math.isnan(startup["feature_net"])
    suite_time.main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "72 job-seconds" in out
    assert "6.5 s over 4 jobs, 10% of their 65 job-seconds" in out, out


def test_suite_time_reads_the_pipeline_wall_time_from_snakemakes_log(tmp_path):
    """The wall time is the latest finished run's, of this suite, from its first job's start to its last job's
    end; an unfinished later run, another suite's run and the log's header date do not count."""
    suite_time = _bench("suite_time")
    results, logs = tmp_path / "results" / "ci", tmp_path / ".snakemake" / "log"
    results.mkdir(parents=True)
    logs.mkdir(parents=True)
    job = "rule train_model:\n    output: results/{}/d/rpd-std/train\n"
    (logs / "2026-11-30T100000.0.snakemake.log").write_text(
        "  Date: 2026-11-30 09:59:00\n[Mon Nov 30 10:00:05 2026]\n" + job.format("ci") + "[Mon Nov 30 10:00:30 2026]\n"
        "Finished job 1.\n[Mon Nov 30 10:12:35 2026]\n5 of 5 steps (100%) done\n")
    (logs / "2026-11-30T110000.0.snakemake.log").write_text(  # another suite, finished later
        "[Mon Nov 30 11:00:05 2026]\n" + job.format("ci_nov23") + "[Mon Nov 30 11:01:05 2026]\n1 of 1 steps (100%) done\n")
    (logs / "2026-11-30T120000.0.snakemake.log").write_text(  # this suite, killed before it finished
        "[Mon Nov 30 12:00:05 2026]\n" + job.format("ci") + "[Mon Nov 30 12:09:05 2026]\n1 of 5 steps (20%) done\n")
    log, seconds = suite_time.pipeline_wall(results)
    assert log.name.startswith("2026-11-30T100000") and seconds == 12 * 60 + 30
    assert "12 min 30 s (750 s)" in suite_time.wall_line(results)
    assert suite_time.pipeline_wall(tmp_path / "results" / "quick") is None


def test_job_logs_open_with_the_start_up_that_suite_time_reads(tmp_path):
    """rpd.logs.log_to writes the start-up line suite_time.py parses: seconds since this process started."""
    psutil = pytest.importorskip("psutil")  # a Snakemake dependency
    log = tmp_path / "train.log"
    entered = time.time()
    with log_to(log):
        print("working", file=sys.stderr)
    assert log.read_text().splitlines()[0].startswith(STARTUP_PREFIX)
    assert _bench("suite_time").STARTUP_PREFIX == STARTUP_PREFIX
    startup = _bench("suite_time").startup_of(tmp_path / "train.benchmark.tsv")
    assert startup >= entered - START_OF_TESTS - 0.05  # the process started before this module was imported
    age = time.time() - psutil.Process().create_time()  # boot time rounded to the second: within ~1 s
    assert abs(startup - age) < 1.5, (startup, age)
