from rpd.elbo import elbo_runs
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    p = snakemake.params
    elbo_runs(p.run_dirs, snakemake.input.reference, p.prior_models, snakemake.output.elbo)
