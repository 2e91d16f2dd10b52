"""rpd.report.overview on hand-made metrics rows and benchmark files: the header's counts and provenance, the
claims table, the job-cost table and the family status table, without rendering a report (issue 18: `make
mutation`). Benchmark files are written where the report rule declares them (rpd.report.inputs.declared_inputs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rpd.report import overview as O
from rpd.report import sections  # noqa: F401  (registers the section builders, as rendering does)
from rpd.report.context import Context
from rpd.report.document import Link, Section, Table, new_section
from rpd.report.inputs import ReportInputs, declared_inputs
from rpd.report.stats import NOT_SUPPORTED, SUPPORTED
from rpd.report.verdicts import Verdict
from rpd.runs import Run

CONFIG = {
    "suite": "unit", "seeds": [0, 1],
    "datasets": {"g": {"kind": "grid"}},
    "sampling": [{"samplers": ["ddim"], "steps": [1]}],
    "models": {"r": {"family": "rpd", "prior": "vq", "prior_size": "p"}, "d": {"family": "ddpm"}},
    "priors": {"vq": {"kind": "vqvae"}},
    "experiments": {"e1": {"datasets": ["g"], "models": ["r", "d"], "sizes": ["small", "big"]},
                    "e2": {"datasets": ["g"], "models": ["d"], "sizes": ["small"], "seeds": [0, 1, 2, 3, 4]}},
}


def row(model: str, seed: int, sampler: str = "ddim", steps: int = 1, size: str = "small", **extra: object) -> dict:
    return {"suite": "unit", "dataset": "g", "model": model, "family": "rpd" if model == "r" else "ddpm",
            "size": size, "seed": seed, "sampler": sampler, "steps": steps, "metric": "rw1wd", "value": 1.0,
            "n": 100, "parameters": 10, "commit": "abc", "config_hash": f"h{model}{seed}", "versions": "torch=2;x=1",
            "device": "cpu", "train_seconds": 100.0, "sample_seconds": 10.0, "eval_seconds": 1.0, **extra}


def test_wall_seconds_counts_training_once_per_run_and_sampling_once_per_k() -> None:
    m = pd.DataFrame([row("r", 0), row("r", 0, metric="1wd"), row("r", 0, steps=3), row("r", 1)])
    assert O.wall_seconds(m) == 2 * 100 + 3 * (10 + 1)
    assert O.wall_seconds(m.iloc[:0]) == 0.0


def test_header_counts_runs_rows_and_n_per_dataset() -> None:
    m = pd.DataFrame([row("r", 0), row("r", 0, metric="1wd"), row("d", 1), row("d", 1, commit="def", device="cuda"),
                      row("d", 1, dataset="h", n=50), row("d", 2, n=np.nan)])
    h = O.build_header(Context(CONFIG, m, inputs=None, out_dir=Path(".")))
    assert (h["suite"], h["commits"], h["runs"], h["rows"]) == ("unit", ["abc", "def"], 4, 6)
    assert h["n"] == "50 (h); 100 (g)"
    assert h["seeds"] == "0, 1 (e2: 0–4)"
    assert h["wall"] == "7.4 min"  # 4 runs × 100 s + 4 (run, sampler, K) × 11 s
    prov = h["provenance"]
    assert prov.columns == ["commit", "runs", "config hashes", "versions", "device", "wall time"]
    assert prov.rows == [["abc", "4", "3", "torch=2; x=1", "cpu", "7.4 min"],
                         ["def", "1", "1", "torch=2; x=1", "cuda", "111.0 s"]]
    assert prov.numeric == [False, True, True, False, False, True]
    assert prov.caption.endswith("Wall time is training + sampling + evaluation, summed over jobs (not elapsed time).")
    assert O.build_header(Context(CONFIG, m.assign(n=np.nan), inputs=None, out_dir=Path(".")))["n"] == "—"
    # provenance rows by commit whatever the row order; a row missing another number still counts for its N
    later_first = pd.concat([m.iloc[3:4], m.drop(index=3)]).assign(parameters=[10, 10, 10, 10, np.nan, 10])
    h = O.build_header(Context(CONFIG, later_first, inputs=None, out_dir=Path(".")))
    assert [r[0] for r in h["provenance"].rows] == ["abc", "def"] and h["n"] == "50 (h); 100 (g)"


def test_seed_lists() -> None:
    assert O._seed_list([0, 1, 2, 3]) == "0–3"
    assert O._seed_list([3, 4, 5, 6, 7]) == "3–7"
    assert O._seed_list([0, 1, 2]) == "0, 1, 2"
    assert O._seed_list([0, 1, 2, 4]) == "0, 1, 2, 4"
    assert O._seed_list([]) == ""


def test_seeds_text_groups_experiments_with_the_same_list() -> None:
    cfg = {**CONFIG, "experiments": {"e1": {}, "e2": {"seeds": [0]}, "e3": {"seeds": [0]}, "e4": {"seeds": [5, 6]}}}
    assert O.seeds_text(Context(cfg, pd.DataFrame(), inputs=None, out_dir=Path("."))) == "0, 1 (e2, e3: 0; e4: 5, 6)"
    bare = {k: v for k, v in CONFIG.items() if k != "experiments"}
    assert O.seeds_text(Context(bare, pd.DataFrame(), inputs=None, out_dir=Path("."))) == "0, 1"


def verdict(claim: str, family: str, status: str) -> Verdict:
    return Verdict(claim, family, f"{claim} statement", status, f"{claim} reason")


def test_claims_table_links_each_claim_to_its_section() -> None:
    built = {"e1": new_section("e1")}
    t = O.claims_table([verdict("C1", "e1", SUPPORTED), verdict("C2", "e2", NOT_SUPPORTED)], built)
    assert t.columns == ["claim", "statement", "verdict", "key number", "decided by", "evidence"]
    assert t.rows == [["C1", "C1 statement", SUPPORTED, "—", "C1 reason", Link("E1 Fine structure", "#e1")],
                      ["C2", "C2 statement", NOT_SUPPORTED, "—", "C2 reason", "E2 (not run)"]]
    assert t.row_classes == ["good", "bad"]
    assert t.caption == ("Claims of the paper (SPEC §1) and what this suite's results say. Key number: the deciding "
                         "seed-paired effect (ratio challenger / baseline for positive lower-is-better metrics, else "
                         "Δ = challenger − baseline), its 95% t-interval and the two means. The decision rule is in "
                         "Methods › verdicts.")


def test_job_table_reads_each_jobs_benchmark_file(tmp_path: Path) -> None:
    m = pd.DataFrame([row("r", 0, size="big", parameters=900), row("r", 0, size="small"), row("r", 1),
                      row("d", 0)])
    results = tmp_path / "results"
    walls = {}
    for i, path in enumerate(sorted(declared_inputs(CONFIG, results)["benchmarks"])):
        if Path(path).is_relative_to(results / Run("model", "g", "d", "big", 0).group_folder):
            continue  # the jobs of d-big have not run: no file, no row
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(f"s\tcpu_time\tmax_rss\n99\t1\t1\n{i + 1.04}\t{i / 2}\t{100 + i}\n")
        walls[f"{i + 1.04:.1f}"] = (Path(path).name, [f"{i / 2:.1f}", f"{100 + i:.0f}"])  # from the last line
    ctx = Context(CONFIG, m, inputs=ReportInputs.for_results(results, CONFIG), out_dir=tmp_path)
    t = O.job_table(ctx)
    assert t.columns == ["dataset", "run", "seeds", "job", "wall s", "CPU s", "max RSS MB"]
    # run sets by model name, sizes largest first (r: big has 900 parameters; d: only small has a count), each
    # set's jobs (one for all its seeds) in pipeline order
    assert [r[1:4] for r in t.rows] == [
        ["d-small", "0–4", "train"], ["d-small", "0–4", "sample"], ["d-small", "0–4", "evaluate"],
        ["r-big", "0, 1", "train"], ["r-big", "0, 1", "sample"], ["r-big", "0, 1", "evaluate"],
        ["r-small", "0, 1", "train"], ["r-small", "0, 1", "sample"], ["r-small", "0, 1", "evaluate"],
        ["vq-p", "0, 1", "train"], ["vq-p", "0, 1", "evaluate"]]
    assert {r[0] for r in t.rows} == {"g"}
    assert sorted(r[4] for r in t.rows) == sorted(walls)
    for r in t.rows:
        assert walls[r[4]] == (f"{r[3]}.benchmark.tsv", r[5:])
    total = sum(float(r[4]) for r in t.rows)
    assert f"{len(t.rows)} jobs, {O.fmt_seconds(total)} of job time in total." in t.caption
    assert t.numeric == [False, False, True, False, True, True, True]


def test_status_table_says_which_families_ran() -> None:
    cfg = {**CONFIG, "experiments": {**CONFIG["experiments"], "e3": {}, "e4": {}}}
    ctx = Context(cfg, pd.DataFrame(), inputs=None, out_dir=Path("."))
    shown = new_section("e1")
    shown.figures.append(object())
    summarised, tabled = new_section("e3"), new_section("e4")
    summarised.summary.append(Table("c", [], []))
    built = {"e1": shown, "e2": new_section("e2"), "e3": summarised, "e4": tabled}
    tabled.tables.append(Table("c", [], []))
    t = O.status_table(ctx, built)
    status = {r[0]: (r[5], c) for r, c in zip(t.rows, t.row_classes)}
    assert status["E1"] == status["E3"] == status["E4"] == ("reported below", "")
    assert status["E2"] == ("configured; no results", "bad")
    assert status["E5"] == ("not run", "muted")
    assert t.rows[0][:5] == ["E1", "Fine structure", "C1", "paper Fig. 2", O.EXPERIMENT_FAMILIES["e1"].what]
    assert len(t.rows) == 8
    assert t.caption == "Experiment families of SPEC §5 and whether this suite ran them."
    assert t.columns == ["family", "title", "claim", "mirrors", "content", "status"]


def test_status_table_names_a_family_without_a_section(monkeypatch) -> None:
    monkeypatch.delitem(O.SECTIONS, "e1", raising=False)
    ctx = Context(CONFIG, pd.DataFrame(), inputs=None, out_dir=Path("."))
    t = O.status_table(ctx, {"e2": Section("e2", "t", "c", "m", figures=[object()])})
    assert (t.rows[0][5], t.row_classes[0]) == ("run; no report section yet", "muted")
