import rpd.metrics.wasserstein  # noqa: F401  (POT: imported before the log opens, so its start-up line counts it)
import rpd.stages  # noqa: F401  (torch and diffusers, which progress_run imports lazily: likewise)
from rpd.logs import log_to
from rpd.progress import progress_runs

with log_to(snakemake.log[0]):
    p = snakemake.params
    progress_runs(p.runs, p.run_dirs, snakemake.input.reference, p.prior_models, snakemake.output.progress)
