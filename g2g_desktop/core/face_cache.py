"""An on-disk cache of aligned face crops, so a second epoch or a second run does not detect again.

MTCNN costs ~0.1–0.7 s per photo on a CPU; a training set of thousands of photos would spend longer
detecting than training. Each crop is stored once under a key made of the file's *content* (not its name or
date: a renamed or touched photo still hits, an edited one misses), the crop size and the template id
(`face_align.template_id`), so crops of another size or template never mix. A photo without a face is
remembered too (an empty marker), so it is skipped without a second detection.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .face_align import DEFAULT_ZOOM, Detector, MtcnnDetector, prepare_image, template_id
from .images import MAX_FILE_BYTES, ImageLoadError, decode_image
from .resources import cache_root
from .safe_io import atomic_write

NO_FACE_SUFFIX = ".noface"


def default_crop_cache_dir() -> Path:
    """`faces/` in the user's cache folder (`$G2G_CACHE_DIR`, default `~/.cache/g2g-desktop`)."""
    return cache_root() / "faces"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # detections run
    no_face: int = 0  # photos (hit or miss) without a face

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class AlignedCropCache:
    """`crop(path)` → the aligned size×size face crop of the photo (largest face), or None without a face."""

    def __init__(
        self,
        size: int,
        folder: str | os.PathLike | None = None,
        *,
        zoom: float = DEFAULT_ZOOM,
        detector: Detector | None = None,
    ):
        self.size = size
        self.zoom = zoom
        self.template = template_id(zoom)
        self.folder = Path(folder) if folder is not None else default_crop_cache_dir()
        self._detector = detector
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            self._detector = MtcnnDetector()
        return self._detector

    def key(self, data: bytes) -> str:
        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(f"|{self.size}|{self.template}".encode())
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.png"

    def ensure(self, path: str | os.PathLike) -> Path | None:
        """The cached crop's PNG file (detected and written on a miss), or None for a photo without a face.

        Raises `ImageLoadError` for a file that cannot be read or decoded. Hits only hash the file, so training
        worker processes can use the returned paths without a detector.
        """
        data = _read(path)
        entry = self._entry(self.key(data))
        marker = entry.with_suffix(NO_FACE_SUFFIX)
        if marker.exists():
            self._count(hit=True, face=False)
            return None
        if entry.exists():
            self._count(hit=True, face=True)
            return entry
        aligned = prepare_image(decode_image(data, os.fsdecode(path)), self.size, detector=self.detector,
                                zoom=self.zoom)
        entry.parent.mkdir(parents=True, exist_ok=True)
        if aligned.face_index is None:
            atomic_write(marker, lambda tmp: Path(tmp).write_bytes(b""))
            self._count(hit=False, face=False)
            return None
        atomic_write(entry, lambda tmp: aligned.crop.save(tmp, format="PNG"))
        self._count(hit=False, face=True)
        return entry

    def crop(self, path: str | os.PathLike) -> Image.Image | None:
        """The aligned crop of `path` (None without a face); a damaged cache entry is made again."""
        entry = self.ensure(path)
        if entry is None:
            return None
        try:
            return decode_image(entry.read_bytes(), str(entry))
        except (OSError, ValueError):
            entry.unlink(missing_ok=True)
            again = self.ensure(path)
            return None if again is None else decode_image(again.read_bytes(), str(again))

    def _count(self, *, hit: bool, face: bool) -> None:
        with self._lock:
            if hit:
                self.stats.hits += 1
            else:
                self.stats.misses += 1
            if not face:
                self.stats.no_face += 1


def _read(path: str | os.PathLike) -> bytes:
    """The file's bytes (decoded, with the usual bomb and format checks, only on a cache miss)."""
    name = os.fsdecode(path)
    try:
        if Path(name).stat().st_size > MAX_FILE_BYTES:
            raise ImageLoadError(name, "file is too large")
        data = Path(name).read_bytes()
    except OSError as exc:
        raise ImageLoadError(name, exc.strerror or str(exc)) from None
    if not data:
        raise ImageLoadError(name, "file is empty")
    return data
