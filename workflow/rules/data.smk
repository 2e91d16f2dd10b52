rule dataset:
    input:
        # A generated image folder (ci) is built by the rule below; a user's folder is read as configured,
        # so that a missing one gets the loader's message listing the sources tried.
        folder=lambda w: [f] if (f := CFG["datasets"][w.dataset].get("folder")) and f.startswith(SYNTHETIC) else [],
    output:
        train=f"{OUT}/{{dataset}}/train.npz",
        reference=f"{OUT}/{{dataset}}/reference.npz",
    params:
        spec=lambda w: canonical(CFG["datasets"][w.dataset]),
        n_eval=lambda w: n_eval_of(CFG, w.dataset),
    log:
        f"{OUT}/{{dataset}}/dataset.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("dataset"),
    script:
        "../scripts/make_dataset.py"


# 64 generated butterfly-like PNGs, so the ci suite runs the image-folder loader end to end offline.
rule synthetic_image_folder:
    output:
        directory(SYNTHETIC + "{name}"),
    log:
        f"{OUT}/synthetic-{{name}}.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("dataset"),
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
    params:
        spec=lambda w: canonical({"name": w.dataset, **CFG["datasets"][w.dataset]}),
        # only what training reads, so that changing another KID option does not retrain the net
        kid={"feature_net_steps": CFG["kid"]["feature_net_steps"]},
    log:
        f"{OUT}/{{dataset}}/feature-net/train.log",
    benchmark:
        f"{OUT}/{{dataset}}/feature-net/train.benchmark.tsv"
    threads: CFG["threads"]
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("feature_net"),
    script:
        "../scripts/train_feature_net.py"
