"""A small generated image folder (coloured 'wings' on a pale background) so the ci suite exercises the
image-folder loader end to end without shipping or downloading images."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def butterfly_like(rng: np.random.Generator, size: int) -> Image.Image:
    """Two mirrored ellipses of a random colour and a dark body, on a slightly tinted background."""
    background = tuple(int(v) for v in rng.integers(200, 256, 3))
    image = Image.new("RGB", (size, int(size * rng.uniform(0.8, 1.2))), background)
    draw = ImageDraw.Draw(image)
    w, h = image.size
    colour = tuple(int(v) for v in rng.integers(0, 200, 3))
    span, height = rng.uniform(0.25, 0.45) * w, rng.uniform(0.25, 0.45) * h
    for side in (-1, 1):
        cx = w / 2 + side * span / 2
        draw.ellipse([cx - span / 2, h / 2 - height, cx + span / 2, h / 2 + height], fill=colour)
    draw.rectangle([w / 2 - w * 0.03, h * 0.25, w / 2 + w * 0.03, h * 0.75], fill=(30, 30, 30))
    return image


def write_synthetic_folder(folder: str | os.PathLike, n: int, size: int, seed: int) -> None:
    """``n`` PNG images of about ``size`` pixels in ``folder``, written to a temporary folder then renamed."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for i in range(n):
            butterfly_like(rng, size).save(tmp / f"img{i:04d}.png")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
