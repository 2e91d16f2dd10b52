rule dataset:
    output:
        train=f"{OUT}/{{dataset}}/train.npz",
        reference=f"{OUT}/{{dataset}}/reference.npz",
    params:
        spec=lambda w: CFG["datasets"][w.dataset],
        n_eval=CFG["n_eval"],
    log:
        f"{OUT}/{{dataset}}/dataset.log",
    script:
        "../scripts/make_dataset.py"
