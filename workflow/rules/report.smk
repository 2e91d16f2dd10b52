rule report:
    input:
        metrics=f"{OUT}/metrics.csv",
        summary=f"{OUT}/summary.csv",
        runs=lambda w: [f"{folder}/samples" for folder in all_run_folders()],
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
