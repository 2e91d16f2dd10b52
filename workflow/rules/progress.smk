# E4 (claim C4): the metric against training iteration. Each training job keeps its EMA weights at a few
# iterations (snapshots.pt); for every run of experiment e4 this job samples each snapshot and scores it:
# <run>/progress.csv, rows in metrics.csv's format with sampler `progress` and K = the training iteration
# (rpd/progress.py). The collect rule concatenates them into metrics.csv. The runs are listed by
# progress_files (common.smk).


rule progress:
    input:
        snapshots=f"{RUN}/snapshots.pt",
        config=f"{RUN}/config.json",
        summary=f"{RUN}/train_summary.json",
        reference=f"{OUT}/{{dataset}}/reference.npz",
        prior=prior_model_file,
    output:
        progress=f"{RUN}/progress.csv",
    log:
        f"{RUN}/progress.log",
    benchmark:
        f"{RUN}/progress.benchmark.tsv"
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
        **job_resources("sample"),
    params:
        run=model_run_config,
        code=script_code("progress.py"),
    script:
        "../scripts/progress.py"
