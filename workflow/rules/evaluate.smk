# Evaluation of a run set (every seed of one prior or diffusion model at one size, rpd.runsets) in one job:
# <run set>/metrics.csv, every seed's rows (rpd.evaluate). The collect rule concatenates them into metrics.csv.


rule evaluate:
    input:
        samples=run_set_samples("evaluate"),
        runs=run_set_trained("evaluate"),
        reference=f"{OUT}/{{dataset}}/reference.npz",
        feature_net=feature_net_file,
    output:
        metrics=f"{RUN_SET}/metrics.csv",
    log:
        f"{RUN_SET}/evaluate.log",
    benchmark:
        f"{RUN_SET}/evaluate.benchmark.tsv"
    wildcard_constraints:
        name=f"{MODEL_NAMES}|{PRIOR_NAMES}",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("evaluate", "evaluate"),
    params:
        runs=run_set_configs("evaluate"),
        run_dirs=run_set_dirs("evaluate"),
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
