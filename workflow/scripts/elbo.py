from pathlib import Path

from rpd.elbo import elbo_runs
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    run_dirs = [Path(c).parent for c in snakemake.input.configs]
    priors = list(snakemake.input.priors) or [None] * len(run_dirs)  # one per seed; none for DDPM
    elbo_runs(run_dirs, snakemake.input.reference, priors, snakemake.output.elbo)
