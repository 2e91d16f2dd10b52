from pathlib import Path

from rpd.elbo import elbo_run
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    prior = snakemake.input.prior or None
    elbo_run(Path(snakemake.input.config).parent, snakemake.input.reference, prior, snakemake.output.elbo)
