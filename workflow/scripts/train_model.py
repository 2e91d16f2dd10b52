from rpd.logs import log_to
from rpd.stages import train_model_runs

with log_to(snakemake.log[0]):
    p = snakemake.params
    train_model_runs(p.runs, snakemake.input.train, p.prior_models, p.run_dirs)
