# Samples of every (sampler, K) pair of a run: samples/<sampler>-K<K>.npz, each holding x (N×d).


rule sample_prior:
    input:
        model=RUN + "/model.pt",
    output:
        samples=directory(RUN + "/samples"),
    wildcard_constraints:
        name=PRIOR_NAMES,
    params:
        run=prior_run_config,
    log:
        RUN + "/sample.log",
    threads: CFG["threads"]
    script:
        "../scripts/sample_prior.py"


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
    threads: CFG["threads"]
    script:
        "../scripts/sample_model.py"
