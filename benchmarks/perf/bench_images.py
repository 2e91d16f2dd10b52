"""Speed and memory of the image experiments (quick suite, fmnist-16), single thread: UNet training steps/s,
our training step against a plain PyTorch loop, sampling images/s per K, KID time, peak memory per job.

Run: python benchmarks/perf/bench_images.py [--smoke]
"""

from __future__ import annotations

import os

# Snakemake runs every job with OMP/OPENBLAS/MKL_NUM_THREADS = the job's threads (1 in quick); numpy's
# OpenBLAS (KID statistic) must be pinned before numpy loads, else it spins 2 threads on the shared cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import dataclasses  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from common import SIZES, build_model, header, load_quick, median, table, timed  # noqa: E402
from rpd.diffusion import denoiser_training, sample  # noqa: E402
from rpd.nets.mlp import count_parameters  # noqa: E402
from rpd.runs import Run, run_config  # noqa: E402
from rpd.schedule import make_training_scheduler  # noqa: E402
from rpd.training import Progress, TrainConfig, fit  # noqa: E402

DATASET = "fmnist-16"
SHAPE = (1, 16, 16)
NUM_CLASSES = 10
MODELS = ("rpd", "ddpm", "diffusevae1", "diffusevae2")
SAMPLERS = ("ddpm", "ddim")
PLAIN_TARGET = 1.3  # a family's step time / the plain DDPM loop's, same UNet2DModel (issue 14)
RESULTS = Path(__file__).resolve().parents[2] / "results" / "quick" / DATASET


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call; CPU time is less distorted by other jobs
    sharing the cores (every thread pool here is pinned to 1 thread, so CPU ≤ wall)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def image_run(cfg: dict, model: str, size: str) -> dict:
    """The resolved run config the pipeline would write for (fmnist-16, model, size, seed 0)."""
    return run_config(cfg, Run("model", DATASET, model, size, 0))


def synthetic_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): n random images in [−1, 1] (N×1×16×16 float), int64 labels 0–9 (speed ignores content)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, *SHAPE, generator=gen) * 2 - 1, torch.randint(0, NUM_CLASSES, (n,), generator=gen)


@dataclasses.dataclass
class Variant:
    """One way of training at one size; ``run(steps)`` trains for ``steps`` steps (setup included, amortised)."""

    name: str
    params: int
    run: Callable[[int], None]


def pipeline_variant(cfg: dict, model: str, size: str, data, name: str, ema: bool = True) -> Variant:
    """Mirror rpd.stages.train_model_run: same denoiser, frozen prior, loss and data (rpd.diffusion.denoiser_training)
    and TrainConfig (logging muted; ``ema=False`` sets ema_decay = 0 to isolate the EMA's cost)."""
    run = image_run(cfg, model, size)
    spec, net, prior = build_model(run)
    draws = run["training"]["steps"] * run["training"]["batch_size"]
    loss, train_data = denoiser_training(spec, net, prior, data, draws)
    base = TrainConfig.from_dict({**run["training"], "log_every": 10**9, **({} if ema else {"ema_decay": 0.0})})
    gen = torch.Generator().manual_seed(0)

    def train(steps: int) -> None:
        with contextlib.redirect_stderr(io.StringIO()):  # fit's final progress line
            fit(net, loss, train_data, dataclasses.replace(base, steps=steps), Progress(name, steps), gen)

    return Variant(name, count_parameters(net), train)


def plain_variant(cfg: dict, size: str, data) -> Variant:
    """A plain PyTorch DDPM loop around the same diffusers UNet2DModel the pipeline's DDPM uses: batch draw,
    noise, scheduler.add_noise, unet(x_t, t, class_labels=y).sample, MSE, backward, clip, Adam (foreach, as
    fit). No EMA, no LR schedule, no loss.item() divergence check, no DenoiserUNet wrapper."""
    run = image_run(cfg, "ddpm", size)
    spec, net, _ = build_model(run)
    unet = net.unet
    scheduler = make_training_scheduler(spec.num_train_timesteps, spec.beta_schedule, spec.target)
    tc = TrainConfig.from_dict(run["training"])
    x, y = data
    gen = torch.Generator().manual_seed(0)

    def train(steps: int) -> None:
        params = list(unet.parameters())
        opt = torch.optim.Adam(params, lr=tc.lr, foreach=True)
        unet.train()
        for _ in range(steps):
            idx = torch.randint(0, len(x), (tc.batch_size,), generator=gen)
            x0, yb = x[idx], y[idx]
            t = torch.randint(0, spec.num_train_timesteps, (len(x0),))
            noise = torch.randn_like(x0)
            loss = F.mse_loss(unet(scheduler.add_noise(x0, noise, t), t, class_labels=yb).sample, noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, tc.grad_clip)
            opt.step()

    return Variant("ddpm plain loop", count_parameters(unet), train)


