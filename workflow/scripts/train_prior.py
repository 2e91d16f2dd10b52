from pathlib import Path

from rpd.logs import log_to
from rpd.stages import train_prior_run

with log_to(snakemake.log[0]):
    train_prior_run(snakemake.params.run, snakemake.input.train, Path(snakemake.output.model).parent)
