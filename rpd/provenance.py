"""Provenance columns carried by every result row: commit, config hash, package versions, device.

Commit, versions and device are recorded when a model is trained (:func:`training_record`, written into
``train_summary.json`` and ``model.pt``) and copied into the rows that score it (:func:`training_provenance`),
so a row names the code that trained the model, not the code that evaluated it.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("torch", "diffusers", "pot", "numpy", "rpd-bench")


def git_commit() -> str:
    """HEAD of the checkout, with ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def package_versions() -> str:
    """``name=version`` pairs of the packages that determine the numbers, ``;``-separated."""
    out = [f"python={platform.python_version()}"]
    for name in PACKAGES:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=missing")
    return ";".join(out)


def training_record(device: str) -> dict[str, str]:
    """What a training job records about itself: commit, package versions and the device it trained on."""
    return {"commit": git_commit(), "versions": package_versions(), "device": device}


def training_provenance(summary: dict) -> dict[str, str]:
    """The provenance columns of a trained run's rows, from its ``train_summary.json``; a summary written before
    training recorded them falls back to the current commit and versions (and the CPU)."""
    return {"commit": summary.get("commit") or git_commit(), "versions": summary.get("versions") or package_versions(),
            "device": summary.get("device", "cpu")}
