from rpd.data.build import make_dataset
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    make_dataset(snakemake.params.spec, snakemake.params.n_eval, snakemake.output.train, snakemake.output.reference)
