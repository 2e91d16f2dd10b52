"""Which device a job computes on: the config's ``device`` (auto | cpu | cuda) and, locally, which GPU.

Rules (README, "Running on a cluster"):
- ``cpu``: the CPU. ``auto``: CUDA when torch finds a GPU, else the CPU. ``cuda``: a GPU or a clear error.
- Under Slurm (``SLURM_JOB_ID`` set) the job was given its own GPUs, which Slurm exposes through
  ``CUDA_VISIBLE_DEVICES`` (numbered from 0 inside the job), so the job takes ``cuda:0``.
- Elsewhere (a workstation with several GPUs, jobs started by one Snakemake) each job takes the first GPU
  whose lock file it can lock exclusively (``flock``), and waits while every GPU is taken. The operating
  system drops the lock when the process ends, even on SIGKILL, so a killed job never leaves a GPU claimed.
  Lock files are named by the physical GPU (the ``CUDA_VISIBLE_DEVICES`` entry when it is set), in
  ``$RPD_GPU_LOCK_DIR`` or ``<tmp>/rpd-bench-gpu-locks``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")
# fp32, or bf16 autocast of the network's forward pass (training and sampling; optimiser state, EMA, the
# scheduler's update and the losses stay float32). bf16 has float32's range, so no loss scaling is needed.
PRECISION_CHOICES = ("fp32", "bf16")

# Lock files held by this process, by path: kept open (and so locked) until the process exits.
_HELD: dict[str, int] = {}


class DeviceError(RuntimeError):
    """The requested device cannot be had; the message says what to change."""


def lock_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("RPD_GPU_LOCK_DIR") or Path(tempfile.gettempdir()) / "rpd-bench-gpu-locks")


def gpu_names(count: int, env: Mapping[str, str] = os.environ) -> list[str]:
    """Physical names of the visible GPUs: the CUDA_VISIBLE_DEVICES entries when set, else 0..count-1."""
    visible = [v.strip() for v in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    return visible[:count] if visible else [str(i) for i in range(count)]


def _try_lock(path: Path) -> bool:
    if str(path) in _HELD:
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a user who looks
    _HELD[str(path)] = fd
    return True


def claim_gpu(count: int, env: Mapping[str, str] = os.environ, poll_seconds: float = 5.0,
              timeout: float | None = None) -> int:
    """Index (among the visible GPUs) of a GPU no other rpd job on this machine holds; waits until one is free."""
    paths = [lock_dir(env) / f"gpu-{name.replace('/', '_')}.lock" for name in gpu_names(count, env)]
    start = time.monotonic()
    told = False
    while True:
        for index, path in enumerate(paths):
            if _try_lock(path):
                return index
        if timeout is not None and time.monotonic() - start >= timeout:
            raise DeviceError(f"all {count} GPU(s) stayed taken for {timeout:.0f}s (lock files in {paths[0].parent})")
        if not told:
            print(f"all {count} GPU(s) are taken by other jobs; waiting for one (lock files in {paths[0].parent}). "
                  "Pass --resources gpu=<number of GPUs> to Snakemake to avoid waiting jobs.", file=sys.stderr,
                  flush=True)
            told = True
        time.sleep(poll_seconds)


def select_device(requested: str, env: Mapping[str, str] = os.environ) -> torch.device:
    """The device this job computes on (see the module docstring for the rules)."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"config key 'device': {requested!r} is not allowed; allowed values: {list(DEVICE_CHOICES)}")
    if requested == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if requested == "cuda":
            raise DeviceError(
                "config key 'device' is 'cuda' but torch finds no GPU (torch.cuda.is_available() is False; "
                f"torch built for CUDA {torch.version.cuda}); run on a GPU node (the slurm profile requests one "
                "per training job when device is cuda) or set device: auto"
            )
        return torch.device("cpu")
    index = 0 if "SLURM_JOB_ID" in env else claim_gpu(torch.cuda.device_count(), env)
    # The default CUDA device too: libraries that take only "cuda" (torch-fidelity) then use this GPU.
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def describe(device: torch.device) -> str:
    """What the ``device`` column of the metrics reports: ``cpu`` or ``cuda:<i> (<GPU name>)``."""
    if device.type != "cuda":
        return device.type
    return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"


def autocast(device: torch.device | str, precision: str) -> contextlib.AbstractContextManager:
    """The context a network's forward pass runs in: bf16 autocast on ``device`` for ``bf16``, else a no-op.

    The same call on every device (``torch.autocast`` supports bf16 on the CPU and on CUDA), so a CPU test
    covers the code path a GPU job takes.
    """
    if precision not in PRECISION_CHOICES:
        raise DeviceError(f"config key 'precision': {precision!r} is not allowed; allowed values: "
                          f"{list(PRECISION_CHOICES)}")
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16")


def precision_of(run: Mapping) -> str:
    """A run config's ``precision``: absent means fp32 (the key is written only when it is not fp32, so that
    fp32 runs keep the config hashes, and so the trained models, they had before the option existed)."""
    return run.get("precision", "fp32")
