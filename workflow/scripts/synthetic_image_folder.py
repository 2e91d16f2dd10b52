from rpd.data.synthetic import write_synthetic_folder
from rpd.logs import log_to

with log_to(snakemake.log[0]):
    write_synthetic_folder(snakemake.output[0], n=64, size=40, seed=0)
