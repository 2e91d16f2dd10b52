# Stage 1 (priors) and stage 2 (denoisers), one job per run set (every seed of one dataset, name and size,
# one after the other; rpd.runsets): its `train/` holds a run folder per seed, seed<k>/, with the run's resolved
# config.json (rpd.layout).


# A prior's own samples (z ~ p̂(z), x ~ N(μ̂, σ̂²)) cost a fraction of a second, so the training job draws
# them too, saving a job start (importing torch and diffusers takes seconds): the run set's samples/, where a
# diffusion run set's sampling job writes its seeds' samples (rpd.layout.samples_dir).
rule train_prior:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
    output:
        runs=directory(f"{RUN_SET}/train"),
        samples=directory(f"{RUN_SET}/samples"),
    log:
        f"{RUN_SET}/train.log",
    benchmark:
        f"{RUN_SET}/train.benchmark.tsv"
    wildcard_constraints:
        name=PRIOR_NAMES,
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("train_prior", "train_prior"),
    params:
        runs=run_set_training_configs("train_prior"),
        run_dirs=run_set_dirs("train_prior"),
        code=script_code("train_prior.py"),
    script:
        "../scripts/train_prior.py"


rule train_model:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
        priors=run_set_priors("train_model"),
    output:
        runs=directory(f"{RUN_SET}/train"),
    log:
        f"{RUN_SET}/train.log",
    benchmark:
        f"{RUN_SET}/train.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("train_model", "train_model"),
    params:
        runs=run_set_training_configs("train_model"),
        run_dirs=run_set_dirs("train_model"),
        prior_models=run_set_prior_models("train_model"),
        code=script_code("train_model.py"),
    script:
        "../scripts/train_model.py"
