"""Why one-step (K = 1) samples are worse than the prior alone: the x₀ estimate at the first sampling step.

At K = 1 every sampler returns the network's x₀ estimate at t = T − 1 (trailing spacing). In r-space
r̂₀ = (r_t − √(1 − ᾱ) ε̂) / √ᾱ for ε-prediction, so an error δ in ε̂ becomes an error √((1 − ᾱ)/ᾱ)·δ in r̂₀
(≈ 158·δ for the linear schedule, ᾱ_{T−1} ≈ 4e-5); v-prediction gives r̂₀ = √ᾱ r_t − √(1 − ᾱ) v̂, with no such
amplification. RPD maps r̂₀ back through x = μ̂ + σ̂·r, so its data-space error is σ̂ times the r-space error.

For trained runs of a results folder, this script draws held-out images x₀, z ~ q(z | x₀), r_t by the closed-form
forward process at t = T − 1, and prints per run: the RMS error of the network's prediction (ε or v), the RMS
data-space error of x̂₀ before and after clamping to [−1, 1], and the RMS error of μ̂(z) itself (the prior's
reconstruction). Usage (after the quick suite):

    python benchmarks/diagnostics/one_step_error.py results/quick fmnist-16 rpd-std ddpm-std --seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from rpd.checkpoint import load_state
from rpd.diffusion import DiffusionSpec, predict, prior_frame
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.io import load_json
from rpd.runs import Run
from rpd.schedule import make_training_scheduler, x0_from_eps, x0_from_v
from rpd.stages import build_denoiser, load_prior, load_training_data


def rms(x: torch.Tensor) -> float:
    return float(x.pow(2).mean().sqrt())


@torch.no_grad()
def one_step_errors(results: Path, dataset: str, run: str, seed: int, n: int) -> dict[str, float]:
    """RMS errors of the t = T − 1 prediction of one run on the first ``n`` reference images."""
    name, size = run.rsplit("-", 1)
    run_dir = results / Run("model", dataset, name, size, seed).folder
    config = load_json(run_dir / "config.json")
    spec = DiffusionSpec.from_run_config(config)
    net = build_denoiser(config)
    net.load_state_dict(load_state(run_dir / "model.pt")["state_dict"])
    net.eval()
    prior = None
    if spec.family in FAMILIES_WITH_PRIOR:
        p = config["prior_run"]
        prior = load_prior(results / Run("prior", dataset, p["prior"]["name"], p["size"], seed).folder / "model.pt")
        prior.eval()
    data = load_training_data(results / dataset / "reference.npz", config["dataset"])
    x0, y = (data[0][:n], data[1][:n]) if isinstance(data, tuple) else (data[:n], None)
    x0 = x0.float()
    torch.manual_seed(seed)
    z = prior.posterior_sample(x0, y) if prior is not None else None
    frame, mu = prior_frame(spec, prior, z, x0, y)
    scheduler = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    t = torch.full((len(x0),), spec.num_train_timesteps - 1)
    abar = scheduler.alphas_cumprod[t]
    r0 = frame.to_residual(x0)
    eps = torch.randn_like(r0)
    r_t = scheduler.add_noise(r0, eps, t)
    pred = predict(spec, net, frame, r_t, t, abar, mu, y)
    if spec.target == "eps":
        target, r0_hat = eps, x0_from_eps(pred, r_t, abar)
    else:
        target, r0_hat = scheduler.get_velocity(r0, eps, t), x0_from_v(pred, r_t, abar)
    x0_hat = frame.to_data(r0_hat)
    a = float(abar[0])
    out = {
        "target": spec.target,
        "amplification √((1−ᾱ)/ᾱ)": ((1 - a) / a) ** 0.5 if spec.target == "eps" else (1 - a) ** 0.5,
        "rms prediction error": rms(pred - target),
        "rms x̂₀ error": rms(x0_hat - x0),
        "rms clamped x̂₀ error": rms(x0_hat.clamp(-1, 1) - x0),
        "rms μ̂ error (prior recon.)": rms(mu - x0) if mu is not None else float("nan"),
        "mean σ̂": float(frame.scale.mean()),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a suite's results folder, e.g. results/quick")
    parser.add_argument("dataset")
    parser.add_argument("runs", nargs="+", help="run folders as <model>-<size>, e.g. rpd-std")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=500, help="reference images used")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {run: one_step_errors(args.results, args.dataset, run, args.seed, args.n) for run in args.runs}
    keys = list(next(iter(rows.values())))
    print(f"{args.dataset}, seed {args.seed}, N = {args.n}, t = T − 1 (data in [−1, 1])")
    print("| " + " | ".join(["run", *keys]) + " |")
    print("|" + "---|" * (len(keys) + 1))
    for run, row in rows.items():
        cells = [v if isinstance(v, str) else f"{v:.3g}" for v in row.values()]
        print("| " + " | ".join([run, *cells]) + " |")


if __name__ == "__main__":
    main()
