# Samples of every (sampler, K) pair of every seed of a diffusion run set (rpd.runsets), in one job:
# <run set>/samples/seed<k>/<sampler>-K<K>.npz, each holding x (N×d). (Priors draw theirs in train_prior.)


rule sample_model:
    input:
        runs=run_set_trained("sample_model"),
        priors=run_set_priors("sample_model"),
    output:
        samples=directory(f"{RUN_SET}/samples"),
    log:
        f"{RUN_SET}/sample.log",
    benchmark:
        f"{RUN_SET}/sample.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("sample", "sample_model"),
    params:
        runs=run_set_configs("sample_model"),
        run_dirs=run_set_dirs("sample_model"),
        prior_models=run_set_prior_models("sample_model"),
        code=script_code("sample_model.py"),
    script:
        "../scripts/sample_model.py"
