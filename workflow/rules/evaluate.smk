rule evaluate:
    input:
        samples=f"{RUN}/samples",
        config=f"{RUN}/config.json",
        summary=f"{RUN}/train_summary.json",
        reference=f"{OUT}/{{dataset}}/reference.npz",
        feature_net=feature_net_file,
    output:
        metrics=f"{RUN}/metrics.csv",
    log:
        f"{RUN}/evaluate.log",
    benchmark:
        f"{RUN}/evaluate.benchmark.tsv"
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("evaluate"),
    params:
        run=evaluate_run_config,
        code=script_code("evaluate.py"),
    script:
        "../scripts/evaluate.py"


rule collect:
    input:
        collected_files,
    output:
        metrics=f"{OUT}/metrics.csv",
        summary=f"{OUT}/summary.csv",
    log:
        f"{OUT}/collect.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("collect"),
    params:
        code=script_code("collect.py"),
    script:
        "../scripts/collect.py"
