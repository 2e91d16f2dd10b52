from pathlib import Path

from rpd.logs import log_to
from rpd.stages import sample_model_run

with log_to(snakemake.log[0]):
    prior = snakemake.input.prior or None
    sample_model_run(snakemake.params.run, Path(snakemake.input.model).parent, prior)
