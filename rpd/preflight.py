"""Preflight: what a suite needs from outside the repository, checked before any job is submitted.

The Snakefile calls :func:`preflight_problems` after validating the config (also in a dry run), so a missing
data set, missing InceptionV3 weights or a placeholder left in a cluster profile stops the run at once with
one message, instead of failing jobs hours later on the cluster. Each problem names the config key or profile
file and the fix.

Online sources (torchvision's Fashion-MNIST download, the Hugging Face Butterflies download) count only when
their host answers now; ``RPD_OFFLINE=1`` treats the machine as offline (as do Hugging Face's own
``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE`` for its download). InceptionV3 weights must be on disk: every
evaluate job would otherwise download the same file at once, on compute nodes that are often offline.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from rpd.config import n_eval_of
from rpd.data.fmnist import FILES as FMNIST_FILES
from rpd.data.fmnist import HOW_TO_PROVIDE as HOW_TO_PROVIDE_FMNIST
from rpd.data.fmnist import find_local_fmnist
from rpd.data.imagefolder import BUTTERFLIES_HF, HOW_TO_PROVIDE_BUTTERFLIES, butterflies_shortfall, image_files
from rpd.runs import diffusion_runs

#: Where torchvision downloads Fashion-MNIST from, and the Hugging Face hub.
FMNIST_HOST = ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80)
HF_HOST = ("huggingface.co", 443)
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_FILE}"
#: A profile value still as shipped: `your_account`, `<account>`, `EDIT`, `CHANGEME`.
PLACEHOLDER = re.compile(r"^(your[_-]\w*|<[^>]*>|edit|edit_me|changeme|todo|xxx+)$", re.IGNORECASE)


class PreflightError(RuntimeError):
    """Something the suite needs is missing; the message lists every problem with its fix."""


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def reachable(host: str, port: int) -> bool:
    """Whether ``host`` accepts a connection now (False under ``RPD_OFFLINE=1``)."""
    return not _truthy("RPD_OFFLINE") and _connects(host, port)


@cache
def _connects(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _fmnist_problem(name: str, spec: dict) -> str | None:
    tried = []
    for split in FMNIST_FILES:
        files, missed = find_local_fmnist(split, spec.get("folder"))
        if files is None:
            tried = missed
            break
    else:
        return None
    if reachable(*FMNIST_HOST):
        return None  # the dataset job downloads it through torchvision
    lines = "\n      ".join(tried + [f"torchvision download: {FMNIST_HOST[0]} unreachable (offline)"])
    return (f"config key 'datasets.{name}' (Fashion-MNIST): not found on this machine. Tried:\n      {lines}\n"
            f"    Fix: {HOW_TO_PROVIDE_FMNIST}")


def _butterflies_problem(name: str, spec: dict, n_eval: int, generated_prefix: str) -> str | None:
    folder = spec.get("folder")
    key = f"config key 'datasets.{name}.folder'"
    if folder:
        if folder.startswith(generated_prefix):
            return None  # an image folder the workflow itself generates (ci)
        if not Path(folder).is_dir():
            return f"{key}: {Path(folder).resolve()} does not exist.\n    Fix: {HOW_TO_PROVIDE_BUTTERFLIES}"
        shortfall = butterflies_shortfall(len(image_files(folder)), n_eval)
        if shortfall:
            return (f"{key}: {Path(folder).resolve()}: {shortfall} (the reference images are held out from "
                    f"training).\n    Fix: add images to the folder, or lower 'datasets.{name}.n_eval'.")
        return None
    if importlib.util.find_spec("datasets") is None:
        why = "the `datasets` package is not installed"
    elif _truthy("HF_HUB_OFFLINE") or _truthy("HF_DATASETS_OFFLINE") or not reachable(*HF_HOST):
        why = f"{HF_HOST[0]} is unreachable (offline)"
    else:
        return None  # the dataset job downloads it from the Hugging Face hub
    return (f"{key}: null, so the images would come from the Hugging Face dataset {BUTTERFLIES_HF}, but {why}.\n"
            f"    Fix: {HOW_TO_PROVIDE_BUTTERFLIES}")


def _inception_problem(kid: dict, torch_home: Path) -> str | None:
    if kid["extractor"] != "inception-v3-compat" or kid["inception_weights"]:
        return None  # a configured file is checked by the config validation
    cached = torch_home / "hub" / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return None
    return (f"config key 'kid.inception_weights': null, and torch-fidelity's InceptionV3 weights are not in "
            f"{cached} (kid.extractor is inception-v3-compat; every evaluate job would download them).\n"
            f"    Fix: download {INCEPTION_URL} on a machine with network access and set 'kid.inception_weights' "
            f"to the file's path (or put it in {cached.parent}/), or set 'kid.extractor: feature-net' (offline; "
            "the workflow trains it).")


def _torch_home() -> Path:
    """torch.hub's cache folder, found as torch.hub.get_dir() finds it (without importing torch)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "torch"
    return Path(os.environ.get("TORCH_HOME", default))


