from pathlib import Path

from rpd.logs import log_to
from rpd.stages import sample_prior_run

with log_to(snakemake.log[0]):
    sample_prior_run(snakemake.params.run, Path(snakemake.input.model).parent)
