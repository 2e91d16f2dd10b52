rule dataset:
    input:
        folder=generated_image_folder,
    output:
        train=f"{OUT}/{{dataset}}/train.npz",
        reference=f"{OUT}/{{dataset}}/reference.npz",
    log:
        f"{OUT}/{{dataset}}/dataset.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("dataset"),
    params:
        spec=dataset_spec,
        n_eval=dataset_n_eval,
        code=script_code("make_dataset.py"),
    script:
        "../scripts/make_dataset.py"


# 64 generated butterfly-like PNGs, so the ci suite runs the image-folder loader end to end offline.
rule synthetic_image_folder:
    output:
        directory(f"{SYNTHETIC}{{name}}"),
    log:
        f"{OUT}/synthetic-{{name}}.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("dataset"),
    params:
        code=script_code("synthetic_image_folder.py"),
    script:
        "../scripts/synthetic_image_folder.py"


# The KID feature net of an image dataset (kid.extractor = feature-net): trained on its training set.
rule feature_net:
    input:
        train=f"{OUT}/{{dataset}}/train.npz",
        reference=f"{OUT}/{{dataset}}/reference.npz",
    output:
        model=f"{OUT}/{{dataset}}/feature-net/model.pt",
        summary=f"{OUT}/{{dataset}}/feature-net/summary.json",
    log:
        f"{OUT}/{{dataset}}/feature-net/train.log",
    benchmark:
        f"{OUT}/{{dataset}}/feature-net/train.benchmark.tsv"
    conda:
        "../envs/rpd.yaml"
    threads: CFG["threads"]
    resources:
        **job_resources("feature_net"),
    params:
        spec=feature_net_spec,
        # only what training reads, so that changing another KID option does not retrain the net
        kid={"feature_net_steps": CFG["kid"]["feature_net_steps"]},
        code=script_code("train_feature_net.py"),
    script:
        "../scripts/train_feature_net.py"
