"""Real photos through the mixer: open at full resolution, align the face, mix, paste the mix back.

The CLI (`mix --align/--paste-back/--batch`) and the app's Photo view share this path, so a photo mixed in
either place gives the same crop and the same pasted result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

from .checkpoint import atomic_write
from .face_align import AlignedImage, Detector, prepare_image
from .images import open_image, pil_to_tensor, tensor_to_pil
from .paste_back import paste_back

JPEG_QUALITY = 95


@dataclass(frozen=True)
class Photo:
    """One opened photo: the full-resolution image and the crop (aligned face or centre square) the model sees."""

    path: Path | None
    image: Image.Image
    aligned: AlignedImage

    @property
    def has_face(self) -> bool:
        return self.aligned.face_index is not None

    @property
    def tensor(self) -> torch.Tensor:
        return pil_to_tensor(self.aligned.crop)

    def paste(self, mix: torch.Tensor | Image.Image, *, colour: bool = True) -> Image.Image:
        """The photo with the mixed crop pasted back over its face (needs an aligned face)."""
        if self.aligned.matrix is None:
            raise ValueError(f"{self.path or 'image'}: no aligned face to paste the mix back onto")
        crop = mix if isinstance(mix, Image.Image) else tensor_to_pil(mix)
        return paste_back(self.image, crop, self.aligned.matrix, colour=colour)


def open_photo(path: str | os.PathLike, size: int, detector: Detector | None) -> Photo:
    """Open `path` (one-line `ImageLoadError` if it cannot be used) and align its largest face.

    With `detector=None` (alignment off) or no face found, the crop is the centre square and `has_face` is False.
    """
    image = open_image(path)
    return Photo(Path(path), image, prepare_image(image, size, detector=detector))


def save_image(image: Image.Image, path: str | os.PathLike) -> Path:
    """Write `image` atomically in the format its suffix names (.png, .jpg, .webp, ...)."""
    path = Path(path)
    fmt = image_format(path)
    options = {"quality": JPEG_QUALITY} if fmt in ("JPEG", "WEBP") else {}
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt, **options))
    return path


def image_format(path: Path) -> str:
    """PIL's format name for `path`'s suffix; a suffix PIL cannot write is a `ValueError` naming it."""
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(f"{path}: cannot write images of type '{path.suffix}' (use .png, .jpg or .webp)")
    return fmt
