# Samples of every (sampler, K) pair of a run: samples/<sampler>-K<K>.npz, each holding x (N×d).
# (Priors draw theirs in train_prior.)


rule sample_model:
    input:
        model=RUN + "/model.pt",
        prior=prior_model_file,
    output:
        samples=directory(RUN + "/samples"),
    wildcard_constraints:
        name=MODEL_NAMES,
    params:
        run=model_run_config,
    log:
        RUN + "/sample.log",
    benchmark:
        RUN + "/sample.benchmark.tsv"
    threads: CFG["threads"]
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("sample"),
    script:
        "../scripts/sample_model.py"
