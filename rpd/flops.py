"""What one network call costs: FLOPs counted on the run's own network, and seconds measured on this machine.

:func:`network_cost` builds a run's network as its jobs do (rpd.stages), counts the FLOPs of one forward pass
per data point with ``torch.utils.flop_counter.FlopCounterMode`` (matrix products and convolutions: what
dominates), and times a forward and a forward + backward pass at a probe batch on one CPU thread. The measured
FLOP/s of this CPU and the counted FLOPs then price any amount of work on this CPU, and the FLOPs price it on
the reference GPU (:data:`GPU`), whose rate is an assumption stated there, not a measurement.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from rpd.data.specs import data_shape, is_image_dataset, num_classes


@dataclass(frozen=True)
class Gpu:
    """The GPU the estimate is scaled to, and what a network achieves on it (assumptions, not measurements)."""

    name: str
    peak_tflops: float  # dense matmul peak at the precision used (TF32 for fp32 runs; bf16)
    utilisation: float  # share of the peak small diffusion UNets and MLPs reach (PyTorch eager, no compile)
    launch_seconds: float  # per network layer and pass: what a tiny network's step costs however few its FLOPs

    def seconds(self, flops: float, layers: int, passes: float) -> float:
        """Time for ``flops`` of work in ``passes`` passes through a network of ``layers`` layers."""
        return max(flops / (self.peak_tflops * 1e12 * self.utilisation), passes * layers * self.launch_seconds)


# An A100 (40 GB, SXM): 156 TFLOP/s TF32 and 312 bf16 dense peaks; eager PyTorch reaches about a quarter of it
# on UNets of this size and far less on 2D MLPs, whose steps are bound by kernel launches (~10 µs each).
GPU = {"fp32": Gpu("NVIDIA A100 40GB (TF32)", 156.0, 0.25, 10e-6),
       "bf16": Gpu("NVIDIA A100 40GB (bf16)", 312.0, 0.25, 10e-6)}
BACKWARD_FACTOR = 3.0  # forward + backward ≈ 3 forward passes (the backward pass computes two products per one)


@dataclass(frozen=True)
class NetworkCost:
    """One network: FLOPs of a forward pass per data point, layers, and this CPU's measured FLOP/s per thread."""

    forward_flops: float
    layers: int
    cpu_forward_flops_per_s: float
    cpu_train_flops_per_s: float

    def cpu_seconds(self, points: float, train: bool) -> float:
        """Thread-seconds on this CPU for ``points`` data points through the network (forward, or a training step)."""
        if train:
            return points * BACKWARD_FACTOR * self.forward_flops / self.cpu_train_flops_per_s
        return points * self.forward_flops / self.cpu_forward_flops_per_s

    def gpu_seconds(self, points: float, calls: float, train: bool, precision: str = "fp32") -> float:
        """Seconds on :data:`GPU` for ``points`` data points in ``calls`` network calls."""
        factor = BACKWARD_FACTOR if train else 1.0
        return GPU[precision].seconds(points * factor * self.forward_flops, self.layers, calls * factor)


def _probe_inputs(run: dict, batch: int) -> tuple:
    """Arguments of one network call of ``run`` at ``batch`` data points: (x_t, t, extra inputs, labels)."""
    from rpd.frames import num_extra_inputs

    dataset = run["dataset"]
    shape = data_shape(dataset)
    x = torch.randn(batch, *shape)
    t = torch.randint(0, run.get("T", 1000), (batch,))
    extra = [torch.randn(batch, *shape) for _ in range(num_extra_inputs(run["model"]["family"], run["model"]["aux"]))]
    labels = torch.arange(batch) % num_classes(dataset) if num_classes(dataset) else None
    return x, t, extra, labels


def _layers(module: nn.Module) -> int:
    return sum(1 for m in module.modules() if not list(m.children()))


def _median_seconds(fn, repeats: int = 2) -> float:
    fn()  # warm-up: first-call allocations and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _network_and_call(run: dict, batch: int):
    """The run's network (denoiser, or the prior for a prior run) and a call of it on ``batch`` data points."""
    from rpd.stages import build_denoiser, build_prior_for

    torch.manual_seed(0)
    if run["kind"] == "prior":
        prior = build_prior_for(run)
        x = torch.randn(batch, *data_shape(run["dataset"]))
        y = torch.arange(batch) % num_classes(run["dataset"]) if num_classes(run["dataset"]) else None
        return prior, lambda: prior.loss(x, y)[0]
    net = build_denoiser(run)
    args = _probe_inputs(run, batch)
    return net, lambda: net(*args)


@cache
def _measure(run_json: str) -> NetworkCost:
    import json

    run = json.loads(run_json)
    batch = 1 if is_image_dataset(run["dataset"]) else 1024  # an image UNet call is already seconds of work
    net, call = _network_and_call(run, batch)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        call()
    flops = counter.get_total_flops() / batch
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # per-thread rate: a job's threads multiply it
    try:
        with torch.no_grad():
            forward = _median_seconds(call)

        def step() -> None:
            net.zero_grad(set_to_none=True)
            call().square().mean().backward()

        train = _median_seconds(step, repeats=1)
    finally:
        torch.set_num_threads(previous)
    return NetworkCost(flops, _layers(net), flops * batch / forward, BACKWARD_FACTOR * flops * batch / train)


def network_cost(run: dict) -> NetworkCost:
    """The :class:`NetworkCost` of a run's network: a diffusion run's denoiser, a prior run's prior (measured
    once per distinct network per process)."""
    import json

    keys = ("kind", "dataset", "network", "model", "prior", "T")
    return _measure(json.dumps({k: run[k] for k in keys if k in run}, sort_keys=True))
