"""Training snapshots (E4, claim C4): EMA weights kept at a few iterations, the last being the final model, and the
same snapshots after a kill-and-resume as in a straight run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from rpd.training import Checkpoint, Progress, Snapshots, TrainConfig, fit, snapshot_steps

STEPS = 40


def _train(tmp: Path, stop_after: int | None = None) -> tuple[nn.Module, Snapshots]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 16), nn.SiLU(), nn.Linear(16, 2))
    data = torch.randn(256, 2, generator=torch.Generator().manual_seed(1))
    cfg = TrainConfig(steps=STEPS, batch_size=32, lr=1e-2, ema_decay=0.9, warmup=2, log_every=10)
    snapshots = Snapshots(snapshot_steps(STEPS, 4))
    calls = {"n": 0}

    def loss(batch: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        if stop_after is not None and calls["n"] > stop_after:
            raise KeyboardInterrupt  # the job is killed
        return ((net(batch) - batch.flip(1)) ** 2).mean()

    fit(net, loss, data, cfg, Progress("t", STEPS), torch.Generator().manual_seed(2),
        checkpoint=Checkpoint(tmp / "checkpoint.pt", 10, "f"), snapshots=snapshots)
    return net, snapshots


def test_snapshot_steps_are_evenly_spaced_and_end_at_the_last_step() -> None:
    assert snapshot_steps(1200, 6) == (200, 400, 600, 800, 1000, 1200)
    assert snapshot_steps(5, 10) == (1, 2, 3, 4, 5)  # never a step 0, never a repeat
    with pytest.raises(ValueError, match="count=0"):
        snapshot_steps(10, 0)


def test_snapshots_hold_ema_weights_the_last_is_the_final_model(tmp_path: Path) -> None:
    net, snapshots = _train(tmp_path)
    assert sorted(snapshots.states) == [10, 20, 30, 40]
    final = net.state_dict()
    for k, v in snapshots.states[40].items():
        torch.testing.assert_close(v, final[k], rtol=0, atol=0)
    # earlier snapshots differ from the final weights (they are taken during training, not copies of the end)
    assert not torch.equal(snapshots.states[10]["0.weight"], final["0.weight"])


def test_resumed_training_keeps_the_snapshots_taken_before_the_kill(tmp_path: Path) -> None:
    _, straight = _train(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "b", stop_after=25)  # killed after the checkpoint at step 20
    _, resumed = _train(tmp_path / "b")
    assert sorted(resumed.states) == sorted(straight.states)
    for step in straight.states:
        for k, v in straight.states[step].items():
            torch.testing.assert_close(resumed.states[step][k], v, rtol=0, atol=0)
