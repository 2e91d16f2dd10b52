# E8 (claim C6): the variational bound of each E8 run, term by term, and the consistency term J₂, on the
# reference set: <run>/elbo.csv, rows in metrics.csv's format (sampler `bound`, K = T) plus `se`, `unit`
# and `t_draws`. The collect rule concatenates them into metrics.csv.
from rpd.config import experiment_runs


def elbo_files():
    """The elbo.csv of every run of experiment e8 (none when the suite has no e8)."""
    x = CFG["experiments"].get("e8")
    return [] if x is None else [f"{OUT}/{r.folder}/elbo.csv" for r in experiment_runs(CFG, x)]


rule elbo:
    input:
        model=RUN + "/model.pt",
        config=RUN + "/config.json",
        summary=RUN + "/train_summary.json",
        reference=f"{OUT}/{{dataset}}/reference.npz",
        prior=prior_model_file,
    output:
        elbo=RUN + "/elbo.csv",
    wildcard_constraints:
        name=MODEL_NAMES,
    log:
        RUN + "/elbo.log",
    benchmark:
        RUN + "/elbo.benchmark.tsv"
    threads: CFG["threads"]
    conda:
        "../envs/rpd.yaml"
    resources:
        # rpd.resources has no `elbo` stage: the bound costs N·(T − 1) network calls on 2D data (about a
        # minute), in the range of an evaluation job.
        **job_resources("evaluate"),
    script:
        "../scripts/elbo.py"
