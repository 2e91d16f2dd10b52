"""Fashion-MNIST from idx files (SPEC §3): a configured folder, Debian's dataset-fashion-mnist, or a download.

The reader checks each file's magic number and length against its header, so a truncated or foreign file
is reported by name instead of turning into wrong pixels.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from rpd.data.errors import CorruptDataError, MissingDataError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_DIR = Path(os.environ.get("RPD_DATA_CACHE", Path.home() / ".cache" / "rpd-bench")) / "fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60000, "test": 10000}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
_MAGIC = {1: 0x0801, 3: 0x0803}  # idx: unsigned bytes, 1 (labels) or 3 (images) dimensions
HOW_TO_PROVIDE = (
    "Provide one of: (1) `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files in "
    f"{DEBIAN_DIR}); (2) the four files {sorted(n + '.gz' for pair in FILES.values() for n in pair)} in a "
    "folder, set as `folder:` of the dataset in the suite file; (3) network access, so that torchvision "
    f"can download them into {DOWNLOAD_DIR}."
)


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """An idx file (optionally gzipped) of unsigned bytes with ``ndim`` dimensions, checked against its header."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise CorruptDataError(f"{path}: cannot read ({err}); delete it and provide a fresh copy") from None
    if len(raw) < 4 + 4 * ndim:
        raise CorruptDataError(f"{path}: {len(raw)} bytes is shorter than an idx header")
    magic = int.from_bytes(raw[:4], "big")
    if magic != _MAGIC[ndim]:
        raise CorruptDataError(f"{path}: magic number {magic:#06x}, expected {_MAGIC[ndim]:#06x} "
                               f"(an idx file of {ndim}-D unsigned bytes); is it the right file?")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(dims)):
        raise CorruptDataError(f"{path}: header says {dims} = {int(np.prod(dims))} bytes, file holds {len(body)}; "
                               "the file is truncated or corrupt — provide a fresh copy")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _files_in(folder: Path, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) files of a split in ``folder``, gzipped or not, if both are there."""
    found = []
    for name in FILES[split]:
        candidates = [folder / f"{name}.gz", folder / name]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            return None
        found.append(hit)
    return found[0], found[1]


def _download(split: str) -> tuple[Path, Path]:
    """torchvision's download (needs network access) into :data:`DOWNLOAD_DIR`."""
    from torchvision.datasets import FashionMNIST

    FashionMNIST(str(DOWNLOAD_DIR), train=split == "train", download=True)
    files = _files_in(DOWNLOAD_DIR / "FashionMNIST" / "raw", split)
    if files is None:
        raise FileNotFoundError(f"download finished but no idx files in {DOWNLOAD_DIR}")
    return files


def local_sources(folder: str | None = None) -> list[tuple[str, Path]]:
    """The places Fashion-MNIST may already be on this machine, in the order they are tried."""
    configured = [("configured folder", Path(folder))] if folder else []
    return configured + [("Debian package", DEBIAN_DIR), ("earlier download", DOWNLOAD_DIR / "FashionMNIST" / "raw")]


def find_local_fmnist(split: str, folder: str | None = None) -> tuple[tuple[Path, Path] | None, list[str]]:
    """The idx files of ``split`` from a local source (no network), and a line per source tried without luck."""
    tried = []
    for label, where in local_sources(folder):
        files = _files_in(where, split)
        if files is not None:
            return files, tried
        tried.append(f"{label} {where}: no {FILES[split][0]}(.gz) / {FILES[split][1]}(.gz)")
    return None, tried


def locate_fmnist(split: str, folder: str | None = None) -> tuple[Path, Path]:
    """The idx files of ``split`` ('train' or 'test'): the configured folder, Debian's package, then a download."""
    files, tried = find_local_fmnist(split, folder)
    if files is not None:
        return files
    try:
        return _download(split)
    except Exception as err:  # any failure of the download is reported with the other sources
        tried.append(f"torchvision download: {type(err).__name__}: {err}")
    raise MissingDataError("Fashion-MNIST not found. Tried:\n  - " + "\n  - ".join(tried) + "\n" + HOW_TO_PROVIDE)


def load_fmnist(split: str, folder: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 N×28×28, labels int64 N) of a split, with the split's known size checked."""
    images_path, labels_path = locate_fmnist(split, folder)
    images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
    if len(images) != len(labels) or len(images) != SPLIT_SIZES[split]:
        raise CorruptDataError(f"{images_path} holds {len(images)} images and {labels_path} {len(labels)} labels; "
                               f"the {split} split has {SPLIT_SIZES[split]}")
    if images.shape[1:] != (28, 28) or labels.max() >= len(CLASSES):
        raise CorruptDataError(f"{images_path}: images {images.shape[1:]}, labels up to {labels.max()}; "
                               "expected 28×28 images with labels 0–9")
    return images, labels.astype(np.int64)
