# The HTML report reads, besides metrics.csv and summary.csv, the reference sets and sample files (scatter
# plots, galleries), the training-loss curves (E4) and the per-job benchmark files (costs): all are inputs
# (the list is rpd.report.inputs.declared_inputs, the same one the report's loader checks its reads against),
# so the report reruns when any of them changes and only then. CFG is a params value; Snakemake compares it
# with the value recorded at the last run, and it is built deterministically from the config file, so an
# unchanged config causes no rerun. The figures folder is a report() output: `snakemake --report report.zip`
# shows every figure, grouped by experiment, with the caption of its kind.
from rpd.report.inputs import declared_inputs


# A function, not a parse-time value: which sample files exist is asked in the working directory (--directory),
# which Snakemake enters after parsing the Snakefile.
def report_inputs(w):
    return declared_inputs(CFG, OUT)


rule report:
    input:
        unpack(report_inputs),
        metrics=f"{OUT}/metrics.csv",
        summary=f"{OUT}/summary.csv",
    output:
        html=f"reports/{SUITE}/index.html",
        figures=report(
            directory(f"reports/{SUITE}/figures"),
            patterns=["{experiment,e[0-9]+}-{figure}.png"],
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{experiment}",
            labels={"experiment": "{experiment}", "figure": "{figure}"},
        ),
    params:
        config=CFG,
    log:
        f"reports/{SUITE}/report.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("report"),
    script:
        "../scripts/report.py"
