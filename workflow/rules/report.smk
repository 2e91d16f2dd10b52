# The HTML report reads, besides metrics.csv, the sample files (galleries), the training-loss curves (E4)
# and the per-job benchmark files (provenance): all are inputs, so the report reruns when any of them
# changes and only then. CFG is a params value; Snakemake compares it with the value recorded at the last
# run, and it is built deterministically from the config file, so an unchanged config causes no rerun.


def report_inputs(w):
    priors, models = prior_runs(CFG), diffusion_runs(CFG)
    runs = [f"{OUT}/{r.folder}" for r in priors + models]
    return {
        "samples": [f"{d}/samples" for d in runs],
        "losses": [f"{OUT}/{r.folder}/losses.npz" for r in models],
        "benchmarks": [f"{d}/{job}.benchmark.tsv" for d in runs for job in ("train", "evaluate")]
        + [f"{OUT}/{r.folder}/sample.benchmark.tsv" for r in models],
    }


rule report:
    input:
        unpack(report_inputs),
        metrics=f"{OUT}/metrics.csv",
        summary=f"{OUT}/summary.csv",
    output:
        html=f"reports/{SUITE}/index.html",
    params:
        config=CFG,
    log:
        f"reports/{SUITE}/report.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("report"),
    script:
        "../scripts/report.py"
