from pathlib import Path

from rpd.logs import log_to
from rpd.progress import progress_run

with log_to(snakemake.log[0]):
    prior = snakemake.input.prior or None
    progress_run(snakemake.params.run, Path(snakemake.input.config).parent, snakemake.input.reference, prior,
                 snakemake.output.progress)
