from pathlib import Path

from rpd.logs import log_to
from rpd.stages import sample_prior_run, train_prior_run

with log_to(snakemake.log[0]):
    run_dir = Path(snakemake.output.model).parent
    train_prior_run(snakemake.params.run, snakemake.input.train, run_dir)
    sample_prior_run(snakemake.params.run, run_dir)
