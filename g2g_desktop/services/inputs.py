"""Input images of the mixing view: loading dropped files and folders, face detection, the model crop.

Qt-free: the GUI runs `load_inputs` on a background thread (MTCNN takes ~0.1–0.2 s per photo on CPU)
and gets back `InputImage`s plus one-line messages for the files it could not use.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from PIL import Image

from g2g_desktop.core.face_align import Detector, Face, align_face
from g2g_desktop.core.images import (
    IMAGE_SUFFIXES,
    ImageLoadError,
    fit_square,
    looks_like_photo,
    open_image,
    pil_to_tensor,
)

MAX_SOURCE_SIDE = 1024
"""Photos are downscaled to this longest side on loading: enough for detection and any model size, and
it keeps memory and drawing cheap for 20-megapixel camera files."""

_ids = itertools.count(1)
_crop_cache: dict[tuple[str, int, bool], torch.Tensor] = {}
_crop_lock = threading.Lock()


@dataclass(frozen=True)
class InputImage:
    """One loaded image. Immutable: choosing another face makes a new one with a new `id`."""

    id: str
    name: str  # file name or "clipboard 3", shown to the user
    path: Path | None
    source: Image.Image  # RGB, longest side ≤ MAX_SOURCE_SIDE
    faces: tuple[Face, ...] | None = None  # None: detection has not run (alignment was off)
    face_index: int | None = None  # which face is used; None: the whole image
    photo: bool = False  # a camera photo, not a rendering (`core.images.looks_like_photo`), judged on loading

    @property
    def detected(self) -> bool:
        return self.faces is not None

    @property
    def uses_face(self) -> bool:
        return self.faces is not None and self.face_index is not None and self.face_index < len(self.faces)

    def with_faces(self, faces: tuple[Face, ...], face_index: int | None = 0) -> InputImage:
        index = face_index if faces and face_index is not None else None
        return replace(self, id=new_id(), faces=faces, face_index=index)

    def with_face_index(self, face_index: int | None) -> InputImage:
        return replace(self, id=new_id(), face_index=face_index)

    def crop(self, size: int, align: bool) -> Image.Image:
        """What the model sees: the aligned face when aligning and a face is chosen, else the centre square."""
        if align and self.uses_face:
            return align_face(self.source, self.faces[self.face_index], size)
        return fit_square(self.source, size)

    def tensor(self, size: int, align: bool) -> torch.Tensor:
        key = (self.id, size, align and self.uses_face)
        with _crop_lock:
            hit = _crop_cache.get(key)
        if hit is None:
            hit = pil_to_tensor(self.crop(size, align))
            with _crop_lock:
                if len(_crop_cache) > 512:
                    _crop_cache.clear()
                _crop_cache[key] = hit
        return hit


def forget_crops(image_id: str) -> None:
    """Drop the cached crops of an image that was removed or replaced."""
    with _crop_lock:
        for key in [k for k in _crop_cache if k[0] == image_id]:
            del _crop_cache[key]


def new_id() -> str:
    return f"img{next(_ids)}"


def shrink(image: Image.Image) -> Image.Image:
    if max(image.size) <= MAX_SOURCE_SIDE:
        return image
    image = image.copy()
    image.thumbnail((MAX_SOURCE_SIDE, MAX_SOURCE_SIDE), Image.Resampling.LANCZOS)
    return image


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given, folders replaced by the image files directly inside them (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


@dataclass
class LoadReport:
    images: list[InputImage]
    errors: list[str]  # one line per file that could not be used, naming it

    @property
    def no_face(self) -> list[InputImage]:
        """Images that went through detection and have no face: the UI asks before using them whole."""
        return [im for im in self.images if im.faces == ()]


def detect(image: InputImage, detector: Detector | None) -> InputImage:
    """Run the detector once on an image that has not been through it (largest face chosen)."""
    if detector is None or image.detected:
        return image
    return image.with_faces(tuple(detector(image.source)), 0)


def load_inputs(paths: Iterable[str | os.PathLike], detector: Detector | None) -> LoadReport:
    """Open every path (folders expanded); detect faces when `detector` is given. Never raises."""
    report = LoadReport([], [])
    files = expand_paths(paths)
    for path in files:
        try:
            source = shrink(open_image(path))
        except ImageLoadError as exc:
            report.errors.append(str(exc))
            continue
        image = InputImage(new_id(), path.name, path, source, photo=looks_like_photo(source))
        report.images.append(detect_safely(image, detector, report))
    if not files:
        report.errors.append("no image files found in what was dropped")
    return report


def from_pil(image: Image.Image, name: str, detector: Detector | None) -> LoadReport:
    """A pasted image (already decoded by the GUI) through the same path as a file."""
    report = LoadReport([], [])
    source = shrink(image.convert("RGB"))
    pasted = InputImage(new_id(), name, None, source, photo=looks_like_photo(source))
    report.images.append(detect_safely(pasted, detector, report))
    return report


def detect_safely(image: InputImage, detector: Detector | None, report: LoadReport) -> InputImage:
    """`detect`, where a detector failure costs the alignment, not the image: it is used whole (no face),
    and the failure is one line in `report`. The one path for a failed detection, on load and later."""
    try:
        return detect(image, detector)
    except Exception as exc:
        report.errors.append(f"{image.name}: face detection failed ({exc})")
        return image.with_faces((), None)


def detect_all(images: Iterable[InputImage], detector: Detector, check: Callable[[], None]) -> LoadReport:
    """Detect faces in images loaded while alignment was off, in order; `check()` raises to stop early."""
    report = LoadReport([], [])
    for image in images:
        check()
        report.images.append(detect_safely(image, detector, report))
    return report
