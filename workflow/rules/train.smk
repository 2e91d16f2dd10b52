# Stage 1 (priors) and stage 2 (denoisers). Each run folder holds its resolved config.json.


# A prior's own samples (z ~ p̂(z), x ~ N(μ̂, σ̂²)) cost a fraction of a second, so the training job draws
# them too, saving a job start (importing torch and diffusers takes seconds): samples/seed<k>/ in the run set's
# folder, where a diffusion run set's sampling job writes its seeds' samples (rpd.layout.samples_dir).
rule train_prior:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
    output:
        model=f"{RUN}/model.pt",
        samples=directory(f"{RUN_SET}/samples/seed{{seed}}"),
        config=f"{RUN}/config.json",
        losses=f"{RUN}/losses.npz",
        summary=f"{RUN}/train_summary.json",
    log:
        f"{RUN}/train.log",
    benchmark:
        f"{RUN}/train.benchmark.tsv"
    wildcard_constraints:
        name=PRIOR_NAMES,
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("train_prior"),
    params:
        run=prior_training_config,
        code=script_code("train_prior.py"),
    script:
        "../scripts/train_prior.py"


rule train_model:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
        prior=prior_model_file,
    output:
        model=f"{RUN}/model.pt",
        snapshots=f"{RUN}/snapshots.pt",
        config=f"{RUN}/config.json",
        losses=f"{RUN}/losses.npz",
        summary=f"{RUN}/train_summary.json",
    log:
        f"{RUN}/train.log",
    benchmark:
        f"{RUN}/train.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("train_model"),
    params:
        run=model_training_config,
        code=script_code("train_model.py"),
    script:
        "../scripts/train_model.py"
