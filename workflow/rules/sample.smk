# Samples of every (sampler, K) pair of a run: samples/<sampler>-K<K>.npz, each holding x (N×d).
# (Priors draw theirs in train_prior.)


rule sample_model:
    input:
        model=f"{RUN}/model.pt",
        prior=prior_model_file,
    output:
        samples=directory(f"{RUN}/samples"),
    log:
        f"{RUN}/sample.log",
    benchmark:
        f"{RUN}/sample.benchmark.tsv"
    wildcard_constraints:
        name=MODEL_NAMES,
    group:
        job_group
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("sample"),
    params:
        run=model_run_config,
        code=script_code("sample_model.py"),
    script:
        "../scripts/sample_model.py"
