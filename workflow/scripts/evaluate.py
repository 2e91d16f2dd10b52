from rpd.evaluate import evaluate_runs, import_metric_libraries
from rpd.logs import log_to

import_metric_libraries(snakemake.params.runs[0])  # before the log opens: its start-up line counts these imports
with log_to(snakemake.log[0]):
    feature_net = snakemake.input.feature_net[0] if snakemake.input.feature_net else None
    evaluate_runs(snakemake.params.run_dirs, snakemake.input.reference, snakemake.output.metrics, feature_net,
                  runs=snakemake.params.runs)
