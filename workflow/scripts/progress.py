from pathlib import Path

import rpd.metrics.wasserstein  # noqa: F401  (POT: imported before the log opens, so its start-up line counts it)
import rpd.stages  # noqa: F401  (torch and diffusers, which progress_run imports lazily: likewise)
from rpd.logs import log_to
from rpd.progress import progress_runs

with log_to(snakemake.log[0]):
    run_dirs = [Path(c).parent for c in snakemake.input.configs]
    priors = list(snakemake.input.priors) or [None] * len(run_dirs)  # one per seed; none for DDPM
    progress_runs(snakemake.params.runs, run_dirs, snakemake.input.reference, priors, snakemake.output.progress)
