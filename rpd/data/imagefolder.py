"""Image folders (Butterflies, SPEC §3): every readable image, centre-cropped to a square, area-resized."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from rpd.data.errors import CorruptDataError, MissingDataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
BUTTERFLIES_HF = "huggan/smithsonian_butterflies_subset"
HOW_TO_PROVIDE_BUTTERFLIES = (
    "Provide one of: (1) a folder of the images (e.g. exported from the Hugging Face dataset "
    f"{BUTTERFLIES_HF}: `datasets.load_dataset('{BUTTERFLIES_HF}', split='train')`, then save each "
    "row's `image`), set as `folder:` of the dataset in the suite file; (2) network access and "
    "`pip install datasets`, so the pipeline downloads it."
)


def butterflies_shortfall(count: int, n_eval: int) -> str | None:
    """Why ``count`` images cannot give a held-out reference set of N = ``n_eval`` and a training set at least
    as large (the two are disjoint, SPEC §3), or None when they can."""
    if count >= 2 * n_eval:
        return None
    return (f"{count} images cannot hold a reference set of N = {n_eval} held out from a training set at least as "
            f"large (needs {2 * n_eval}); lower n_eval to at most {count // 2}, or add images")


def to_square(image: Image.Image, resolution: int) -> np.ndarray:
    """RGB, centre-cropped to a square, resized by area averaging (PIL's BOX filter); uint8 3×H×W."""
    image = image.convert("RGB")
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The image files in ``folder`` (recursively), sorted so the order does not depend on the file system."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def load_image_folder(folder: str | os.PathLike, resolution: int) -> np.ndarray:
    """Every image of ``folder`` as uint8 N×3×H×W; an unreadable file is an error naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingDataError(f"image folder {folder} does not exist. {HOW_TO_PROVIDE_BUTTERFLIES}")
    files = image_files(folder)
    if not files:
        raise MissingDataError(f"image folder {folder} holds no images (suffixes {IMAGE_SUFFIXES}). "
                               f"{HOW_TO_PROVIDE_BUTTERFLIES}")
    out = []
    for path in files:
        try:
            with Image.open(path) as image:
                out.append(to_square(image, resolution))
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise CorruptDataError(f"{path}: not a readable image ({err}); remove or replace it") from None
    return np.stack(out)


def _download_butterflies(resolution: int) -> np.ndarray:
    import datasets  # optional: only for the online source

    rows = datasets.load_dataset(BUTTERFLIES_HF, split="train")
    return np.stack([to_square(row["image"], resolution) for row in rows])


def load_butterflies(folder: str | None, resolution: int) -> np.ndarray:
    """The Butterflies images from the configured folder, else the Hugging Face download (online only)."""
    if folder:
        return load_image_folder(folder, resolution)
    try:
        return _download_butterflies(resolution)
    except Exception as err:  # ImportError (no `datasets`) or any network failure
        raise MissingDataError(f"Butterflies not found. Tried:\n  - no `folder:` configured\n  - Hugging Face "
                               f"download: {type(err).__name__}: {err}\n{HOW_TO_PROVIDE_BUTTERFLIES}") from None
