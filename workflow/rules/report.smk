# The HTML report reads, besides metrics.csv and summary.csv, the reference sets and sample files (scatter
# plots, galleries; declared as the samples/ directory outputs that hold them, the only way a rule can depend
# on files inside a directory output), the training-loss curves (E4) and the per-job benchmark files: all are inputs
# (the list is rpd.report.inputs.declared_inputs, the same one the report's loader checks its reads against),
# so the report reruns when any of them changes and only then. CFG is a params value; Snakemake compares it
# with the value recorded at the last run, and it is built deterministically from the config file, so an
# unchanged config causes no rerun. The figures folder is a report() output: `snakemake --report report.zip`
# shows every figure, grouped by experiment, with the caption of its kind.
from rpd.report.inputs import declared_inputs


rule report:
    input:
        **declared_inputs(CFG, OUT),
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
    log:
        f"reports/{SUITE}/report.log",
    conda:
        "../envs/rpd.yaml"
    resources:
        **job_resources("report"),
    params:
        config=CFG,
        code=script_code("report.py"),
    script:
        "../scripts/report.py"
