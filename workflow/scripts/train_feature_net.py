from pathlib import Path

from rpd.logs import log_to
from rpd.stages import train_feature_net_run

with log_to(snakemake.log[0]):
    train_feature_net_run(snakemake.params.spec, snakemake.params.kid, snakemake.input.train,
                          snakemake.input.reference, Path(snakemake.output.model).parent, snakemake.threads,
                          snakemake.config.get("device", "auto"))  # schema default when the suite omits it
