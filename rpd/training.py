"""One training loop for priors and denoisers: Adam, cosine learning rate, EMA, progress and divergence checks.

The loop checkpoints its whole state (weights, optimiser, learning-rate schedule, EMA, step, loss history and
every random number generator it draws from) so that a killed job resumes and ends with the very same
weights as one that ran straight through (on the CPU; GPU kernels are not bit-reproducible anyway).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers.optimization import get_cosine_schedule_with_warmup
from torch import nn

from rpd.devices import autocast
from rpd.io import write_atomic


class TrainingDivergedError(RuntimeError):
    """The loss or the weights became non-finite."""


@dataclass
class TrainConfig:
    steps: int
    batch_size: int
    lr: float
    ema_decay: float = 0.0  # 0 disables EMA
    warmup: int = 100
    grad_clip: float = 1.0
    log_every: int = 100
    checkpoint_every: int = 500  # 0 disables checkpoints
    source: str = "training"  # the suite config key these settings came from (named in error messages)

    @classmethod
    def from_dict(cls, d: dict, source: str = "training") -> TrainConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "source"}, source=source)


@dataclass
class Progress:
    """Prints one line per ``log_every`` steps to stderr (teed into the job log), so a user can follow a job."""

    label: str
    total: int
    start: float = field(default_factory=time.perf_counter)
    first_step: int = 0  # steps done before this process started (a resumed run)
    earlier_seconds: float = 0.0  # training seconds of the processes that trained before this one (a resumed run)

    def seconds(self) -> float:
        """Training seconds of every process so far: the earlier ones' (from the checkpoint) plus this one's."""
        return self.earlier_seconds + time.perf_counter() - self.start

    def __call__(self, step: int, loss: float) -> None:
        elapsed = time.perf_counter() - self.start
        rate = (step - self.first_step) / max(elapsed, 1e-9)
        eta = (self.total - step) / max(rate, 1e-9)
        line = f"[{self.label}] step {step}/{self.total} loss {loss:.4f} ({rate:.0f} it/s, eta {eta:.0f}s)"
        print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Checkpoint:
    """Where :func:`fit` keeps its resumable state, how often it writes it, and which run it belongs to.

    ``fingerprint`` identifies the run's config: a checkpoint written under another config (the file is not
    a Snakemake output, so it survives a config change) is ignored with a message, never resumed.
    """

    path: Path
    every: int
    fingerprint: str

    def load(self, label: str) -> dict | None:
        """The saved state, or None when there is none or it belongs to another config."""
        if self.every <= 0 or not self.path.exists():
            return None
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if state.get("fingerprint") != self.fingerprint:
            print(f"[{label}] ignoring {self.path}: written for config {state.get('fingerprint')}, this run is "
                  f"{self.fingerprint}; training from step 0", file=sys.stderr, flush=True)
            return None
        return state

    def save(self, state: dict) -> None:
        write_atomic(self.path, lambda p: torch.save({**state, "fingerprint": self.fingerprint}, p))

    def discard(self) -> None:
        """Remove the checkpoint (call once the finished model is on disk): :func:`discard_checkpoint`."""
        discard_checkpoint(self.path)


def discard_checkpoint(path: Path) -> None:
    """Remove a checkpoint file, and its folder once empty (a run set's ``checkpoints/``, rpd.layout)."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: other seeds' checkpoints, or not ours to remove
        path.parent.rmdir()


@dataclass
class Snapshots:
    """EMA weights taken during training at ``steps`` (E4 evaluates the metric against iteration from them).

    ``states`` maps a step to the module's state dict with the EMA weights in place (the weights that get
    sampled); they travel in the resumable checkpoint, so a resumed run keeps the snapshots taken before.
    """

    steps: tuple[int, ...]
    states: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)

    def take(self, step: int, module: nn.Module, params: list[nn.Parameter], ema) -> None:
        if ema is not None:
            ema.store(params)
            ema.copy_to(params)
        self.states[step] = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        if ema is not None:
            ema.restore(params)


def snapshot_steps(total: int, count: int) -> tuple[int, ...]:
    """``count`` evenly spaced steps ending at ``total`` (the last one is the final model)."""
    if count < 1:
        raise ValueError(f"count={count}; allowed: >= 1")
    return tuple(sorted({max(1, round(total * k / count)) for k in range(1, count + 1)}))


