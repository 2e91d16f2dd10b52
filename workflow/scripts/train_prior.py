from rpd.logs import log_to
from rpd.stages import train_prior_runs

with log_to(snakemake.log[0]):
    train_prior_runs(snakemake.params.runs, snakemake.input.train, snakemake.params.run_dirs)