def data_problems(cfg: dict, generated_prefix: str, done: Iterable[str] = ()) -> list[str]:
    """Problems with the data and weights the suite's jobs will read. ``done``: datasets already built
    (their train.npz and reference.npz exist), whose sources are no longer needed."""
    used = sorted({r.dataset for r in diffusion_runs(cfg)} - set(done))
    out = []
    for name in used:
        spec = cfg["datasets"][name]
        if spec["kind"] == "fmnist":
            out.append(_fmnist_problem(name, spec))
        elif spec["kind"] == "butterflies":
            out.append(_butterflies_problem(name, spec, n_eval_of(cfg, name), generated_prefix))
    if any(cfg["datasets"][d]["kind"] != "grid" for d in {r.dataset for r in diffusion_runs(cfg)}):
        out.append(_inception_problem(cfg["kid"], _torch_home()))
    return [p for p in out if p]


def profile_files(argv: list[str], environ: Mapping[str, str] = os.environ) -> list[Path]:
    """The profile files Snakemake read, from its command line (``--profile``, ``--workflow-profile``) or
    ``$SNAKEMAKE_PROFILE``; used only to name the file in a message."""
    from snakemake.cli import get_profile_dir  # Snakemake's own lookup (profile.yaml, config.yaml, ...)

    names = [environ["SNAKEMAKE_PROFILE"]] if environ.get("SNAKEMAKE_PROFILE") else []
    for i, arg in enumerate(argv):
        for flag in ("--profile", "--workflow-profile"):
            if arg == flag and i + 1 < len(argv):
                names.append(argv[i + 1])
            elif arg.startswith(flag + "="):
                names.append(arg.split("=", 1)[1])
    found = [get_profile_dir(n) for n in names if n and n != "none"]
    return [f[1] for f in found if f is not None]


def profile_problems(resources: Mapping[str, Mapping[str, object]], files: Iterable[Path] = ()) -> list[str]:
    """Placeholder values left in a profile. ``resources``: section (``default-resources``, or a rule name
    for ``set-resources``) → resource name → value, as Snakemake received them; ``files``: the profile files,
    to name the one holding a placeholder."""
    files = [Path(f) for f in files]
    out = []
    for section, values in resources.items():
        for key, value in values.items():
            text = str(value).strip().strip("'\"")
            if value is None or not PLACEHOLDER.match(text):
                continue
            where = next((str(f) for f in files if f.is_file() and text in f.read_text()),
                         "the profile or the command line (--default-resources, --set-resources)")
            entry = f"set-resources: {section}: {key}" if section != "default-resources" else f"{section}: {key}"
            out.append(f"{where}: '{entry}' is still the placeholder {text!r}.\n    Fix: replace it there with your "
                       "site's value (the comment beside it says how to find it).")
    return out


def check(problems: list[str]) -> None:
    """Raise one :class:`PreflightError` listing every problem (nothing when the list is empty)."""
    if problems:
        raise PreflightError(f"preflight: {len(problems)} problem(s), nothing was submitted:\n  - "
                             + "\n  - ".join(problems))
