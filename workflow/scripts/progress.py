from pathlib import Path

import rpd.metrics.wasserstein  # noqa: F401  (POT: imported before the log opens, so its start-up line counts it)
import rpd.stages  # noqa: F401  (torch and diffusers, which progress_run imports lazily: likewise)
from rpd.logs import log_to
from rpd.progress import progress_run

with log_to(snakemake.log[0]):
    prior = snakemake.input.prior or None
    progress_run(snakemake.params.run, Path(snakemake.input.config).parent, snakemake.input.reference, prior,
                 snakemake.output.progress)
