# rpd-bench: Residual Prior Diffusion against DDPM and DiffuseVAE.
#
#   snakemake --cores all                                        # the default `quick` suite
#   snakemake --cores all --configfile benchmarks/<suite>.yaml   # ci, quick or paper

from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/elbo.smk"
include: "workflow/rules/progress.smk"
include: "workflow/rules/report.smk"


# Jobs of seconds (ci: collect 4 s, report 30 s, the generated image folder 1 s) run in the main Snakemake
# process rather than as cluster jobs, whose queueing would cost more than the work.
localrules:
    all,
    collect,
    report,
    synthetic_image_folder,


rule all:
    input:
        f"{OUT}/metrics.csv",
        f"{OUT}/summary.csv",
        f"reports/{SUITE}/index.html",
        # Requested so that a report made by an older version (no figures folder) is rendered again.
        f"reports/{SUITE}/figures",
