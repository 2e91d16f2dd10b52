from pathlib import Path

from rpd.logs import log_to
from rpd.stages import train_model_run

with log_to(snakemake.log[0]):
    prior = snakemake.input.prior or None
    train_model_run(snakemake.params.run, snakemake.input.train, prior, Path(snakemake.output.model).parent)
