"""How much work the samplers and the bound hand to the network per call (no torch import here).

One definition for the job code (:mod:`rpd.diffusion`, :mod:`rpd.elbo`) and for the cluster estimates
(:mod:`rpd.resources`), which run in Snakemake's main process and must not import torch.
"""

# Elements of one sample's noise drawn per generator call: 2D data gets all K steps in one call; a 16×16 image
# 64 steps per call. The block length depends on the data shape only, so a sample's noise never depends on
# the batch; the memory is batch × NOISE_BLOCK_ELEMENTS floats (2 MB per 32 samples).
NOISE_BLOCK_ELEMENTS = 2**14

# The variational bound: (datum, t) pairs per network call on 2D data, image rows per call, and the uniformly
# drawn t per image for the diffusion sum (every t for 2D data).
ROWS_PER_CALL = 65536
IMAGE_ROWS_PER_CALL = 256
IMAGE_T_DRAWS = 32
