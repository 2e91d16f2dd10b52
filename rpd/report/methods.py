"""The report's Methods: the choices this suite makes, in words, with every number from the code or the config.

The β range and schedule, ᾱ_T, the time-embedding size and the GroupNorm groups are read from the objects the
pipeline builds (:func:`code_constants`), never retyped; everything else comes from the resolved config.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from rpd.analysis import elbo_methods_markdown
from rpd.config import MODALITY_KEYS, modality
from rpd.evaluate import RANGE_MARGIN
from rpd.layout import SNAPSHOTS_PER_RUN
from rpd.progress import PROGRESS_SAMPLING
from rpd.report import figures as F
from rpd.report.context import Context
from rpd.report.document import Table
from rpd.report.floor import FLOOR_DRAWS, FLOOR_MODEL, FLOOR_SEED_OFFSET
from rpd.report.plots import GALLERY_COLUMNS
from rpd.report.sanity import thresholds
from rpd.report.sizes import ordered_sizes
from rpd.report.verdicts import DECISION_RULE, SMALL_SHARE

SETTINGS_SHOWN = {
    "vqvae": ("codes", "latent_dim", "commitment", "sigma_floor"),
    "betavae": ("latent_dim", "beta", "sigma_floor"),
    "ddpm": ("target",),
    "diffusevae1": ("prior", "prior_size", "target"),
    "diffusevae2": ("prior", "prior_size", "target"),
    "rpd": ("prior", "prior_size", "target", "aux"),
}
TRAINING_KEYS = ("steps", "batch_size", "lr", "ema_decay", "warmup", "grad_clip")


@cache
def code_constants(T: int, beta_schedule: str) -> dict:
    """Constants the Methods text describes, read from what the pipeline builds (imports torch: called once).

    The β range is the training scheduler's config (rpd.schedule); the time-embedding width and the GroupNorm
    group count are read from a tiny instance of each denoiser (rpd.nets), so the text follows the code.
    """
    from rpd.nets.mlp import DenoiserMLP
    from rpd.nets.unet import DenoiserUNet
    from rpd.schedule import make_training_scheduler

    scheduler = make_training_scheduler(T, beta_schedule, "eps")
    return {"beta_start": float(scheduler.config.beta_start), "beta_end": float(scheduler.config.beta_end),
            "beta_schedule": scheduler.config.beta_schedule, "alpha_bar_T": float(scheduler.alphas_cumprod[-1]),
            "time_embedding": int(DenoiserMLP(2, 0, 8, 1).time_proj.num_channels),
            "groupnorm_groups": int(DenoiserUNet((1, 8, 8), 0, [8, 8]).unet.config.norm_num_groups)}


def build_methods(ctx: Context) -> dict:
    """The Methods part of the page: terms with their text, then the datasets, networks and training tables."""
    cfg = ctx.config
    code = code_constants(int(cfg.get("T", 1000)), cfg.get("beta_schedule", "linear"))
    datasets = dataset_tables(cfg)
    return {"items": method_items(ctx, code) + judging_items(ctx),
            "tables": datasets + [network_table(ctx, code), training_table(cfg)]}


def method_items(ctx: Context, code: dict) -> list[tuple[str, str]]:
    """Metrics, diffusion, samplers, priors and intervals, in words."""
    cfg, m = ctx.config, ctx.metrics
    T, schedule = int(cfg.get("T", 1000)), cfg.get("beta_schedule", "linear")
    ns = sorted(int(n) for n in m["n"].dropna().unique()) or [cfg.get("n_eval")]
    pairs = sorted({p for exp in cfg["experiments"].values() for p in ctx.pairs(exp)}, key=lambda p: (p[0], p[1]))
    steps_by_sampler = {s: sorted({k for a, k in pairs if a == s}) for s in dict.fromkeys(a for a, _ in pairs)}
    items = [
        ("1WD", f"Exact Wasserstein-1 distance between the N = {', '.join(map(str, ns))} generated points and the N "
                "held-out reference points, uniform weights: POT ot.emd2(a, b, ot.dist(X, Y, metric='euclidean')) "
                "(Euclidean ground cost, never squared, never sliced; distances computed directly with scipy's "
                "cdist backend). numItermax = 10⁷; a job fails if POT reports that it did not converge. In data "
                "units (grid centres are 1 apart)."),
        ("RW-1WD", "Region-wise W1: regions are the Voronoi cells of the G×G grid centres. In each region, W1 "
                   "between the generated and reference points in it after subtracting the centre and dividing "
                   "by the dataset's scale, so values are in units of the local shape and comparable across "
                   "scales; the regional values are averaged with weights = the reference share of each region. "
                   "Empty-region rule: a region with reference points but no generated point costs the W1 from "
                   "its reference points to a point mass at the centre (their mean distance to the centre, in "
                   "local units); regions without reference points carry no weight."),
        ("mass error", "½ Σ_r |p_gen(r) − p_ref(r)| over the regions: the share of generated mass in the wrong "
                       "cell (0 = perfect layout, 1 = disjoint), reported beside RW-1WD, which ignores it."),
        ("diffusion", f"T = {T}, β schedule {schedule} "
                      + f"(diffusers {code['beta_schedule']}) from β_start = {code['beta_start']:g} to β_end = "
                      f"{code['beta_end']:g}" + f", ᾱ_T = {code['alpha_bar_T']:.2g}. Every family is a standard DDPM on the "
                      "standardised variable r = (x − c(z)) / s(z): RPD c = μ̂(z), s = σ̂(z); DDPM c = 0, s = 1; "
                      "DiffuseVAE form 1 c = 0, s = 1, conditioned on x̂ = μ̂(z); form 2 c = x̂, s = 1 (σ̂ ignored), "
                      "conditioned on x̂. The network's main input is x_t = c + s·r_t in data space for every "
                      "family (as in the paper; r_t is what the schedulers step), its prediction is in r-space. "
                      "RPD's network also gets ω (ω_ε = r_t/√(1 − ᾱ_t), ω_v = √ᾱ_t ω_ε: the prior's normalised "
                      "residual) and μ̂(z), or μ̂(z) alone (aux mu), or nothing (aux none)."),
        ("samplers", "diffusers DDPMScheduler (ancestral), DDIMScheduler (η = 0, set_alpha_to_one=True), "
                     "DPMSolverMultistepScheduler (DPM-Solver++ 2M, `dpmpp`) and UniPCMultistepScheduler (`unipc`), "
                     "the last two ending on the x₀ prediction; all with "
                     "set_timesteps(K) with timestep_spacing='trailing' (K = 1 starts at t = T − 1) and "
                     "clip_sample=False; prediction_type epsilon or v_prediction by the model's target. One "
                     "trained model serves every K; every sample has its own random generator, seeded from "
                     "(run seed, sample index), so samples do not depend on the batch size. With trailing "
                     "spacing every K starts at t = T − 1 and its last step returns x₀ (previous step −1). "
                     "DDIMScheduler takes the previous step as t − ⌊T/K⌋, which for K not dividing T (e.g. K = 3: "
                     "999, 666, 332) is off by one step from the next listed timestep (diffusers' behaviour, "
                     "negligible). K per sampler: "
                     + "; ".join(f"{s}: {', '.join(map(str, ks))}" for s, ks in steps_by_sampler.items()) + "."),
        ("sampling z", "z ~ p̂(z): for VQ-VAE the empirical code frequencies on the training set; for the 2D β-VAE "
                       "N(0, I); for the image β-VAE p̂(z|y), one full-covariance Gaussian per class fitted to the "
                       "aggregate posterior after training (N(0, I) drawn apart from y ignored the class). "
                       "Decoder σ̂ = softplus(·) + sigma_floor. During stage-2 training z ~ q(z|x₀) "
                       "(VQ-VAE: the code of x₀). VQ-VAE codebook: k-means on 4096 training encodings (best "
                       "of 5 k-means++ runs), codes serving under a tenth of the mean usage restarted every "
                       "100 steps; encoder = identity skip + MLP."),
        ("seeds and intervals", f"Seeds {', '.join(map(str, cfg.get('seeds', [])))}; each seed trains its own prior "
                                "and model. Tables give mean ± sample sd over seeds and the 95% t-interval of the "
                                "mean, mean ± t₀.₉₇₅,ₙ₋₁·sd/√n (scipy.stats.t); no interval with one seed. RPD "
                                "against a baseline is compared seed-paired: per seed the difference at equal "
                                "dataset, size, sampler and K, then its mean and t-interval."),
        ("sample figures", f"Full views and galleries: seed {ctx.seed}; each model at its best-available sampler "
                           "(the DDPM sampler at its largest K, else DDIM at its largest K). The prior column shows "
                           "the prior of the first RPD-family model. The E1 local-shape row subtracts from every "
                           "point the centre of its grid cell (the Voronoi cell RW-1WD uses) and pools all cells "
                           "and all seeds; each panel states its point count."),
    ]
    return items


def dataset_tables(cfg: dict) -> list[Table]:
    """The 2D grid datasets (one column per setting) and the image datasets (their resolved config)."""
    grid_sets = {n: d for n, d in cfg["datasets"].items() if d.get("kind", "grid") == "grid"}
    other_sets = {n: d for n, d in cfg["datasets"].items() if n not in grid_sets}
    datasets = Table("Datasets (Datasaurus shape copied to the grid centres, shrunk by scale, plus Gaussian jitter "
                     "of jitter × scale).", ["dataset", "shape", "grid", "scale", "jitter", "n_train", "data_seed"],
                     [[name, str(d.get("shape", "")), str(d.get("grid", 4)), f"{d['scale']:g}",
                       str(d.get("jitter", "")), str(d.get("n_train", "")), str(d.get("data_seed", ""))]
                      for name, d in grid_sets.items()],
                     [False, False, True, True, True, True, True])
    image_sets = Table("Image datasets and their settings as resolved from the config.", ["dataset", "settings"],
                       [[name, spec_text(d)] for name, d in other_sets.items()])
    return [datasets] + ([image_sets] if other_sets else [])


def network_table(ctx: Context, code: dict) -> Table:
    """Every network that appears in metrics.csv, with its settings and parameter count."""
    cfg, m = ctx.config, ctx.metrics

    def counts(v: pd.Series) -> str:
        return ", ".join(str(int(x)) for x in sorted(set(v.dropna())))

    mod_of = {d: modality(spec) for d, spec in cfg["datasets"].items()}
    runs = m.assign(modality=m["dataset"].map(mod_of)) if not m.empty else m.assign(modality=[])
    params = runs.groupby(["model", "size", "modality"])["parameters"].agg(counts) if not m.empty else pd.Series(dtype=str)
    net_rows = []
    for name in ctx.ordered_models(list(cfg.get("priors", {})) + list(cfg["models"])):
        is_prior = name in cfg.get("priors", {})
        spec = cfg["priors"][name] if is_prior else cfg["models"][name]
        relevant = SETTINGS_SHOWN.get(spec.get("kind") if is_prior else spec.get("family"), ())
        detail = ", ".join(f"{k}={spec[k]}" for k in relevant if k in spec)
        for mod, keys in MODALITY_KEYS.items():
            sizes = cfg.get(keys["prior_sizes" if is_prior else "networks"], {})
            own = runs[(runs["model"] == name) & (runs["modality"] == mod)] if not runs.empty else runs
            for size in ordered_sizes(sizes, own):
                count = params.get((name, size, mod), "")
                if count == "":
                    continue
                net_rows.append([name, F.FAMILY_LABELS.get(ctx.family(name), ctx.family(name)), detail,
                                 f"{size} ({'2D' if mod == 'points' else 'images'})", spec_text(sizes[size]), count])
    return Table("Networks that appear in metrics.csv. 2D denoiser: an MLP over [x_t, extra inputs] with a "
                     f"{code['time_embedding']}-d sinusoidal time embedding and residual blocks (LayerNorm → Linear → SiLU → "
                     "Linear, time embedding added). Image denoiser: diffusers UNet2DModel (channels per level, ResNet blocks "
                     f"without attention unless attention=True, GroupNorm with {code['groupnorm_groups']} groups, "
                     "num_class_embeds for classes) "
                     "with the extra inputs as extra input channels; image prior: a convolutional β-VAE (stride-2 "
                     "convolutions with the given channels, class one-hot as extra input channels and decoder input). "
                     "Parameters are trainable parameters of the trained network (for diffusion models the denoiser "
                     "only; the frozen prior is counted in its own row).",
                     ["model", "family", "settings", "size", "network", "parameters"], net_rows,
                     [False, False, False, False, False, True])


def training_table(cfg: dict) -> Table:
    """Optimiser settings per stage and modality, as resolved from the config."""
    used = sorted({modality(spec) for spec in cfg["datasets"].values()})
    return Table("Training settings: Adam, cosine learning-rate schedule after a linear warm-up, gradient-norm "
                     "clipping, an EMA of the weights when the decay is > 0 (rpd/training.py).",
                     ["stage", "steps", "batch size", "lr", "EMA decay", "warmup", "grad clip"],
                     [[f"{stage} ({'2D' if mod == 'points' else 'images'})",
                       *(str(cfg.get(MODALITY_KEYS[mod][key], {}).get(k, "—")) for k in TRAINING_KEYS)]
                      for mod in used for stage, key in (("prior", "prior_training"), ("diffusion", "training"))],
                     [False] + [True] * 6)


def sanity_text(ctx: Context) -> str:
    """The sanity thresholds (config key ``sanity``) and what is measured."""
    t = thresholds(ctx.config)
    return (f"Per model and (sampler, K), evaluation records the share of raw sample values outside the data range "
            f"widened by {RANGE_MARGIN:.0%} of its width per side (images: [−1, 1] in model space, before clamping; "
            f"2D: the reference set's bounding box; the check is for diverging samplers, not a slight overshoot) "
            f"and, on class-conditional data, the KID feature net's accuracy on the samples against "
            f"the class each was drawn for, divided by its accuracy on the real held-out images. A model is fit to "
            f"judge with a sampler when at every K ≥ {t['min_steps']} at most {t['max_out_of_range']:.0%} of values "
            f"are outside and the accuracy ratio is at least {t['min_accuracy_ratio']:g} (config key 'sanity'); a "
            "claim whose deciding tests rest on a model that is not is shown as 'not fit to judge'. Butterflies' N "
            "reference images are held out from its training images.")


def judging_items(ctx: Context) -> list[tuple[str, str]]:
    """How claims are judged, and the image, ELBO and gallery conventions."""
    m = ctx.metrics
    return [
        ("verdicts", DECISION_RULE + " Each claim's deciding test: C1 the first RPD-family against the first "
                     "DDPM-family model of E1 on the primary metric (RW-1WD on grids, KID on images) at the "
                     "best-quality setting (ancestral sampler at its largest K), 1WD as the guard; C2 RPD against "
                     "DDPM in E2 at K = 1 and 3 with DDIM, DiffuseVAE as guards, all on v-prediction models where E2 "
                     "has them (ε-prediction at K = 1 multiplies the network's error by 1/√ᾱ ≈ 150: the ε twins "
                     "are drawn in E2, not judged); C3 RPD at E3's smallest size against RPD at its largest (sizes "
                     "ordered by the parameter counts in metrics.csv, whatever their names) at the best-quality "
                     "setting and at a few-step setting (DDIM at the fewest K ≥ 3 both sizes have), both deciding "
                     f"(precondition: the smallest < {SMALL_SHARE:.0%} of the largest's parameters); "
                     "C4 aux ω against aux μ̂ (else none) in E4, on every E4 dataset: the area under the "
                     "log-metric curve over the training snapshots (the geometric mean of RW-1WD, else CW-1WD, else "
                     "1WD over the snapshots, trapezoid rule; log-ratio test) and the mean logged training loss, "
                     "the last snapshot's metric (the final model) as the guard; C5 RPD on the prior size with the "
                     "fewest parameters against RPD on the one with the most (one prior; the prior runs' own counts) "
                     "in E5 at K = 1 and K = 3 with DDIM, on v-prediction models where "
                     "the experiment has them (worse expected, both K); C6 J₂ of RPD against each DiffuseVAE on the "
                     "same prior (name and size) on every E8 dataset (log-ratio test), the whole bound −ELBO "
                     "shown beside it, not deciding. −ELBO is read as lower-is-better."),
        ("sanity of the samples", sanity_text(ctx)),
        ("data floor", f"On 2D grids every metric table of E1 and E7 has a row '{FLOOR_MODEL}' and the figures a black "
                       f"line: {FLOOR_DRAWS} fresh draws of N points from the dataset's generator (seeds data_seed + "
                       f"{FLOOR_SEED_OFFSET} + i, disjoint from the training and reference draws), each scored against "
                       "the same reference set by the evaluation's code. It is what the true distribution itself "
                       "scores at this N: no model can be expected below it."),
        ("KID feature extractor", kid_extractors(m)),
        ("image metrics", "1WD on images: exact W1 between the N generated and N reference images flattened to "
                          "vectors of pixels in [0, 1] (Euclidean ground cost). CW-1WD: for each class c, W1 "
                          "between the samples generated for class c and the reference images of class c, then "
                          "the mean over classes. Rows with these metrics: "
                          + (", ".join(sorted({d for d in m.loc[m["metric"].isin(["cw1wd", "kid"]), "dataset"]}))
                             or "none in this suite") + "."),
        ("image data and sampling", "Fashion-MNIST: read from idx files (configured folder, else Debian's "
                                    "dataset-fashion-mnist, else torchvision's download); a class-balanced subset of "
                                    "the 60k training split for training, a class-balanced subset of size N of the 10k "
                                    "test split as reference; resized by area averaging (PIL BOX) to the configured "
                                    "resolution and stored as 8-bit images. Butterflies: every image of the folder "
                                    "(or the Hugging Face download), centre-cropped to a square and area-resized; the "
                                    "reference is a seeded subset of size N of the same images. Models see pixels in "
                                    "[−1, 1]; samples are clamped to [0, 1] and quantised to 8 bits before any metric "
                                    "(as saved images are). Class-conditional sample i is drawn for class i mod C, so "
                                    "classes are balanced as in the reference set."),
        ("training snapshots (E4)", "Every diffusion training run keeps its EMA weights at "
                                    f"{SNAPSHOTS_PER_RUN} evenly spaced iterations (the last is the final model); "
                                    "for E4's runs each snapshot is sampled ("
                                    + "; ".join(f"{'2D' if mod == 'points' else 'images'}: {s} at K = {k}"
                                                for mod, (s, k) in PROGRESS_SAMPLING.items())
                                    + ", N as in the evaluation; ancestral, so an under-trained ε-model does not "
                                    "drift as with DDIM) and scored with the evaluation's metric code (images: 1WD "
                                    "and CW-1WD, no KID). Rows: sampler 'progress', K = the iteration."),
        ("ELBO derivation (E8)", elbo_methods_markdown()),
        ("ELBO (E8)", "Rows named elbo* are read as the negative variational bound (an upper bound on the negative "
                      "log-likelihood: bits/dim on images, nats on 2D data), so lower is better; j2 is the KL "
                      "between the forward terminal and the reverse initial distribution (C6 expects ≈ 0 for "
                      "RPD). The E8 table shows every elbo* and j2 row metrics.csv holds."),
        ("sample galleries", f"Seed {ctx.seed}. Images: the first {GALLERY_COLUMNS} samples of each class per row "
                             "for labelled data (class-conditional generation), else the first samples in file "
                             "order; uint8 pixels as stored (0 black, 255 white), grey shown as grey, "
                             "nearest-neighbour interpolation. 2D: every sample as a point, one panel per model and K."),
    ]


def spec_text(spec: object) -> str:
    """A config block as 'key=value, …' (nested blocks in braces)."""
    if isinstance(spec, dict):
        return ", ".join(f"{k}={{{spec_text(v)}}}" if isinstance(v, dict) else f"{k}={v}" for k, v in spec.items())
    return str(spec)


def kid_extractors(m: pd.DataFrame) -> str:
    """Which KID feature extractor(s) the rows used."""
    if "kid" not in set(m["metric"]):
        return "No KID rows in this suite (KID applies to images)."
    ext = sorted(set(m.loc[m["metric"] == "kid", "extractor"])) if "extractor" in m else []
    ext = [e for e in ext if e]
    return ("KID through torch-fidelity, kid_subset_size = min(1000, N); feature extractor: "
            + (", ".join(ext) if ext else "not recorded in metrics.csv") + ". Every KID column names it.")
