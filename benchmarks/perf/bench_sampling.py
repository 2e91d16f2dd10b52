"""Sampling speed of rpd.diffusion.sample (both samplers, K steps) at both network sizes, single thread.

Run: python benchmarks/perf/bench_sampling.py [--quick]
"""

from __future__ import annotations

import argparse

import torch

from common import SIZES, build_model, header, load_quick, median, model_run, table, timed
from rpd.diffusion import prior_frame, sample
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import extra_inputs
from rpd.schedule import make_sampler

SAMPLERS = ("ddpm", "ddim")


def latents_shared(prior, b: int, gen: torch.Generator) -> torch.Tensor:
    """z ~ p̂(z) for b samples in one draw from ``gen`` (vectorised form of prior.sample_latent)."""
    if prior.kind == "vqvae":
        return prior.codebook[torch.multinomial(prior.code_probs, b, replacement=True, generator=gen)]
    return torch.randn(b, prior.latent_dim, generator=gen)


@torch.no_grad()
def sample_shared_generator(spec, net, prior, n: int, data_dim: int, sampler: str, steps: int, seed: int,
                            batch_size: int) -> torch.Tensor:
    """DIAGNOSTIC ONLY: rpd.diffusion.sample's loop with one shared generator instead of one per sample.

    Not what the pipeline does (its samples must not depend on the batch they were drawn in); it exists
    to measure what the per-sample generators cost. Mirrors rpd.diffusion._sample_batch line for line,
    with each per-sample draw (latents, r_T, the ancestral noise) made as one batched draw.
    """
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, batch_size):
        b = min(n, start + batch_size) - start
        scheduler = make_sampler(sampler, spec.num_train_timesteps, spec.beta_schedule, spec.target, steps)
        like = torch.zeros(b, data_dim)
        z = latents_shared(prior, b, gen) if spec.family in FAMILIES_WITH_PRIOR else None
        frame, mu = prior_frame(spec, prior, z, like)
        r = torch.randn((b, data_dim), generator=gen)
        for t in scheduler.timesteps:
            t_batch = t.expand(b)
            abar_t = scheduler.alphas_cumprod[t_batch]
            pred = net(r, t_batch, extra_inputs(spec.family, spec.aux, spec.target, r, abar_t, mu))
            r = scheduler.step(pred, t, r, generator=gen).prev_sample
        out.append(frame.to_data(r))
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, K ∈ {1, 10}")
    parser.add_argument("--repeats", type=int, help="timed repeats per cell (default 3, quick 1)")
    parser.add_argument("--steps", type=int, nargs="+", help="K values (default 1 10 100; time is linear in K, so add 1000 when needed; quick 1 10)")
    parser.add_argument("--models", nargs="+", default=["rpd", "ddpm"], help="model names of quick.yaml")
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    ks = args.steps or ([1, 10] if args.quick else [1, 10, 100])

    torch.set_num_threads(1)
    cfg = load_quick()
    n, batch = cfg["n_eval"], cfg["sample_batch_size"]
    header("bench_sampling: samples/s of rpd.diffusion.sample (as rpd.stages.sample_model_run calls it)", [
        f"N = n_eval = {n}, sample_batch_size = {batch}, K ∈ {ks}, samplers {list(SAMPLERS)}, "
        f"models {args.models}, sizes {list(SIZES)}",
        f"untrained networks and priors built from quick.yaml; torch threads = {torch.get_num_threads()}; "
        f"median of {repeats} repeat(s)",
        "'shared gen' = DIAGNOSTIC: the same loop with ONE shared torch.Generator (not what the pipeline does);",
        "  gen share = 1 − t_shared / t_per_sample = share of sampling time spent on per-sample generators",
        "  (creating them + one randn call per sample per step; DDIM with η = 0 draws noise only at the start)",
        "the two variants alternate within each repeat so background load hits both",
        "targets: none fixed; the pipeline's costliest job is ancestral (ddpm) K = 1000",
    ])
    rows = []
    for size in SIZES:
        for model in args.models:
            run = model_run(cfg, model, size)
            spec, net, prior = build_model(run)
            for sampler in SAMPLERS:
                for k in ks:
                    def per_sample() -> None:
                        sample(spec, net, prior, n, 2, sampler, k, seed=0, batch_size=batch)

                    def shared() -> None:
                        sample_shared_generator(spec, net, prior, n, 2, sampler, k, seed=0, batch_size=batch)

                    t_per, t_shared = [], []
                    for _ in range(repeats):
                        t_per.append(timed(per_sample))
                        t_shared.append(timed(shared))
                    share = median([1 - s / p for s, p in zip(t_shared, t_per)])
                    rows.append([size, model, sampler, k, median(t_per), n / median(t_per),
                                 n / median(t_shared), f"{share:.0%}"])
    table(["size", "model", "sampler", "K", "seconds", "samples/s", "samples/s shared gen (diag)", "gen share"],
          rows)


if __name__ == "__main__":
    main()
