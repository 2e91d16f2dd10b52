from rpd.evaluate import collect
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    collect(list(snakemake.input), snakemake.output.metrics, snakemake.output.summary)
