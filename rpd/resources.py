"""What one pipeline job asks a cluster for: minutes and memory, scaled by the suite (SPEC §5: `paper` on a cluster).

The estimates are deliberately generous (throughputs below are conservative guesses, not measurements): a job
that still outlives its time limit is resubmitted by Snakemake (``retries`` in the profiles) with ``attempt``
times the time and memory, and a training job then continues from its checkpoint. Image datasets (any
dataset kind but ``grid``) cost far more than 2D points.
"""

from __future__ import annotations

from typing import NamedTuple

STAGES = ("dataset", "feature_net", "train_prior", "train_model", "sample", "evaluate", "collect", "report")
TRAIN_STAGES = ("train_prior", "train_model")

# Training samples per minute: an MLP on 2D points on a few CPU cores; a UNet on images on one GPU.
TRAIN_RATE = {"points": 2e6, "images": 3e4}
# Network evaluations per minute when sampling (one per sample per denoising step).
SAMPLE_RATE = {"points": 1e7, "images": 2e5}


class Needs(NamedTuple):
    minutes: float
    mem_mb: float


def needs(stage: str, run: dict | None, images: bool) -> Needs:
    """Minutes and MB for one attempt of a job of ``stage`` on ``run`` (its resolved config; None for
    dataset, collect and report)."""
    modality = "images" if images else "points"
    if stage == "dataset":
        return Needs(30, 8000) if images else Needs(10, 2000)
    if stage in ("collect", "report"):
        return Needs(20, 4000)
    if stage == "feature_net":  # the KID feature net: a small CNN, a few thousand steps at most
        return Needs(30, 8000)
    if stage in TRAIN_STAGES:
        training = run["training"]
        seen = training["steps"] * training["batch_size"] * (0.5 if run["size"] == "small" else 1.0)
        return Needs(10 + seen / TRAIN_RATE[modality], 16000 if images else 2000)
    if stage == "sample":
        work = run["n_eval"] * sum(int(k) for _, k in run["sampling"])
        return Needs(10 + work / SAMPLE_RATE[modality], 8000 if images else 2000)
    if stage == "evaluate":
        n = run["n_eval"]
        pairs = 1 if run["kind"] == "prior" else len(run["sampling"])
        ot_minutes = 10 * (n / 1e4) ** 2 * (3 if images else 1)  # exact OT on N×N costs, per (sampler, K)
        mem = (4000 if images else 1000) + 3 * 8 * n**2 / 1e6  # a few float64 N×N cost matrices
        return Needs(10 + pairs * ot_minutes, mem)
    raise ValueError(f"stage {stage!r}; allowed: {list(STAGES)}")


def cluster_resources(need: Needs, attempt: int) -> dict[str, int]:
    """``runtime`` (minutes) and ``mem_mb`` for the ``attempt``-th try of a job (1, 2, …): both grow with it."""
    return {"runtime": int(round(need.minutes * attempt)), "mem_mb": int(round(need.mem_mb * attempt))}


def wants_gpu(stage: str, device: str) -> bool:
    """Training jobs hold one GPU when the suite asks for ``device: cuda`` (sampling runs on the CPU)."""
    return stage in TRAIN_STAGES and device == "cuda"
