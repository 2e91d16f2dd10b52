"""What one pipeline job asks a cluster for: minutes and memory, scaled by the suite (SPEC §5: `paper` on a cluster).

The estimates are upper bounds with a margin, calibrated on measurements (tests/test_resources.py compares them
with the `ci` suite's benchmark files and states the factor): memory is the resident size of a Python process
that imports torch, plus the job's data and the activations of its largest network batch; minutes are a floor
(start-up and scheduling on a slow node) plus the job's work at a conservative throughput. With ``device:
cuda`` every job that runs a network (training, sampling, the bound, the KID feature net, an image run's
evaluation: KID features) holds one GPU and its network work is priced at a GPU's rate; otherwise image work
is priced per CPU thread and per pixel. A job that still fails (out of time or memory) is resubmitted by Snakemake
(``retries`` in the profiles) with ``attempt`` times the memory and, unless it is a training job, the time: a training
job's retry continues from its checkpoints, so the same time limit buys as much progress again.
"""

from __future__ import annotations

from typing import NamedTuple

from rpd.batching import IMAGE_ROWS_PER_CALL, IMAGE_T_DRAWS, NOISE_BLOCK_ELEMENTS, ROWS_PER_CALL

STAGES = ("dataset", "feature_net", "train_prior", "train_model", "sample", "evaluate", "elbo", "collect", "report")
TRAIN_STAGES = ("train_prior", "train_model")
# Stages whose every job runs a network; an evaluation does only for images (KID's feature extractor).
NETWORK_STAGES = ("feature_net", "train_prior", "train_model", "sample", "elbo")

MIN_MINUTES = 10  # every job: imports, reading its inputs, a busy node
# Resident memory (MB) of a job process. With torch (every job but a 2D evaluation): 0.73–1.26 GB measured in ci.
TORCH_PROCESS_MB = 2000
NUMPY_PROCESS_MB = 500  # a 2D evaluation (NumPy, POT, pandas): 0.17 GB measured in ci
CUDA_CONTEXT_MB = 3000  # host memory the CUDA libraries add to a training job on a GPU
FEATURE_NET_DATA_MB = 500  # the feature net's images as floats: 60k Fashion-MNIST images at 28×28 are 0.19 GB

# Throughputs (per minute). 2D points: an MLP, training samples and network evaluations for the whole job.
TRAIN_RATE_POINTS = 2e6
SAMPLE_RATE_POINTS = 1e7
TRAIN_RATE_GPU_IMAGES = 3e4  # training images on one GPU
# Image pixels per CPU thread through the UNet: the paper's std network at 28×28 on one busy thread did
# ≈ 1.1e6 (forward, no gradient) and ≈ 3e5 (forward and backward); a slow node does half or less.
SAMPLE_PIXEL_RATE_CPU = 5e5
TRAIN_PIXEL_RATE_CPU = 1e5
# On one GPU (no gradient): a conservative 100× one CPU thread; rpd/cost.py derives its estimate from FLOPs.
SAMPLE_PIXEL_RATE_GPU = 5e7
# Peak activation memory per image of a batch, in float32 copies of (widest channel count × H × W): ≈ 8.5
# measured without gradient and 46–75 with backward (UNets of 2 and 3 levels).
SAMPLE_ACTIVATIONS = 12
TRAIN_ACTIVATIONS = 100
# The training rates are for the paper's std networks (widest layer: 2D prior MLP 128, 2D denoiser 256, image UNets
# 128 channels); a narrower network trains faster in proportion to its width, but by at most half (at toy widths
# the per-batch overheads dominate: no measurement supports more).
REFERENCE_WIDTH = {"prior": 128, "model": 256, "images": 128}
MIN_WIDTH_SHARE = 0.5
DATA_COPIES = 4  # the training set as float32, a batch gather, a prior's cached posterior parameters (μ, σ)
IMAGE_FOLDER_IMAGES = 10_000  # an image folder's size is not in the config: a generous guess


class Needs(NamedTuple):
    minutes: float
    mem_mb: float


def _mb(floats: float) -> float:
    """MB of ``floats`` float32 values."""
    return 4 * floats / 1e6


def _pixels(run: dict) -> int:
    """H·W of the run's images (1 for 2D points)."""
    return run["dataset"].get("resolution", 1) ** 2


def _point_size(run: dict) -> int:
    """Values per data point: C·H·W for images (3 channels at most), 2 for 2D points."""
    return 3 * _pixels(run) if "resolution" in run["dataset"] else 2


def _width(run: dict) -> int:
    """The widest layer of the run's network: UNet channels, or MLP hidden units."""
    network = run["network"]
    return max(network.get("channels") or [network.get("hidden", 1)])


def _width_share(run: dict, images: bool) -> float:
    """The training work of the run's network relative to the network the rates were calibrated on (its widest
    layer against :data:`REFERENCE_WIDTH`), at least :data:`MIN_WIDTH_SHARE`: a size's name says nothing."""
    reference = REFERENCE_WIDTH["images" if images else run["kind"]]
    return min(1.0, max(MIN_WIDTH_SHARE, _width(run) / reference))


def _activations_mb(run: dict, batch: int, copies: float) -> float:
    return _mb(batch * _width(run) * _pixels(run) * copies)


