from pathlib import Path

from rpd.logs import log_to
from rpd.report import ReportInputs, render_report

with log_to(snakemake.log[0]):
    render_report(ReportInputs.from_snakemake(snakemake.input), snakemake.params.config,
                  Path(snakemake.output.html).parent)
