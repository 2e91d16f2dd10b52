"""The top of the page: header and provenance, the claims table, which families ran, and the job costs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpd.report.context import Context
from rpd.report.document import EXPERIMENT_FAMILIES, SECTIONS, STATUS_CLASS, Link, Section, Table
from rpd.report.inputs import RUN_SET_BENCHMARKED_JOBS, all_runs
from rpd.report.sizes import size_ranker
from rpd.report.tables import fmt_seconds
from rpd.report.verdicts import Verdict
from rpd.runsets import run_sets

RUN_KEYS = ["dataset", "model", "size", "seed"]


def wall_seconds(frame: pd.DataFrame) -> float:
    """Training once per run plus sampling and evaluation once per (run, sampler, K)."""
    if frame.empty:
        return 0.0
    train = frame.drop_duplicates(RUN_KEYS)["train_seconds"].sum()
    per_pair = frame.drop_duplicates(RUN_KEYS + ["sampler", "steps"])
    return float(train + per_pair["sample_seconds"].sum() + per_pair["eval_seconds"].sum())


def build_header(ctx: Context) -> dict:
    m = ctx.metrics
    prov_rows = []
    for (commit, versions, device), g in m.groupby(["commit", "versions", "device"], sort=True):
        prov_rows.append([commit, str(len(g.drop_duplicates(RUN_KEYS))), str(g["config_hash"].nunique()),
                          versions.replace(";", "; "), device, fmt_seconds(wall_seconds(g))])
    provenance = Table("Provenance of the rows in metrics.csv, by commit, package versions and device. Config "
                       "hashes counts the distinct resolved run configs (one per run when all is consistent). "
                       "Wall time is training + sampling + evaluation, summed over jobs (not elapsed time).",
                       ["commit", "runs", "config hashes", "versions", "device", "wall time"], prov_rows,
                       [False, True, True, False, False, True])
    # N per dataset ("500 (fmnist-16), 1000 (dino-grid-0.1, …)"): suites mix 2D and image datasets
    with_n = m.dropna(subset=["n"])
    by_n = with_n.groupby(with_n["n"].astype(int))["dataset"].unique()
    return {
        "suite": ctx.config["suite"],
        "commits": sorted(m["commit"].unique()),
        "n": "; ".join(f"{n} ({', '.join(sorted(ds))})" for n, ds in by_n.items()) or "—",
        "runs": len(m.drop_duplicates(RUN_KEYS)),
        "rows": len(m),
        "seeds": seeds_text(ctx),
        "wall": fmt_seconds(wall_seconds(m)),
        "provenance": provenance,
    }


def seeds_text(ctx: Context) -> str:
    """The suite's seeds and each experiment's own list where it differs: "0, 1, 2 (e3: 0–9; e6, e7: 0)"."""
    base = [int(s) for s in ctx.config.get("seeds", [])]
    own: dict[str, list[str]] = {}
    for fid, exp in ctx.config.get("experiments", {}).items():
        seeds = ctx.experiment_seeds(exp)
        if seeds != base:
            own.setdefault(_seed_list(seeds), []).append(fid)
    extra = "; ".join(f"{', '.join(fids)}: {text}" for text, fids in own.items())
    return _seed_list(base) + (f" ({extra})" if extra else "")


def _seed_list(seeds: list[int]) -> str:
    """0, 1, 2 — or 0–9 for a run of four or more consecutive seeds."""
    if len(seeds) >= 4 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def claims_table(verdicts: list[Verdict], built: dict[str, Section]) -> Table:
    """The summary at the top: one row per claim with its verdict, key number and the section holding the evidence."""
    rows, classes = [], []
    for v in verdicts:
        where = (Link(f"{v.family.upper()} {EXPERIMENT_FAMILIES[v.family].title}", f"#{v.family}")
                 if v.family in built else f"{v.family.upper()} (not run)")
        rows.append([v.claim, v.statement, v.status, v.key_number, v.reason, where])
        classes.append(STATUS_CLASS[v.status])
    return Table("Claims of the paper (SPEC §1) and what this suite's results say. Key number: the deciding "
                 "seed-paired effect (ratio challenger / baseline for positive lower-is-better metrics, else Δ = challenger − "
                 "baseline), its 95% t-interval and the two means. The "
                 "decision rule is in Methods › verdicts.",
                 ["claim", "statement", "verdict", "key number", "decided by", "evidence"], rows, row_classes=classes)


def job_table(ctx: Context) -> Table:
    """Wall time, CPU time and peak memory per job, from the ``*.benchmark.tsv`` files Snakemake writes."""
    size_rank = size_ranker(ctx.metrics, ["dataset", "model"])
    sets = sorted(run_sets(all_runs(ctx.config)), key=lambda s: (
        s.dataset, s.name, size_rank({"dataset": s.dataset, "model": s.name, "size": s.size})))
    rows = []
    for run_set in sets:
        for job in RUN_SET_BENCHMARKED_JOBS[run_set.kind]:  # one job for every seed of the run
            last = ctx.inputs.benchmark(run_set, job)
            if last is not None:
                rows.append([run_set.dataset, f"{run_set.name}-{run_set.size}", _seed_list(list(run_set.seeds)), job,
                             f"{float(last['s']):.1f}", f"{float(last.get('cpu_time', np.nan)):.1f}",
                             f"{float(last.get('max_rss', np.nan)):.0f}"])
    total = sum(float(r[4]) for r in rows)
    return Table(f"Per job, from Snakemake's benchmark files: wall time (elapsed, s), CPU time (s) and peak resident "
                 f"memory (max RSS, MB). Each job processes every seed of a run, one after the other (each seed's "
                 f"config hash is in metrics.csv). {len(rows)} jobs, {fmt_seconds(total)} of job time in total. "
                 f"Dataset, collect and report jobs are not benchmarked.",
                 ["dataset", "run", "seeds", "job", "wall s", "CPU s", "max RSS MB"], rows,
                 [False, False, True, False, True, True, True])


def status_table(ctx: Context, built: dict[str, Section]) -> Table:
    rows, classes = [], []
    for fid, fam in EXPERIMENT_FAMILIES.items():
        if fid not in ctx.config["experiments"]:
            status, cls = "not run", "muted"
        elif fid not in SECTIONS:
            status, cls = "run; no report section yet", "muted"
        elif not built[fid].tables and not built[fid].figures and not built[fid].summary:
            status, cls = "configured; no results", "bad"
        else:
            status, cls = "reported below", ""
        rows.append([fid.upper(), fam.title, fam.claim, fam.mirrors, fam.what, status])
        classes.append(cls)
    return Table("Experiment families of SPEC §5 and whether this suite ran them.",
                 ["family", "title", "claim", "mirrors", "content", "status"], rows, row_classes=classes)
