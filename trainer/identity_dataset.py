"""`IdentityDataset`: images grouped by identity, what the pair sampler, metrics and held-out score read.

Its own module so that the file formats (`trainer/datasets.py`) and the procedural faces
(`trainer/procedural_dataset.py`) both build on it and `open_dataset` can import either without a cycle.
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

    def fingerprint(self, index: int) -> str:
        """What changes when item `index`'s image does: caches of work done on the images (the identity critic)
        key on it, so editing or replacing a photo under the same name is not served a stale result."""
        return self.describe(index)
