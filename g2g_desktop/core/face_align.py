"""Face detection (facenet-pytorch MTCNN) and five-point alignment of photos, Qt-free.

Dropped photos are rarely framed like the training data. MTCNN finds each face's box and five
landmarks (eyes, nose tip, mouth corners); a similarity transform (rotation, uniform scale,
translation — no shear, so faces keep their proportions) maps those landmarks onto a fixed
template, and the crop at the model's image size is what the model sees.

MTCNN's P/R/O-Net weights ship inside the facenet-pytorch wheel, so this works offline. It is given
PIL images only: cropping from numpy needs OpenCV, which is not installed (PLATFORM.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .images import fit_square

# Landmark positions in a unit square (x, y), from the widely used 112×112 five-point template
# (left eye, right eye, nose tip, left and right mouth corner), divided by 112.
TEMPLATE = np.array(
    [
        [0.34191, 0.46157],
        [0.65654, 0.45983],
        [0.50022, 0.64050],
        [0.37098, 0.82470],
        [0.63151, 0.82325],
    ]
)
DEFAULT_ZOOM = 0.7
"""The template is shrunk by this factor around its centre so the crop also holds hair, chin and some
background, like the loosely cropped faces the mixing models are trained on."""


@dataclass(frozen=True)
class Face:
    """One detected face in the coordinates of the source image."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    landmarks: tuple[tuple[float, float], ...]  # five (x, y) points, order as TEMPLATE
    score: float  # detector confidence in [0, 1]

    @property
    def area(self) -> float:
        left, top, right, bottom = self.box
        return max(right - left, 0.0) * max(bottom - top, 0.0)


Detector = Callable[[Image.Image], list[Face]]


class MtcnnDetector:
    """facenet-pytorch MTCNN, created on first use and serialised by a lock (it is not thread-safe)."""

    def __init__(self, *, min_face_size: int = 20, device: str = "cpu"):
        self.min_face_size = min_face_size
        self.device = device
        self._mtcnn = None
        self._lock = threading.Lock()

    def __call__(self, image: Image.Image) -> list[Face]:
        if min(image.size) < self.min_face_size:
            # MTCNN's image pyramid has no level for such an image and fails inside torch.cat; no face fits anyway.
            return []
        with self._lock:
            if self._mtcnn is None:
                from facenet_pytorch import MTCNN  # heavy import, deferred until a photo needs it

                self._mtcnn = MTCNN(keep_all=True, min_face_size=self.min_face_size, device=self.device)
            boxes, probs, points = self._mtcnn.detect(image.convert("RGB"), landmarks=True)
        if boxes is None:
            return []
        faces = [
            Face(
                box=tuple(float(v) for v in box),
                landmarks=tuple((float(x), float(y)) for x, y in pts),
                score=float(prob),
            )
            for box, prob, pts in zip(boxes, probs, points)
        ]
        return sort_faces(faces)


def sort_faces(faces: Sequence[Face]) -> list[Face]:
    """Largest face first: the one the user most likely means."""
    return sorted(faces, key=lambda f: f.area, reverse=True)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2×3 similarity matrix M minimising Σ‖M·[src;1] − dst‖² (Umeyama 1991, no reflection)."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    var_s = (s**2).sum() / len(src)
    if var_s <= 1e-12:
        raise ValueError("landmarks are degenerate (all points coincide)")
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = float((sigma * np.diag(sign)).sum() / var_s)
    translation = mu_d - scale * rotation @ mu_s
    return np.hstack([scale * rotation, translation[:, None]])


def template_points(size: int, zoom: float = DEFAULT_ZOOM) -> np.ndarray:
    """Where the five landmarks land in a size×size crop."""
    return ((TEMPLATE - 0.5) * zoom + 0.5) * size


def align_face(image: Image.Image, face: Face, size: int, *, zoom: float = DEFAULT_ZOOM) -> Image.Image:
    """The size×size crop of `face` with its landmarks moved onto the template."""
    forward = similarity_transform(np.array(face.landmarks), template_points(size, zoom))
    inverse = np.linalg.inv(np.vstack([forward, [0.0, 0.0, 1.0]]))[:2]  # PIL maps output → input
    return image.convert("RGB").transform(
        (size, size), Image.Transform.AFFINE, data=tuple(inverse.ravel()), resample=Image.Resampling.BICUBIC
    )


@dataclass(frozen=True)
class AlignedImage:
    """What the app keeps of one photo: the faces found, which one is used, and the model-size crop."""

    faces: tuple[Face, ...]
    face_index: int | None  # None: the whole image (alignment off, or no face found)
    crop: Image.Image


def prepare_image(
    image: Image.Image,
    size: int,
    *,
    detector: Detector | None,
    face_index: int | None = 0,
    faces: Sequence[Face] | None = None,
) -> AlignedImage:
    """Detect (unless `faces` is given or `detector` is None) and align one face, else the whole image.

    `detector=None` means alignment is switched off: the centre square is used, as for animal or
    synthetic images. With no face found, or `face_index=None` (the user chose the whole image), the centre
    square is used and the result's `face_index` is None, so the UI can say so.
    """
    if detector is None and faces is None:
        return AlignedImage((), None, fit_square(image, size))
    found = tuple(faces) if faces is not None else tuple(detector(image))
    if not found or face_index is None:
        return AlignedImage(found, None, fit_square(image, size))
    index = min(max(face_index, 0), len(found) - 1)
    return AlignedImage(found, index, align_face(image, found[index], size))