def bench_training(cfg: dict, size: str, data, repeats: int, steps: int) -> tuple[list[list], float, float]:
    """Rows of one size and the median paired ratios (our DDPM step / plain loop step; wall, CPU). All variants
    are interleaved within each repeat (order reversed every other repeat) so background load hits them alike."""
    variants = [pipeline_variant(cfg, m, size, data, m) for m in MODELS]
    variants += [pipeline_variant(cfg, "ddpm", size, data, "ddpm no EMA", ema=False), plain_variant(cfg, size, data)]
    for v in variants:
        v.run(max(2, steps // 2))  # warm-up: allocator, first-call overheads
    wall: dict[str, list[float]] = {v.name: [] for v in variants}
    cpu: dict[str, list[float]] = {v.name: [] for v in variants}
    for r in range(repeats):
        for v in variants if r % 2 == 0 else variants[::-1]:
            w, c = timed_cpu(lambda: v.run(steps))
            wall[v.name].append(w / steps)
            cpu[v.name].append(c / steps)

    def vs_plain(times: dict[str, list[float]], name: str) -> float:
        return median([a / b for a, b in zip(times[name], times["ddpm plain loop"])])

    rows = []
    for v in variants:
        sec = median(wall[v.name])
        rows.append([size, v.name, v.params, 1 / sec, 1e3 * sec, vs_plain(wall, v.name), 1e3 * median(cpu[v.name]),
                     vs_plain(cpu, v.name)])
    return rows, max(vs_plain(wall, m) for m in MODELS), max(vs_plain(cpu, m) for m in MODELS)


def bench_sampling(cfg: dict, models: list[str], n: int, ks: list[int], repeats: int) -> list[list]:
    """Images/s of rpd.diffusion.sample at std size, as rpd.stages.sample_model_run calls it (untrained nets)."""
    batch = cfg["sample_batch_size"]
    rows = []
    for model in models:
        spec, net, prior = build_model(image_run(cfg, model, "std"))
        for sampler in SAMPLERS:
            for k in ks:
                def draw() -> None:
                    sample(spec, net, prior, n, SHAPE, sampler, k, seed=0, batch_size=batch, num_classes=NUM_CLASSES)

                wall_cpu = [timed_cpu(draw) for _ in range(repeats)]
                sec, cpu = median([w for w, _ in wall_cpu]), median([c for _, c in wall_cpu])
                rows.append([model, sampler, k, sec, n / sec, cpu, n / cpu, 1e3 * cpu / (n * k)])
    return rows


def bench_kid(n: int, feature_steps: int, subsets: int, repeats: int) -> list[list]:
    """Seconds of rpd.metrics.kid at N samples vs N reference images, and of its parts through torch-fidelity:
    feature extraction (its dataloader path, and the bare extractor forward) and the KID statistic alone."""
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torch_fidelity.utils import create_feature_extractor, get_featuresdict_from_dataset

    from rpd.metrics.kid import FEATURE_NET, UInt8Images, fidelity_kwargs, kid, save_feature_net, train_feature_net

    rng = np.random.default_rng(0)
    images = lambda m: rng.integers(0, 256, (m, *SHAPE), dtype=np.uint8)  # noqa: E731
    labels = lambda m: rng.integers(0, NUM_CLASSES, m).astype(np.int64)  # noqa: E731
    samples, reference = images(n), images(n)
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(io.StringIO()):
        t_train = timed(lambda: save_feature_net(
            Path(tmp) / "model.pt", *train_feature_net(images(2000), labels(2000), images(200), labels(200),
                                                       feature_steps, seed=0)))
        weights = str(Path(tmp) / "model.pt")
        kwargs = fidelity_kwargs("feature-net", weights, n, None, subsets, 0)
        extractor = create_feature_extractor(FEATURE_NET, ["features"], **kwargs)
        batch = kwargs["batch_size"]
        uint8 = torch.from_numpy(samples).expand(-1, 3, -1, -1)

        def bare_forward() -> None:
            with torch.no_grad():
                for s in range(0, n, batch):
                    extractor(uint8[s: s + batch])

        def fidelity_extract() -> torch.Tensor:
            return get_featuresdict_from_dataset(UInt8Images(samples), extractor, batch, False, True, False)["features"]

        f1, f2 = fidelity_extract(), get_featuresdict_from_dataset(UInt8Images(reference), extractor, batch, False,
                                                                   True, False)["features"]
        parts = {
            f"kid(): {n} samples vs {n} reference, subset {kwargs['kid_subset_size']}, {subsets} subsets":
                lambda: kid(samples, reference, "feature-net", weights, None, subsets, 0),
            f"  feature extraction, torch-fidelity dataloader path, {n} images": fidelity_extract,
            f"  feature extraction, bare FeatureNetExtractor forward, {n} images": bare_forward,
            f"  KID statistic from features ({subsets} subsets)": lambda: kid_features_to_metric(f1, f2, **kwargs),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in parts}
        for _ in range(repeats):
            for name, fn in parts.items():
                times[name].append(timed_cpu(fn))
    rows = [[f"train_feature_net, {feature_steps} steps (batch 128) + save", t_train, "", ""]]
    for name, wall_cpu in times.items():
        wall, cpu = median([w for w, _ in wall_cpu]), median([c for _, c in wall_cpu])
        rows.append([name, wall, cpu, n / cpu if "extraction" in name else ""])
    return rows


def memory_rows(root: Path) -> list[list]:
    """One row per Snakemake benchmark file under ``root``: job, wall seconds, max RSS (MB), CPU seconds."""
    rows = []
    for path in sorted(root.rglob("*.benchmark.tsv")):
        with path.open() as f:
            records = list(csv.DictReader(f, delimiter="\t"))
        for rec in records[-1:]:  # Snakemake appends one line per repeat; the last is the latest run
            rows.append([str(path.relative_to(root)).removesuffix(".benchmark.tsv"), float(rec["s"]),
                         float(rec["max_rss"]), float(rec.get("cpu_time") or "nan")])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", "--quick", action="store_true", dest="quick",
                        help="smoke run (seconds): tiny repeats, N and K")
    parser.add_argument("--repeats", type=int, help="timed training repeats per variant (default 8, quick 2)")
    parser.add_argument("--steps", type=int, help="training steps per repeat (default 5, quick 2)")
    parser.add_argument("--sample-repeats", type=int, default=1, help="timed repeats per sampling cell (default 1)")
    parser.add_argument("--n", type=int, help="images per sampling cell (default 200, quick 10)")
    parser.add_argument("--k", type=int, nargs="+", help="sampling K values (default 1 3 10 50, quick 1 3)")
    parser.add_argument("--models", nargs="+", default=["rpd", "ddpm"], help="models to sample (quick.yaml names)")
    parser.add_argument("--kid-n", type=int, help="KID images per side (default 500, quick 100)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"benchmark files' root (default {RESULTS})")
    args = parser.parse_args(argv)
    q = args.quick
    repeats, steps = args.repeats or (1 if q else 8), args.steps or (1 if q else 5)
    n, ks = args.n or (4 if q else 200), args.k or ([1] if q else [1, 3, 10, 50])
    kid_n = args.kid_n or (40 if q else 500)
    feature_steps, kid_subsets, kid_repeats = (1, 2, 1) if q else (50, 100, 3)

    torch.set_num_threads(1)
    cfg = load_quick()
    batch = cfg["image_training"]["batch_size"]
    header("bench_images: speed and memory of the image jobs (quick.yaml, fmnist-16)", [
        f"image_networks {cfg['image_networks']}, image_prior_sizes {cfg['image_prior_sizes']}",
        f"image_training {cfg['image_training']}",
        f"torch threads = {torch.get_num_threads()}; OMP/OPENBLAS/MKL_NUM_THREADS = "
        f"{os.environ['OMP_NUM_THREADS']}/{os.environ['OPENBLAS_NUM_THREADS']}/{os.environ['MKL_NUM_THREADS']} "
        "(as Snakemake sets them for a 1-thread job)",
        f"load average before the run: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
        "wall times are inflated by other jobs, CPU times (this process) much less",
        "data: synthetic random images in [−1, 1] with labels 0–9 (speed does not depend on content);",
        "  networks and priors untrained (built as rpd.stages builds them; priors frozen, eval)",
        "training: one step of rpd.training.fit as rpd.stages.train_model_run runs it = batch draw + training_loss",
        "  (prior posterior + decode for rpd/diffusevae) + backward + clip + Adam + cosine LR + EMA;",
        f"  median over {repeats} repeats of {steps} steps, all variants interleaved in each repeat",
        "'ddpm plain loop' = the same UNet2DModel in a hand loop (add_noise, unet(...).sample, MSE, backward,",
        "  clip, Adam foreach) WITHOUT EMA, LR schedule, loss.item() check or the DenoiserUNet wrapper;",
        "  'ddpm no EMA' = our fit with ema_decay = 0 (so ours − no EMA = EMA cost; no EMA − plain = the rest)",
        f"sampling: rpd.diffusion.sample at std size, N = {n}, K ∈ {ks}, sampler ∈ {list(SAMPLERS)}",
        f"KID: rpd.metrics.kid with a feature net trained {feature_steps} steps on random uint8 images, N = {kid_n}",
        f"memory: Snakemake benchmark files under {args.results}",
        f"target: every family's step / plain loop step ≤ {PLAIN_TARGET} (paired, median) at each size",
    ])

    data = synthetic_images(256 if q else 4096, 0)
    rows, ratios = [], {}
    for size in SIZES:
        size_rows, *ratios[size] = bench_training(cfg, size, data, repeats, steps)
        rows += size_rows
    print(f"training (batch {batch}; wall steps/s, ms/step; CPU ms/step of this process)")
    table(["size", "variant", "params", "steps/s", "ms/step", "time/plain", "CPU ms/step", "CPU/plain"], rows)
    for size in SIZES:
        wall_ratio, cpu_ratio = ratios[size]
        ok = "OK" if wall_ratio <= PLAIN_TARGET else "MISSED"
        print(f"[{size}] slowest family's step / plain loop step (median of {repeats} paired repeats): "
              f"wall {wall_ratio:.3f} "
              f"(target ≤ {PLAIN_TARGET}) -> {ok}; CPU time {cpu_ratio:.3f}")
    print(flush=True)

    print(f"sampling at std size (N = {n}, sample_batch_size {cfg['sample_batch_size']}, "
          f"median of {args.sample_repeats} repeat(s); CPU = this process's CPU seconds)")
    table(["model", "sampler", "K", "wall s", "images/s", "CPU s", "images/CPU s", "CPU ms per image·step"],
          bench_sampling(cfg, args.models, n, ks, args.sample_repeats))

    print(f"KID (median of {kid_repeats} repeat(s))", flush=True)
    table(["what", "wall s", "CPU s", "images/CPU s"], bench_kid(kid_n, feature_steps, kid_subsets, kid_repeats))

    mem = memory_rows(args.results) if args.results.is_dir() else []
    if mem:
        print(f"peak memory and wall time of each image job ({args.results}, Snakemake benchmark files)")
        table(["job", "wall s", "max_rss MB", "cpu s"], mem)
        kinds = sorted({r[0].rsplit("/", 1)[-1] for r in mem})
        table(["job kind", "jobs", "max wall s", "max max_rss MB"],
              [[k, len(rs), max(r[1] for r in rs), max(r[2] for r in rs)]
               for k in kinds for rs in [[r for r in mem if r[0].rsplit("/", 1)[-1] == k]]])
    else:
        print(f"no Snakemake benchmark files under {args.results}: run the quick suite first "
              "(`snakemake --cores all`, quick is the default config), then rerun this script")


if __name__ == "__main__":
    main()
