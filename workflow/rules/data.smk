rule dataset:
    output:
        train=f"{OUT}/{{dataset}}/train.npz",
        reference=f"{OUT}/{{dataset}}/reference.npz",
    params:
        spec=lambda w: CFG["datasets"][w.dataset],
        n_eval=CFG["n_eval"],
    log:
        f"{OUT}/{{dataset}}/dataset.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("dataset"),
    script:
        "../scripts/make_dataset.py"
