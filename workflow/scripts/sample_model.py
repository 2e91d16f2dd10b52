from rpd.logs import log_to
from rpd.stages import sample_model_runs

with log_to(snakemake.log[0]):
    p = snakemake.params
    sample_model_runs(p.runs, p.run_dirs, p.prior_models)
