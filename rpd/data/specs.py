"""What a dataset entry of the config implies, without loading it (torch-free): modality, shape, classes."""

from __future__ import annotations

IMAGE_KINDS = {"fmnist": (1, 10), "butterflies": (3, 0)}  # kind: (channels, classes; 0 = unconditional)


def is_image_dataset(dataset: dict) -> bool:
    return dataset["kind"] in IMAGE_KINDS


def data_shape(dataset: dict) -> tuple[int, ...]:
    """The shape of one data point: (2,) for grid data, (C, H, W) for images."""
    if not is_image_dataset(dataset):
        return (2,)
    channels, _ = IMAGE_KINDS[dataset["kind"]]
    return (channels, dataset["resolution"], dataset["resolution"])


def num_classes(dataset: dict) -> int:
    """Number of classes the models are conditioned on (0: unconditional)."""
    return IMAGE_KINDS[dataset["kind"]][1] if is_image_dataset(dataset) else 0