def _train_needs(run: dict, images: bool) -> Needs:
    training = run["training"]
    seen = training["steps"] * training["batch_size"] * _width_share(run, images)
    n_train = run["dataset"].get("n_train", IMAGE_FOLDER_IMAGES)
    mem = TORCH_PROCESS_MB + _mb(n_train * _point_size(run) * DATA_COPIES)
    if not images:
        return Needs(MIN_MINUTES + seen / TRAIN_RATE_POINTS, mem + _gpu_host_mb(run))
    if run.get("device") == "cuda":  # activations live on the GPU
        return Needs(MIN_MINUTES + seen / TRAIN_RATE_GPU_IMAGES, mem + CUDA_CONTEXT_MB)
    rate = TRAIN_PIXEL_RATE_CPU * run["threads"] / _pixels(run)
    return Needs(MIN_MINUTES + seen / rate, mem + _activations_mb(run, training["batch_size"], TRAIN_ACTIVATIONS))


def _on_gpu(run: dict) -> bool:
    return run.get("device") == "cuda"


def _evaluations_per_minute(run: dict, images: bool) -> float:
    """Network evaluations (one sample, one step) per minute, on the run's GPU or its CPU threads."""
    if not images:
        return SAMPLE_RATE_POINTS
    rate = SAMPLE_PIXEL_RATE_GPU if _on_gpu(run) else SAMPLE_PIXEL_RATE_CPU * run["threads"]
    return rate / _pixels(run)


def _gpu_host_mb(run: dict) -> float:
    """Host memory the CUDA libraries add to a job holding a GPU."""
    return CUDA_CONTEXT_MB if _on_gpu(run) else 0.0


def _sample_needs(run: dict, images: bool) -> Needs:
    n = run["n_eval"]
    batch = min(n, run["sample_batch_size"])
    work = n * sum(int(k) for _, k in run["sampling"])
    mem = TORCH_PROCESS_MB + _mb(2 * batch * NOISE_BLOCK_ELEMENTS + 2 * n * _point_size(run))
    if images:
        mem += _activations_mb(run, batch, SAMPLE_ACTIVATIONS)
    return Needs(MIN_MINUTES + work / _evaluations_per_minute(run, images), mem + _gpu_host_mb(run))


def _evaluate_needs(run: dict, images: bool) -> Needs:
    """The evaluation: exact OT on N×N costs per (sampler, K); KID features for images."""
    n = run["n_eval"]
    pairs = 1 if run["kind"] == "prior" else len(run["sampling"])
    ot_minutes = 10 * (n / 1e4) ** 2 * (3 if images else 1)
    base = TORCH_PROCESS_MB + _gpu_host_mb(run) if images else NUMPY_PROCESS_MB
    return Needs(MIN_MINUTES + pairs * ot_minutes, base + 3 * 8 * n**2 / 1e6)  # a few float64 N×N matrices


def _elbo_needs(run: dict, images: bool) -> Needs:
    """The bound on the N reference points: every t for 2D points, a few drawn t per image (rpd.elbo)."""
    n = run["n_eval"]
    t_draws = IMAGE_T_DRAWS + 2 if images else run["T"]
    rows = IMAGE_ROWS_PER_CALL if images else ROWS_PER_CALL
    mem = TORCH_PROCESS_MB + _activations_mb(run, rows, SAMPLE_ACTIVATIONS) + _mb(2 * n * _point_size(run))
    return Needs(MIN_MINUTES + n * t_draws / _evaluations_per_minute(run, images), mem + _gpu_host_mb(run))


def needs(stage: str, run: dict | None, images: bool) -> Needs:
    """Minutes and MB for one attempt of a job of ``stage`` on ``run`` (its resolved config; None for
    dataset, collect and report; for feature_net only its ``device`` matters: its work is small on either)."""
    if stage == "dataset":
        return Needs(30, TORCH_PROCESS_MB + 2000) if images else Needs(MIN_MINUTES, TORCH_PROCESS_MB)
    if stage in ("collect", "report"):
        return Needs(20, 4000)
    if stage == "feature_net":  # the KID feature net: a small CNN, a few thousand steps at most (0.73 GB in ci)
        return Needs(30, TORCH_PROCESS_MB + FEATURE_NET_DATA_MB + _gpu_host_mb(run or {}))
    stage_needs = {"train_prior": _train_needs, "train_model": _train_needs, "sample": _sample_needs,
                   "evaluate": _evaluate_needs, "elbo": _elbo_needs}.get(stage)
    if stage_needs is None:
        raise ValueError(f"stage {stage!r}; allowed: {list(STAGES)}")
    return stage_needs(run, images)


def run_set_needs(per_run: list[Needs]) -> Needs:
    """A job that processes several runs one after the other (a run set, rpd.runsets): their work adds up on
    one start-up floor; its memory is the largest run's."""
    return Needs(MIN_MINUTES + sum(n.minutes - MIN_MINUTES for n in per_run), max(n.mem_mb for n in per_run))


def cluster_resources(need: Needs, attempt: int, resumes: bool = False) -> dict[str, int]:
    """``runtime`` (minutes) and ``mem_mb`` for the ``attempt``-th try of a job (1, 2, …). Memory grows with the
    attempt; so does time, unless the job ``resumes`` (training, :data:`TRAIN_STAGES`): its retry continues from
    the checkpoints, so the first try's limit buys as much progress again, while a doubled limit could exceed the
    partition's (``paper``'s longest training job is estimated at 21.5 h)."""
    minutes = need.minutes if resumes else need.minutes * attempt
    return {"runtime": int(round(minutes)), "mem_mb": int(round(need.mem_mb * attempt))}


def wants_gpu(stage: str, device: str, images: bool) -> bool:
    """Whether a job holds one GPU: with ``device: cuda``, every job that runs a network (an evaluation only for
    images: its KID feature extractor; a 2D evaluation is NumPy and POT)."""
    return device == "cuda" and (stage in NETWORK_STAGES or (stage == "evaluate" and images))
