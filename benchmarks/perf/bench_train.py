"""Training speed of every model family at both network sizes of benchmarks/quick.yaml, single thread.

Run: python benchmarks/perf/bench_train.py [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from common import DATASET, SIZES, build_model, header, load_quick, matmul_peak_gflops, median, model_run, table, timed
from rpd.data.grid import make_grid_dataset
from rpd.diffusion import training_loss
from rpd.nets.mlp import count_parameters
from rpd.schedule import make_training_scheduler
from rpd.training import Progress, TrainConfig, fit

MODELS = ("rpd", "ddpm", "diffusevae1", "diffusevae2")
PEAK_TARGET = 0.40  # std MLP loop: achieved / matmul peak
RATIO_TARGET = 1.15  # RPD step time / DDPM step time, same size


@dataclasses.dataclass
class Trainer:
    """One model family at one size; ``run(steps)`` trains it for ``steps`` steps with the pipeline's loop."""

    name: str
    params: int
    batch_size: int
    run: Callable[[int], None]


def make_trainer(cfg: dict, model: str, size: str, data: torch.Tensor) -> Trainer:
    """Mirror rpd.stages.train_model_run: the same loss closure, scheduler and TrainConfig (logging muted)."""
    run = model_run(cfg, model, size)
    spec, net, prior = build_model(run)
    scheduler = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    base = TrainConfig.from_dict({**run["training"], "log_every": 10**9})
    gen = torch.Generator().manual_seed(0)

    def train(steps: int) -> None:
        with contextlib.redirect_stderr(io.StringIO()):  # fit's final progress line
            fit(net, lambda b: training_loss(spec, net, prior, b, scheduler), data,
                dataclasses.replace(base, steps=steps), Progress(model, steps), gen)

    return Trainer(model, count_parameters(net), base.batch_size, train)


def counted_flops_per_step(trainer: Trainer) -> float:
    """FLOPs of one training step as torch's FlopCounterMode counts them (matmul-type ops only)."""
    counter = FlopCounterMode(display=False)
    with counter:
        trainer.run(1)
    return float(counter.get_total_flops())


def bench_size(
    cfg: dict, size: str, data: torch.Tensor, repeats: int, steps: int, mm_n: int
) -> tuple[list[list], float]:
    """Table rows and the lowest share of peak (analytic) of one size; families interleaved (order
    alternating per repeat), with the matmul peak measured between repeats."""
    trainers = [make_trainer(cfg, m, size, data) for m in MODELS]
    for t in trainers:
        t.run(steps)  # warm-up: allocator, Adam state, first-call overheads
    times: dict[str, list[float]] = {t.name: [] for t in trainers}
    peaks: list[float] = []
    for r in range(repeats):
        for t in trainers if r % 2 == 0 else trainers[::-1]:
            times[t.name].append(timed(lambda: t.run(steps)) / steps)
        peaks.append(matmul_peak_gflops(mm_n, 3))
    peak = median(peaks)
    ratios = [a / b for a, b in zip(times["rpd"], times["ddpm"])]
    rows = []
    for t in trainers:
        sec = median(times[t.name])
        analytic = 6 * t.params * t.batch_size / sec / 1e9
        counted = counted_flops_per_step(t) / sec / 1e9
        vs_ddpm = median([a / b for a, b in zip(times[t.name], times["ddpm"])])
        rows.append([size, t.name, t.params, 1 / sec, 1e3 * sec, analytic, f"{analytic / peak:.0%}",
                     counted, f"{counted / peak:.0%}", vs_ddpm])
    rows.append([size, "matmul peak", "", "", "", peak, "100%", "", "", ""])
    lowest = min(6 * t.params * t.batch_size / median(times[t.name]) / 1e9 / peak for t in trainers)
    print(f"[{size}] RPD/DDPM step time (median of {repeats} paired repeats): {median(ratios):.3f} "
          f"(target ≤ {RATIO_TARGET}) -> {'OK' if median(ratios) <= RATIO_TARGET else 'MISSED'}")
    return rows, lowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 repeats of 5 steps, 512² matmul")
    parser.add_argument("--repeats", type=int, help="timed repeats per model (default 15, quick 3)")
    parser.add_argument("--steps", type=int, help="training steps per repeat (default 50, quick 5)")
    parser.add_argument("--matmul-n", type=int, help="matmul size for the peak (default 1024, quick 512)")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 15)
    steps = args.steps or (5 if args.quick else 50)
    mm_n = args.matmul_n or (512 if args.quick else 1024)

    torch.set_num_threads(1)
    cfg = load_quick()
    ds = cfg["datasets"][DATASET]
    data = torch.from_numpy(make_grid_dataset(ds["shape"], ds["grid"], ds["scale"], ds["jitter"], ds["n_train"], 0))
    header("bench_train: training steps/s of rpd.training.fit, as rpd.stages.train_model_run runs it", [
        f"quick.yaml: dataset {DATASET}, batch {cfg['training']['batch_size']}, networks {cfg['networks']}",
        "priors: rpd ← vqvae, diffusevae1/2 ← betavae (build_prior, untrained, frozen); torch threads = "
        f"{torch.get_num_threads()}",
        "one step = batch draw + training_loss + backward + clip + Adam + cosine LR + EMA (quick's ema_decay);",
        f"  median over {repeats} repeats of {steps} steps (per-call optimizer/EMA setup amortised over them)",
        "GFLOP/s analytic = 6 × denoiser parameters × batch / step time (2PB forward + 4PB backward;",
        "  ignores the frozen prior's forward, elementwise ops and Adam/EMA); counted = FlopCounterMode over",
        "  one whole step (matmul-type ops, includes the prior's forward)",
        f"peak = float32 {mm_n}² matmul, single thread, median, measured between the training repeats",
        f"targets: std loop ≥ {PEAK_TARGET:.0%} of peak; RPD step time / DDPM's ≤ {RATIO_TARGET}× "
        "(paired repeats, interleaved)",
    ])
    rows, lowest = [], {}
    for size in SIZES:
        size_rows, lowest[size] = bench_size(cfg, size, data, repeats, steps, mm_n)
        rows += size_rows
    print()
    table(["size", "model", "params", "steps/s", "ms/step", "GFLOP/s(6PB)", "%peak", "GFLOP/s(cnt)", "%peak",
           "time/DDPM"], rows)
    worst = lowest["std"]
    print(f"std loop, lowest share of peak over the families (6PB count): {worst:.0%} "
          f"(target ≥ {PEAK_TARGET:.0%}) -> {'OK' if worst >= PEAK_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
