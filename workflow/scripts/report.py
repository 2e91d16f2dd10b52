from rpd.logs import log_to
from rpd.report import render_report

with log_to(snakemake.log[0]):
    render_report(snakemake.input.metrics, snakemake.params.config, snakemake.output.html)
