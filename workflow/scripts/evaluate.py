from pathlib import Path

from rpd.evaluate import evaluate_run
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    evaluate_run(Path(snakemake.input.config).parent, snakemake.input.reference, snakemake.output.metrics)
