"""Model files: weights plus the run config, saved atomically, with a digest, loaded with ``weights_only=True``.

A model file is a torch file holding ``{"format": FORMAT, "sha256": <hex>, "payload": <uint8 tensor>}``, where
``payload`` is the torch serialisation of ``{"state_dict", "run_config"}`` and ``sha256`` its digest. A
truncated, damaged or foreign file (or a pickle that would run code) is therefore rejected with
:class:`CorruptCheckpointError` instead of being loaded, and nothing is unpickled beyond tensors and
plain containers.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from rpd.io import write_atomic

FORMAT = "rpd-bench-model/1"


class CorruptCheckpointError(ValueError):
    """A model file is truncated, damaged, foreign or unsafe; the message names it and says to delete it."""


class MissingCheckpointError(FileNotFoundError):
    """A model file a job needs does not exist."""


def _serialise(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def save_payload(path: str | os.PathLike, payload: dict) -> None:
    """Save a dict of tensors and plain values (anything ``weights_only`` loading accepts) with its digest."""
    inner = _serialise(payload)
    outer = {
        "format": FORMAT,
        "sha256": hashlib.sha256(inner).hexdigest(),
        "payload": torch.frombuffer(bytearray(inner), dtype=torch.uint8),
    }
    # Serialised in memory first, so that a write error (e.g. a full disk) surfaces as an OSError.
    data = _serialise(outer)
    write_atomic(path, lambda p: p.write_bytes(data))


def _corrupt(path: Path, reason: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"model file {path} is not a valid rpd-bench model file: {reason}. It was not loaded. "
        f"Delete it and rerun the workflow, which retrains it."
    )


def load_payload(path: str | os.PathLike) -> dict:
    """Load and verify a file written by :func:`save_payload`; never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise MissingCheckpointError(
            f"model file {path} does not exist; rerun the workflow so that the job training it runs first"
        )
    try:
        outer = torch.load(path, map_location="cpu", weights_only=True)
    # Truncated zip (RuntimeError, OSError), empty file (EOFError), disallowed globals (UnpicklingError), ...
    except PermissionError:
        raise
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, ValueError, zipfile.BadZipFile,
            AttributeError, TypeError, IndexError, KeyError) as err:
        detail = str(err).strip().splitlines()[0].split(". ")[0][:160] if str(err).strip() else "no detail"
        raise _corrupt(path, f"torch cannot read it safely ({type(err).__name__}: {detail})") from err
    if not isinstance(outer, dict) or outer.get("format") != FORMAT:
        kind = f"a dict with keys {sorted(map(str, outer))[:8]}" if isinstance(outer, dict) else type(outer).__name__
        raise _corrupt(path, f"it holds {kind}, not the '{FORMAT}' format written by rpd-bench")
    payload = outer.get("payload")
    if not isinstance(payload, torch.Tensor) or payload.dtype != torch.uint8 or payload.dim() != 1:
        raise _corrupt(path, "its payload is missing or is not a byte tensor")
    inner = payload.numpy().tobytes()
    if hashlib.sha256(inner).hexdigest() != outer.get("sha256"):
        raise _corrupt(path, "its contents do not match the stored sha256 digest (damaged or edited)")
    return torch.load(io.BytesIO(inner), map_location="cpu", weights_only=True)


def save_model(path: str | os.PathLike, module: nn.Module, run_config: dict, provenance: dict | None = None) -> None:
    """Save ``module``'s state dict with the run config that built it and, for trained models, the
    ``provenance`` of its training (commit, versions, device: :func:`rpd.provenance.training_record`)."""
    extra = {} if provenance is None else {"provenance": dict(provenance)}
    save_payload(path, {"state_dict": module.state_dict(), "run_config": run_config, **extra})


def load_state(path: str | os.PathLike) -> dict:
    """Load a file written by :func:`save_model`: ``{"state_dict", "run_config"}`` (and ``provenance`` when
    recorded), digest verified."""
    state = load_payload(path)
    if not {"state_dict", "run_config"} <= set(state):
        raise _corrupt(Path(path), f"it holds {sorted(state)}, not a model's state_dict and run_config")
    return state
