# E8 (claim C6): the variational bound of each E8 run, term by term, and the consistency term J₂, on the
# reference set: <run>/elbo.csv, rows in metrics.csv's format (sampler `bound`, K = T) plus `se`, `unit`
# and `t_draws`. The collect rule concatenates them into metrics.csv.
# The runs are listed by elbo_files (common.smk).


rule elbo:
    input:
        model=f"{RUN}/model.pt",
        config=f"{RUN}/config.json",
        summary=f"{RUN}/train_summary.json",
        reference=f"{OUT}/{{dataset}}/reference.npz",
        prior=prior_model_file,
    output:
        elbo=f"{RUN}/elbo.csv",
    log:
        f"{RUN}/elbo.log",
    benchmark:
        f"{RUN}/elbo.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("elbo"),
    params:
        code=script_code("elbo.py"),
    script:
        "../scripts/elbo.py"
