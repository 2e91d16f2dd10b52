rule evaluate:
    input:
        samples=RUN + "/samples",
        config=RUN + "/config.json",
        summary=RUN + "/train_summary.json",
        reference=f"{OUT}/{{dataset}}/reference.npz",
        feature_net=feature_net_file,
    output:
        metrics=RUN + "/metrics.csv",
    params:
        run=evaluate_run_config,
    log:
        RUN + "/evaluate.log",
    benchmark:
        RUN + "/evaluate.benchmark.tsv"
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("evaluate"),
    script:
        "../scripts/evaluate.py"


rule collect:
    input:
        lambda w: [f"{folder}/metrics.csv" for folder in all_run_folders()] + elbo_files(),
    output:
        metrics=f"{OUT}/metrics.csv",
        summary=f"{OUT}/summary.csv",
    log:
        f"{OUT}/collect.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("collect"),
    script:
        "../scripts/collect.py"
