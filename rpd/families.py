"""Names of the model families and their options (torch-free, so config checks and evaluation start fast)."""

FAMILIES = ("rpd", "ddpm", "diffusevae1", "diffusevae2")
FAMILIES_WITH_PRIOR = ("rpd", "diffusevae1", "diffusevae2")
AUX_INPUTS = ("omega", "mu", "none")
