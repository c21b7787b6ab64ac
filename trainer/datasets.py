"""Datasets of identity-labelled images and the pair sampler the G2G approaches train on.

Every dataset is an `IdentityDataset`: a list of items, each with an integer identity label, whose
image can be fetched by index as an RGB PIL image. Folder trees, CelebA, FUNIT list files and the
procedural faces all implement it, so the pair sampler and the trainer treat them alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from PIL import Image


class IdentityDataset(ABC):
    """Images grouped by identity. Subclasses set `labels` (one int per item, 0..num_classes-1)."""

    labels: list[int]
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @abstractmethod
    def get_image(self, index: int) -> Image.Image:
        """The RGB image of item `index` (any size; the sampler resizes and crops)."""

    def describe(self, index: int) -> str:
        """A human-readable name of item `index` for error messages (a path, a seed, ...)."""
        return f"item {index}"
