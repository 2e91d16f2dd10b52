# Stage 1 (priors) and stage 2 (denoisers). Each run folder holds its resolved config.json.


# A prior's own samples (z ~ p̂(z), x ~ N(μ̂, σ̂²)) cost a fraction of a second, so the training job draws
# them too, saving a job start (importing torch and diffusers takes seconds).
rule train_prior:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
    output:
        model=RUN + "/model.pt",
        samples=directory(RUN + "/samples"),
        config=RUN + "/config.json",
        losses=RUN + "/losses.npz",
        summary=RUN + "/train_summary.json",
    wildcard_constraints:
        name=PRIOR_NAMES,
    params:
        run=prior_training_config,
    log:
        RUN + "/train.log",
    benchmark:
        RUN + "/train.benchmark.tsv"
    threads: CFG["threads"]
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("train_prior"),
    script:
        "../scripts/train_prior.py"


rule train_model:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
        prior=prior_model_file,
    output:
        model=RUN + "/model.pt",
        config=RUN + "/config.json",
        losses=RUN + "/losses.npz",
        summary=RUN + "/train_summary.json",
    wildcard_constraints:
        name=MODEL_NAMES,
    params:
        run=model_training_config,
    log:
        RUN + "/train.log",
    benchmark:
        RUN + "/train.benchmark.tsv"
    threads: CFG["threads"]
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("train_model"),
    script:
        "../scripts/train_model.py"
