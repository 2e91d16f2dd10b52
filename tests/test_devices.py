"""Device selection (rpd/devices.py), with torch.cuda mocked: there is no GPU on the test machines."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from rpd import devices
from rpd.devices import DeviceError, claim_gpu, gpu_names, select_device


@pytest.fixture
def gpus(monkeypatch, tmp_path):
    """Pretend torch sees ``n`` GPUs; lock files go to a fresh folder; no lock held by this process."""

    def set_count(n: int) -> dict:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "set_device", lambda index: None)
        return {"RPD_GPU_LOCK_DIR": str(tmp_path)}

    monkeypatch.setattr(devices, "_HELD", {})
    return set_count


def test_cpu_and_auto_without_gpu(gpus):
    env = gpus(0)
    assert select_device("cpu", env) == torch.device("cpu")
    assert select_device("auto", env) == torch.device("cpu")
    with pytest.raises(DeviceError, match="device' is 'cuda' but torch finds no GPU"):
        select_device("cuda", env)
    with pytest.raises(DeviceError, match="allowed values"):
        select_device("gpu", env)


def test_cpu_stays_cpu_even_with_gpus(gpus):
    assert select_device("cpu", gpus(2)) == torch.device("cpu")


def test_slurm_job_takes_its_own_gpu_without_locks(gpus, tmp_path):
    env = {**gpus(1), "SLURM_JOB_ID": "123", "CUDA_VISIBLE_DEVICES": "0"}
    assert select_device("auto", env) == torch.device("cuda", 0)
    assert select_device("cuda", env) == torch.device("cuda", 0)
    assert not list(tmp_path.iterdir()), "Slurm jobs must not lock (Slurm isolates GPUs per job)"


def test_local_jobs_take_different_gpus(gpus, tmp_path):
    env = gpus(2)
    assert select_device("cuda", env) == torch.device("cuda", 0)
    assert select_device("cuda", env) == torch.device("cuda", 0)  # the same process keeps its GPU
    # Another process (another Snakemake job) now gets the second GPU, and waits while both are taken.
    script = textwrap.dedent(f"""
        import torch
        from rpd import devices
        torch.cuda.is_available = lambda: True
        torch.cuda.device_count = lambda: 2
        torch.cuda.set_device = lambda index: None
        env = {{"RPD_GPU_LOCK_DIR": {str(tmp_path)!r}}}
        print(devices.select_device("cuda", env))
        try:
            devices.claim_gpu(1, env, poll_seconds=0.05, timeout=0.2)  # a third job: GPU 0 is still taken
        except devices.DeviceError as err:
            print("waited:", err)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "cuda:1"
    assert "stayed taken" in out.stdout and "waiting for one" in out.stderr


def test_lock_is_released_when_the_holder_dies(gpus, tmp_path):
    env = gpus(1)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from rpd import devices
            devices.claim_gpu(1, {{"RPD_GPU_LOCK_DIR": {str(tmp_path)!r}}})
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DeviceError):
            claim_gpu(1, env, poll_seconds=0.05, timeout=0.2)
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait()
    assert claim_gpu(1, env, poll_seconds=0.05, timeout=5) == 0


def test_locks_name_physical_gpus(gpus):
    assert gpu_names(2, {"CUDA_VISIBLE_DEVICES": "2,3"}) == ["2", "3"]
    assert gpu_names(2, {}) == ["0", "1"]
    env = {**gpus(2), "CUDA_VISIBLE_DEVICES": "5,7"}
    assert select_device("auto", env) == torch.device("cuda", 0)
    assert sorted(p.name for p in devices.lock_dir(env).iterdir()) == ["gpu-5.lock"]


def test_describe_reports_what_was_used(monkeypatch):
    assert devices.describe(torch.device("cpu")) == "cpu"
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d: "NVIDIA A100")
    assert devices.describe(torch.device("cuda", 1)) == "cuda:1 (NVIDIA A100)"