def _rng_state(generator: torch.Generator, device: torch.device) -> dict:
    """Every generator a training step draws from: the batch generator, torch's global CPU and CUDA ones."""
    state = {"batch": generator.get_state(), "torch_cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["torch_cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, generator: torch.Generator) -> None:
    generator.set_state(state["batch"])
    torch.set_rng_state(state["torch_cpu"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["torch_cuda"])


def fit(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    data: torch.Tensor | tuple[torch.Tensor, ...],
    cfg: TrainConfig,
    progress: Progress,
    generator: torch.Generator,
    every_100: Callable[[torch.Tensor, int], None] | None = None,
    checkpoint: Checkpoint | None = None,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    snapshots: Snapshots | None = None,
) -> list[tuple[int, float]]:
    """Train ``module`` on minibatches of ``data`` drawn with ``generator``; returns the (step, mean loss) history.

    ``data`` is a tensor, or a tuple of tensors indexed together (images and their labels); ``loss_fn``
    receives the batch in the same form.

    With EMA on, the EMA weights are copied into ``module`` at the end (they are what gets sampled).
    With ``snapshots``, the EMA weights are also kept at each of ``snapshots.steps`` (:class:`Snapshots`).
    ``every_100(batch, step)`` is called every 100 steps (e.g. to restart dead VQ codes). With ``checkpoint``,
    the state is saved every ``checkpoint.every`` steps and after the last, and training resumes from a matching
    saved state.
    The module is trained on ``device`` (batches are moved there; ``loss_fn`` must work on that device) and
    handed back on the CPU. ``precision="bf16"`` computes the loss under bf16 autocast
    (:func:`rpd.devices.autocast`); weights, gradients and optimiser state stay float32.
    """
    device = torch.device(device)
    module.to(device)
    params = [p for p in module.parameters() if p.requires_grad]
    # fused: one C++ kernel for the whole update; PyTorch's CPU default is a Python loop per tensor, and even
    # foreach=True spends more time in Python (per-parameter step counters) than in arithmetic at 2D sizes.
    optimizer = torch.optim.Adam(params, lr=cfg.lr, fused=True)
    lr_schedule = get_cosine_schedule_with_warmup(optimizer, min(cfg.warmup, cfg.steps // 10), cfg.steps)
    ema = None
    if cfg.ema_decay > 0:
        # imported here: diffusers.training_utils loads diffusers' UNet modules (a second of start-up for jobs
        # that import this module but train no EMA: priors, sampling, ELBO)
        from diffusers.training_utils import EMAModel

        ema = EMAModel(params, decay=cfg.ema_decay, use_ema_warmup=True, power=2 / 3, foreach=True)
    history: list[tuple[int, float]] = []
    window: list[float] = []
    first = 1
    saved = checkpoint.load(progress.label) if checkpoint is not None else None
    if saved is not None:
        module.load_state_dict(saved["module"])
        optimizer.load_state_dict(saved["optimizer"])
        lr_schedule.load_state_dict(saved["lr_schedule"])
        if ema is not None:
            ema.load_state_dict(saved["ema"])
            ema.to(device)
        history = [(int(s), float(v)) for s, v in saved["history"]]
        window = [float(v) for v in saved["window"]]
        _set_rng_state(saved["rng"], generator)
        if snapshots is not None:
            snapshots.states.update({int(k): v for k, v in saved.get("snapshots", {}).items()})
        first = int(saved["step"]) + 1
        progress.first_step = first - 1
        progress.earlier_seconds = float(saved.get("train_seconds", 0.0))
        print(f"[{progress.label}] resumed from {checkpoint.path} at step {first - 1}/{cfg.steps}",
              file=sys.stderr, flush=True)
    module.train()
    for step in range(first, cfg.steps + 1):
        idx = torch.randint(0, len(data[0]) if isinstance(data, tuple) else len(data), (cfg.batch_size,),
                            generator=generator)
        batch = tuple(d[idx].to(device) for d in data) if isinstance(data, tuple) else data[idx].to(device)
        with autocast(device, precision):
            loss = loss_fn(batch).float()
        value = loss.item()
        if not math.isfinite(value):
            # the last logged means, or (before the first log line) the raw losses of this window
            recent = (f"recent mean losses {', '.join(f'{s}: {v:.4g}' for s, v in history[-5:])}" if history
                      else f"losses of steps {first}–{step - 1}: {', '.join(f'{v:.4g}' for v in window[-5:]) or 'none'}")
            raise TrainingDivergedError(
                f"[{progress.label}] loss became {value} at step {step} ({recent}); "
                f"lower {cfg.source}.lr (now {cfg.lr}) or check the data for non-finite values"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        lr_schedule.step()
        if ema is not None:
            ema.step(params)
        if snapshots is not None and step in snapshots.steps:
            snapshots.take(step, module, params, ema)
        if every_100 is not None and step % 100 == 0:
            every_100(batch, step)
        window.append(value)
        if step % cfg.log_every == 0 or step == cfg.steps:
            history.append((step, sum(window) / len(window)))
            window.clear()
            progress(step, history[-1][1])
        # also after the last step: a run set's job keeps each finished seed's checkpoint until every seed is
        # trained, and a rerun of the killed job resumes a finished seed there, with no step left to run
        if checkpoint is not None and checkpoint.every > 0 and (step % checkpoint.every == 0 or step == cfg.steps):
            checkpoint.save({
                "snapshots": snapshots.states if snapshots is not None else {},
                "step": step, "module": module.state_dict(), "optimizer": optimizer.state_dict(),
                "lr_schedule": lr_schedule.state_dict(), "ema": ema.state_dict() if ema is not None else {},
                "history": [list(h) for h in history], "window": list(window), "rng": _rng_state(generator, device),
                "train_seconds": progress.seconds(),
            })
    if ema is not None:
        ema.copy_to(params)
    if not all(torch.isfinite(p).all() for p in params):
        raise TrainingDivergedError(f"[{progress.label}] weights are non-finite after training; lower {cfg.source}.lr")
    module.eval()
    module.to("cpu")
    return history
