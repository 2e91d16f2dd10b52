# E4 (claim C4): the metric against training iteration. Each training job keeps its EMA weights at a few
# iterations (snapshots.pt); for every run set of experiment e4 (its seeds, rpd.runsets) this job samples each
# snapshot and scores it: <run set>/progress.csv, rows in metrics.csv's format with sampler `progress` and
# K = the training iteration (rpd/progress.py). The collect rule concatenates them into metrics.csv.


rule progress:
    input:
        runs=run_set_trained("progress"),
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
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        # rpd.resources has no `progress` stage: sampling a few snapshots at one (sampler, K) is a fraction of
        # a sampling job's work, scored like an evaluation.
        **job_resources("sample", "progress"),
    params:
        runs=run_set_configs("progress"),
        run_dirs=run_set_dirs("progress"),
        prior_models=run_set_prior_models("progress"),
        code=script_code("progress.py"),
    script:
        "../scripts/progress.py"
