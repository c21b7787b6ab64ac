"""Face detection (facenet-pytorch MTCNN) and five-point alignment of photos, Qt-free.

Dropped photos are rarely framed like the training data. MTCNN finds each face's box and five
landmarks (eyes, nose tip, mouth corners); a similarity transform (rotation, uniform scale,
translation — no shear, so faces keep their proportions) maps those landmarks onto a fixed
template, and the crop at the model's image size is what the model sees.

MTCNN's P/R/O-Net weights ship inside the facenet-pytorch wheel, so this works offline. It is given
PIL images only: cropping from numpy needs OpenCV, which is not installed (PLATFORM.md).

This is the one aligner of the project: the app, `g2g-desktop mix --align`, the aligned training datasets
(`trainer.datasets`) and paste-back (`paste_back`, which inverts `AlignedImage.transform`) all use it with the
same template, named by `template_id()` in model files and crop caches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

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
TEMPLATE_NAME = "fivepoint112"


def template_id(zoom: float = DEFAULT_ZOOM) -> str:
    """The name of the template and zoom a crop was made with (model metadata, crop cache keys)."""
    return f"{TEMPLATE_NAME}-zoom{zoom:.2f}"


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


DETECT_MAX_SIDE = 1024
"""Photos are searched for faces at most this large: MTCNN on a 12 MP photo takes seconds and finds the same
faces; the landmarks are scaled back to the full photo, so alignment and paste-back stay full resolution."""


def detect_faces(image: Image.Image, detector: Detector, max_side: int = DETECT_MAX_SIDE) -> list[Face]:
    """`detector` on `image` shrunk to `max_side`, with the boxes and landmarks in full-image pixels."""
    scale = max(image.size) / max_side
    if scale <= 1.0:
        return list(detector(image))
    small = image.resize((max(1, round(image.width / scale)), max(1, round(image.height / scale))),
                         Image.Resampling.BILINEAR)
    sx, sy = image.width / small.width, image.height / small.height
    return [
        Face(
            box=(f.box[0] * sx, f.box[1] * sy, f.box[2] * sx, f.box[3] * sy),
            landmarks=tuple((x * sx, y * sy) for x, y in f.landmarks),
            score=f.score,
        )
        for f in detector(small)
    ]


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


def alignment_matrix(face: Face, size: int, zoom: float = DEFAULT_ZOOM) -> np.ndarray:
    """The 2×3 similarity taking source-image pixels to size×size crop pixels for `face`."""
    return similarity_transform(np.array(face.landmarks), template_points(size, zoom))


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]]))[:2]


def warp_to_crop(image: Image.Image, forward: np.ndarray, size: int) -> Image.Image:
    """The size×size crop that `forward` (source → crop) defines, with the source mirrored past its border.

    Only the source region under the crop is touched (cheap on a 12 MP photo); where the crop reaches past
    the photo's edge (a face at the border), the photo is padded by reflection instead of black, so the
    model never sees a hard black wedge it was not trained on.
    """
    inverse = invert_affine(forward)  # crop → source; PIL maps output → input
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64) @ inverse.T
    left, top = (int(v) - 2 for v in np.floor(corners.min(0)))
    right, bottom = (int(v) + 2 for v in np.ceil(corners.max(0)))
    w, h = image.size
    # At least one source pixel, even when the crop lies entirely outside the photo (padding then covers it).
    x0, y0 = min(max(left, 0), w - 1), min(max(top, 0), h - 1)
    x1, y1 = max(min(right, w), x0 + 1), max(min(bottom, h), y0 + 1)
    region = np.asarray(image.convert("RGB").crop((x0, y0, x1, y1)))
    pads = ((max(y0 - top, 0), max(bottom - y1, 0)), (max(x0 - left, 0), max(right - x1, 0)), (0, 0))
    if any(a or b for a, b in pads[:2]):
        region = _pad_reflect_blurred(region, pads)
    origin_x, origin_y = x0 - pads[1][0], y0 - pads[0][0]
    shifted = inverse.copy()
    shifted[:, 2] -= (origin_x, origin_y)
    return Image.fromarray(region).transform(
        (size, size), Image.Transform.AFFINE, data=tuple(shifted.ravel()), resample=Image.Resampling.BICUBIC
    )


def _pad_reflect_blurred(region: np.ndarray, pads: tuple) -> np.ndarray:
    """`region` padded by its mirror image, blurred in the padding so no mirrored eye or edge stands out."""
    mode = "reflect" if min(region.shape[:2]) > 1 else "edge"
    padded = Image.fromarray(np.pad(region, pads, mode=mode))
    radius = max(2.0, float(max(max(p) for p in pads[:2])) / 6)
    blurred = padded.filter(ImageFilter.GaussianBlur(radius))
    keep = Image.new("L", padded.size, 0)
    (top, _), (left, _) = pads[0], pads[1]
    keep.paste(255, (left, top, left + region.shape[1], top + region.shape[0]))
    return np.asarray(Image.composite(padded, blurred, keep))


def align_face(image: Image.Image, face: Face, size: int, *, zoom: float = DEFAULT_ZOOM) -> Image.Image:
    """The size×size crop of `face` with its landmarks moved onto the template."""
    return warp_to_crop(image, alignment_matrix(face, size, zoom), size)


@dataclass(frozen=True)
class AlignedImage:
    """What the app keeps of one photo: the faces found, which one is used, and the model-size crop."""

    faces: tuple[Face, ...]
    face_index: int | None  # None: the whole image (alignment off, or no face found)
    crop: Image.Image
    transform: tuple[float, ...] | None = None  # row-major 2×3 source → crop matrix of the aligned face

    @property
    def matrix(self) -> np.ndarray | None:
        return None if self.transform is None else np.asarray(self.transform, dtype=np.float64).reshape(2, 3)


def prepare_image(
    image: Image.Image,
    size: int,
    *,
    detector: Detector | None,
    face_index: int | None = 0,
    faces: Sequence[Face] | None = None,
    zoom: float = DEFAULT_ZOOM,
) -> AlignedImage:
    """Detect (unless `faces` is given or `detector` is None) and align one face, else the whole image.

    `detector=None` means alignment is switched off: the centre square is used, as for animal or
    synthetic images. With no face found, or `face_index=None` (the user chose the whole image), the centre
    square is used and the result's `face_index` is None, so the UI can say so.
    """
    if detector is None and faces is None:
        return AlignedImage((), None, fit_square(image, size))
    found = tuple(faces) if faces is not None else tuple(detect_faces(image, detector))
    if not found or face_index is None:
        return AlignedImage(found, None, fit_square(image, size))
    index = min(max(face_index, 0), len(found) - 1)
    forward = alignment_matrix(found[index], size, zoom)
    return AlignedImage(found, index, warp_to_crop(image, forward, size), tuple(forward.ravel()))
