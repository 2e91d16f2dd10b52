from pathlib import Path

from rpd.logs import log_to
from rpd.stages import sample_model_runs

with log_to(snakemake.log[0]):
    run_dirs = [Path(m).parent for m in snakemake.input.models]
    priors = list(snakemake.input.priors) or [None] * len(run_dirs)  # one per seed; none for DDPM
    sample_model_runs(snakemake.params.runs, run_dirs, priors)
