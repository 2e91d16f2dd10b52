# E4 (claim C4): the metric against training iteration. Each training job keeps its EMA weights at a few
# iterations (snapshots.pt); for every run set of experiment e4 (its seeds, rpd.runsets) this job samples each
# snapshot and scores it: <run set>/progress.csv, rows in metrics.csv's format with sampler `progress` and
# K = the training iteration (rpd/progress.py). The collect rule concatenates them into metrics.csv.


rule progress:
    input:
        snapshots=run_set_files("progress", "snapshots.pt"),
        configs=run_set_files("progress", "config.json"),
        summaries=run_set_files("progress", "train_summary.json"),
        reference=f"{OUT}/{{dataset}}/reference.npz",
        priors=run_set_priors("progress"),
    output:
        progress=f"{RUN_SET}/progress.csv",
    log:
        f"{RUN_SET}/progress.log",
    benchmark:
        f"{RUN_SET}/progress.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        # rpd.resources has no `progress` stage: sampling a few snapshots at one (sampler, K) is a fraction of
        # a sampling job's work, scored like an evaluation.
        **job_resources("sample", "progress"),
    params:
        runs=run_set_configs("progress"),
        code=script_code("progress.py"),
    script:
        "../scripts/progress.py"
