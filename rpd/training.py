"""One training loop for priors and denoisers: Adam, cosine learning rate, EMA, progress and divergence checks."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from diffusers.optimization import get_cosine_schedule_with_warmup
from diffusers.training_utils import EMAModel
from torch import nn


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

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Progress:
    """Prints one line per ``log_every`` steps to stderr (teed into the job log), so a user can follow a job."""

    label: str
    total: int
    start: float = field(default_factory=time.perf_counter)

    def __call__(self, step: int, loss: float) -> None:
        elapsed = time.perf_counter() - self.start
        rate = step / max(elapsed, 1e-9)
        eta = (self.total - step) / max(rate, 1e-9)
        line = f"[{self.label}] step {step}/{self.total} loss {loss:.4f} ({rate:.0f} it/s, eta {eta:.0f}s)"
        print(line, file=sys.stderr, flush=True)


def fit(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    data: torch.Tensor | tuple[torch.Tensor, ...],
    cfg: TrainConfig,
    progress: Progress,
    generator: torch.Generator,
    every_100: Callable[[torch.Tensor], None] | None = None,
) -> list[tuple[int, float]]:
    """Train ``module`` on minibatches of ``data`` drawn with ``generator``; returns the (step, mean loss) history.

    ``data`` is a tensor, or a tuple of tensors indexed together (images and their labels); ``loss_fn``
    receives the batch in the same form.

    With EMA on, the EMA weights are copied into ``module`` at the end (they are what gets sampled).
    ``every_100`` is called with the current batch every 100 steps (e.g. to restart dead VQ codes).
    """
    params = [p for p in module.parameters() if p.requires_grad]
    # foreach: one fused kernel per op over all tensors; PyTorch's CPU default is a Python loop per tensor.
    optimizer = torch.optim.Adam(params, lr=cfg.lr, foreach=True)
    lr_schedule = get_cosine_schedule_with_warmup(optimizer, min(cfg.warmup, cfg.steps // 10), cfg.steps)
    ema = (
        EMAModel(params, decay=cfg.ema_decay, use_ema_warmup=True, power=2 / 3, foreach=True) if cfg.ema_decay > 0 else None
    )
    history: list[tuple[int, float]] = []
    window: list[float] = []
    module.train()
    for step in range(1, cfg.steps + 1):
        idx = torch.randint(0, len(data[0]) if isinstance(data, tuple) else len(data), (cfg.batch_size,),
                            generator=generator)
        batch = tuple(d[idx] for d in data) if isinstance(data, tuple) else data[idx]
        loss = loss_fn(batch)
        value = loss.item()
        if not math.isfinite(value):
            tail = ", ".join(f"{s}: {v:.4g}" for s, v in history[-5:])
            raise TrainingDivergedError(
                f"[{progress.label}] loss became {value} at step {step} (recent mean losses {tail or 'none'}); "
                f"lower training.lr (now {cfg.lr}) or check the data for non-finite values"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        lr_schedule.step()
        if ema is not None:
            ema.step(params)
        if every_100 is not None and step % 100 == 0:
            every_100(batch)
        window.append(value)
        if step % cfg.log_every == 0 or step == cfg.steps:
            history.append((step, sum(window) / len(window)))
            window.clear()
            progress(step, history[-1][1])
    if ema is not None:
        ema.copy_to(params)
    if not all(torch.isfinite(p).all() for p in params):
        raise TrainingDivergedError(f"[{progress.label}] weights are non-finite after training; lower training.lr")
    module.eval()
    return history
