"""The dataset job: a training set and a held-out reference set of size N (SPEC §3).

Torch-free (numpy, PIL for images), so the job's process starts in about a second instead of importing torch
and diffusers as :mod:`rpd.stages` does; ``rpd.stages.make_dataset`` is this function.
"""

from __future__ import annotations

from rpd.data.grid import make_grid_dataset
from rpd.data.specs import is_image_dataset
from rpd.io import save_npz
from rpd.logs import say


def make_dataset(spec: dict, n_eval: int, train_path: str, reference_path: str) -> None:
    """Write the training set and a held-out reference set of size N (SPEC §3).

    Grid data: training set from ``data_seed``, reference from ``data_seed + 1``. Images: see
    :mod:`rpd.data.images` (uint8 images, plus labels ``y`` for class-conditional data).
    """
    if is_image_dataset(spec):
        from rpd.data.images import IMAGE_DATASETS

        train, reference = IMAGE_DATASETS[spec["kind"]](spec, n_eval)
        save_npz(train_path, **train)
        save_npz(reference_path, **reference)
        say(f"{spec['kind']}: {len(train['x'])} training images, {len(reference['x'])} reference, "
            f"shape {train['x'].shape[1:]}")
        return
    args = dict(shape=spec["shape"], grid=spec["grid"], scale=spec["scale"], jitter=spec["jitter"])
    save_npz(train_path, x=make_grid_dataset(n=spec["n_train"], seed=spec["data_seed"], **args))
    save_npz(reference_path, x=make_grid_dataset(n=n_eval, seed=spec["data_seed"] + 1, **args))
