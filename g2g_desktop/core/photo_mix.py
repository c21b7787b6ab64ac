"""Real photos through the mixer: open at full resolution, align the face, mix, paste the mix back.

The CLI (`mix --align/--paste-back/--batch`) and the app's Photo view share this path, so a photo mixed in
either place gives the same crop and the same pasted result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .face_align import AlignedImage, Detector, Face, alignment_matrix, prepare_image
from .images import ImageLoadError, display_name, open_image, pil_to_tensor, tensor_to_pil, tile
from .paste_back import paste_back
from .pipeline import G2GPipeline
from .safe_io import atomic_write

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

    def paste(self, mix: torch.Tensor | Image.Image, *, colour: bool = True,
              mask: torch.Tensor | None = None) -> Image.Image:
        """The photo with the mixed crop pasted back over its face (needs an aligned face).

        `mask` (1×H×W in [0, 1], a mask head's `G2GPipeline.mask`) replaces the feathered face ellipse.
        """
        if self.aligned.matrix is None:
            raise ValueError(f"{self.path or 'image'}: no aligned face to paste the mix back onto")
        crop = mix if isinstance(mix, Image.Image) else tensor_to_pil(mix)
        return paste_back(self.image, crop, self.aligned.matrix, colour=colour, mask=_mask_grid(mask))


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


def _mask_grid(mask: torch.Tensor | None) -> np.ndarray | None:
    """A mask head's 1×H×W mask (`G2GPipeline.mask`) as the H×W grid `paste_back` blends with."""
    return None if mask is None else mask[0].numpy()


def paste_into_original(path: Path | None, shown: Image.Image, face: Face,
                        mix: Image.Image | np.ndarray, mask: torch.Tensor | None = None) -> Image.Image:
    """Paste a mix made from `shown` (a downscaled copy of the photo at `path`) into the full-size photo.

    The app keeps photos at most 1024 px; `face` is in `shown`'s pixels and is scaled to the original, so the
    result has the photo's full resolution. Without a path (a pasted clipboard image) `shown` is the original.
    `mask` as in `Photo.paste`: a mask head's own blend mask instead of the feathered face ellipse.
    """
    original = open_image(path) if path is not None else shown
    sx, sy = original.width / shown.width, original.height / shown.height
    scaled = Face((face.box[0] * sx, face.box[1] * sy, face.box[2] * sx, face.box[3] * sy),
                  tuple((x * sx, y * sy) for x, y in face.landmarks), face.score)
    crop = mix if isinstance(mix, Image.Image) else Image.fromarray(np.asarray(mix, dtype=np.uint8))
    return paste_back(original, crop, alignment_matrix(scaled, crop.size[0]), mask=_mask_grid(mask))


@dataclass
class BatchReport:
    written: list[Path] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)  # file names
    unreadable: list[str] = field(default_factory=list)  # one-line messages
    cancelled: bool = False

    def lines(self, total: int, folder: Path) -> list[str]:
        out = [f"wrote {len(self.written)} of {total} image(s) to {folder}/" + (" (cancelled)" * self.cancelled)]
        if self.no_face:
            out.append(f"skipped {len(self.no_face)} without a face: " + ", ".join(self.no_face))
        if self.unreadable:
            out.append(f"skipped {len(self.unreadable)} unreadable: " + "; ".join(self.unreadable))
        return out


def mix_folder(
    pipeline: G2GPipeline,
    files: Sequence[Path],
    identities: torch.Tensor,  # K×3×H×W crops of one person (K-shot: their class codes are averaged)
    folder: Path,
    *,
    detector: Detector | None,
    paste: bool = False,  # write the pasted full photo instead of a content | identities | mix strip
    crop_only: bool = False,
    progress: Callable[[int, int], bool] | None = None,  # (done, total) → False to cancel
) -> BatchReport:
    """Mix every file with one identity, one output per file; faceless (when aligning) and bad files listed."""
    report = BatchReport()
    for done, path in enumerate(files):
        if progress is not None and not progress(done, len(files)):
            report.cancelled = True
            break
        try:
            content = open_photo(path, pipeline.image_size, detector)
        except ImageLoadError as exc:
            report.unreadable.append(str(exc))
            continue
        if detector is not None and not content.has_face:
            report.no_face.append(display_name(path.name))
            continue
        image, name = mix_output(pipeline, content, identities, paste=paste, crop_only=crop_only)
        report.written.append(save_image(image, folder / name))
    if progress is not None and not report.cancelled:
        progress(len(files), len(files))
    return report


def mix_output(pipeline: G2GPipeline, content: Photo, identities: torch.Tensor, *, paste: bool = False,
               crop_only: bool = False) -> tuple[Image.Image, str]:
    """The K-shot mix of `content` as written to disk, and its file name: the pasted photo
    (`x_mixed.jpg`), the mixed crop, or the strip content | identities | mix (`x_mixed.png`)."""
    mix = pipeline.mix_identities(content.tensor, identities)
    stem = content.path.stem if content.path is not None else "image"
    if paste:
        suffix = photo_suffix(content.path) if content.path is not None else ".png"
        return content.paste(mix, mask=pipeline.mask(content.tensor, identities)), f"{stem}_mixed{suffix}"
    if crop_only:
        return tensor_to_pil(mix), f"{stem}_mixed.png"
    strip = torch.cat([content.tensor[None], identities, mix[None]])
    return tensor_to_pil(tile(strip, rows=1, cols=len(strip))), f"{stem}_mixed.png"


def photo_suffix(path: Path) -> str:
    """Pasted photos keep their file's format where it can be written (a .jpg stays JPEG), else PNG."""
    try:
        image_format(path)
    except ValueError:
        return ".png"
    return path.suffix
