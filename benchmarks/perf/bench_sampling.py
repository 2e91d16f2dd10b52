"""Sampler loop against a bare loop of the same network forwards: all four samplers, 2D MLP and image UNet.

For each (data, model, sampler, K): rpd.diffusion.sample on one batch of b samples (the pipeline's loop:
per-sample generators, prior latents and frame, scheduler.step, noise) against a bare loop of K forwards of
the same network on the same batch (inputs prepared once), the two alternating in each repeat; CPU seconds
of this process, so other jobs sharing the cores distort them less. Target: sampler / bare ≤ 1.5.

Run: python benchmarks/perf/bench_sampling.py [--smoke]
"""

from __future__ import annotations

import argparse
import time

import torch

from common import build_model, header, load_quick, median, run_for, table
from rpd.diffusion import sample
from rpd.families import FAMILIES_WITH_PRIOR
from rpd.frames import extra_inputs
from rpd.schedule import SAMPLERS

TARGET = 1.5  # sampler loop / bare forward loop, same network, batch and K
CASES = {  # data: (dataset of quick.yaml, data shape, classes)
    "2D": ("dino-grid-0.1", (2,), 0),
    "image": ("fmnist-16", (1, 16, 16), 10),
}


def cpu_seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def bare_loop(spec, net, prior, b: int, shape: tuple[int, ...], steps: int, num_classes: int):
    """K forwards of ``net`` on one batch of b inputs built once (r_t, t, the family's extra inputs, labels)."""
    gen = torch.Generator().manual_seed(0)
    r = torch.randn((b, *shape), generator=gen)
    mu = torch.randn((b, *shape), generator=gen) if spec.family in FAMILIES_WITH_PRIOR else None
    t = torch.full((b,), spec.num_train_timesteps // 2)
    extra = extra_inputs(spec.family, spec.aux, spec.target, r, torch.full((b,), 0.5), mu)
    y = torch.arange(b) % num_classes if num_classes else None

    @torch.no_grad()
    def run() -> None:
        net.eval()
        for _ in range(steps):
            net(r, t, extra, y)

    return run


def bench_case(cfg: dict, data: str, model: str, size: str, b: int, ks: list[int], repeats: int,
               min_steps: int = 0) -> list[list]:
    """Rows of one network: every sampler and K, with max(repeats, ⌈min_steps / K⌉) paired repeats (small K
    gets more pairs: a 2D loop of K = 10 takes ~50 ms, where the load of other jobs varies more than over 5 pairs)."""
    dataset, shape, num_classes = CASES[data]
    spec, net, prior = build_model(run_for(cfg, dataset, model, size))
    rows = []
    for sampler in SAMPLERS:
        for k in ks:
            bare = bare_loop(spec, net, prior, b, shape, k, num_classes)

            def loop() -> None:
                sample(spec, net, prior, b, shape, sampler, k, seed=0, batch_size=b, num_classes=num_classes)

            loop()  # warm-up
            bare()
            t_loop, t_bare = [], []
            for r in range(max(repeats, -(-min_steps // k))):
                pair = (loop, bare) if r % 2 == 0 else (bare, loop)
                times = [cpu_seconds(fn) for fn in pair]
                t_loop.append(times[0] if r % 2 == 0 else times[1])
                t_bare.append(times[1] if r % 2 == 0 else times[0])
            ratio = median([a / c for a, c in zip(t_loop, t_bare)])
            rows.append([data, f"{model}-{size}", sampler, k, b, 1e3 * median(t_loop) / k, 1e3 * median(t_bare) / k,
                         ratio, "OK" if ratio <= TARGET else "MISSED"])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", help="tiny sizes (seconds; numbers not meaningful)")
    parser.add_argument("--repeats", type=int, help="paired repeats per cell (default 5, smoke 1)")
    parser.add_argument("--k", type=int, nargs="+", help="K values (default 10 100, smoke 2)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.smoke else 5)
    ks = args.k or ([2] if args.smoke else [10, 100])

    torch.set_num_threads(1)
    cfg = load_quick()
    batches = {"2D": 8 if args.smoke else min(cfg["n_eval"], cfg["sample_batch_size"]),
               "image": 4 if args.smoke else 128}
    header("bench_sampling: rpd.diffusion.sample against a bare loop of the same network forwards", [
        f"one batch of b samples (2D: b = min(n_eval, sample_batch_size) = {batches['2D']}; images: b = "
        f"{batches['image']}, pipeline: all 500 in one batch), K ∈ {ks}, samplers {list(SAMPLERS)};",
        "untrained networks built from quick.yaml",
        "ms/step = CPU ms per denoising step (this process), median of "
        f"max({repeats}, ⌈{0 if args.smoke else 500}/K⌉) (2D) or {repeats} (images) repeat(s); sampler and bare "
        "loop alternate in each repeat",
        "bare = K calls net(r_t, t, extra, y) on inputs built once (no scheduler, no noise, no prior)",
        f"ratio = median of paired (sampler / bare); target ≤ {TARGET}; torch threads = {torch.get_num_threads()}",
    ])
    rows = []
    for model in ("rpd", "ddpm"):
        rows += bench_case(cfg, "2D", model, "std", batches["2D"], ks, repeats, 0 if args.smoke else 500)
    for model in ("rpd", "ddpm"):
        rows += bench_case(cfg, "image", model, "std", batches["image"], ks[:1], repeats)
    table(["data", "model", "sampler", "K", "b", "ms/step sampler", "ms/step bare", "sampler/bare", "≤ 1.5"], rows)
    worst = max(r[7] for r in rows)
    print(f"worst sampler/bare ratio: {worst:.2f} (target ≤ {TARGET}) -> {'OK' if worst <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
