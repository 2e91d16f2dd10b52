# E8 (claim C6): the variational bound of each E8 run, term by term, and the consistency term J₂, on the
# reference set, for every run set of experiment e8 (its seeds, rpd.runsets) in one job: <run set>/elbo.csv,
# rows in metrics.csv's format (sampler `bound`, K = T) plus `se`, `unit` and `t_draws`. The collect rule
# concatenates them into metrics.csv.


rule elbo:
    input:
        runs=run_set_trained("elbo"),
        reference=f"{OUT}/{{dataset}}/reference.npz",
        priors=run_set_priors("elbo"),
    output:
        elbo=f"{RUN_SET}/elbo.csv",
    log:
        f"{RUN_SET}/elbo.log",
    benchmark:
        f"{RUN_SET}/elbo.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("elbo", "elbo"),
    params:
        run_dirs=run_set_dirs("elbo"),
        prior_models=run_set_prior_models("elbo"),
        code=script_code("elbo.py"),
    script:
        "../scripts/elbo.py"
