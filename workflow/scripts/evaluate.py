from pathlib import Path

from rpd.evaluate import evaluate_run, import_metric_libraries
from rpd.logs import log_to

import_metric_libraries(snakemake.params.run)  # before the log opens: its start-up line counts these imports
with log_to(snakemake.log[0]):
    feature_net = snakemake.input.feature_net[0] if snakemake.input.feature_net else None
    evaluate_run(Path(snakemake.input.config).parent, snakemake.input.reference, snakemake.output.metrics, feature_net,
                 run=snakemake.params.run)
