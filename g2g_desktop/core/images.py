"""Image loading and conversion between files, PIL images and model tensors in [-1, 1].

Photos come from anywhere, so every failure becomes an `ImageLoadError` naming the file and the
cause, and decompression bombs are refused before their pixels are decoded.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.nn import functional as F

from .export_sizes import RESAMPLING

MAX_PIXELS = 64_000_000  # ~8000x8000; larger images are refused rather than decoded
MAX_FILE_BYTES = 200 * 1024 * 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
RENDERED_SHARE = 0.5
"""`looks_like_photo`: an image whose 32 most frequent exact colours cover at least this share of its pixels
is a rendering. Measured (issue 21): the six bundled samples and ten procedural training faces at 64 and
128 px, 70–96 %; the three test photos, whole or cropped to the face at 64 and 128 px, 1–31 % (31 %: a
portrait on a plain backdrop)."""


class ImageLoadError(ValueError):
    """An image that cannot be used; `str()` is a one-line message naming the file and the cause."""

    def __init__(self, path: str | bytes | os.PathLike, problem: str):
        self.path = Path(os.fsdecode(path))
        self.problem = problem
        super().__init__(f"{display_name(path)}: {' '.join(problem.split())}")


def display_name(path: str | bytes | os.PathLike) -> str:
    """A file name that prints on one line in any UTF-8 console: undecodable bytes and control
    characters (a newline in a name) are shown as backslash escapes instead of breaking the message."""
    raw = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in raw)


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open a file as an upright RGB PIL image (EXIF orientation applied, alpha composited on white)."""
    name = os.fsdecode(path)
    p = Path(name)
    try:
        if p.is_dir():
            raise ImageLoadError(name, "is a folder, not an image")
        size = p.stat().st_size
    except OSError as exc:  # missing file, symlink loop, permission
        raise ImageLoadError(name, exc.strerror or str(exc)) from None
    if size == 0:
        raise ImageLoadError(name, "file is empty")
    if size > MAX_FILE_BYTES:
        raise ImageLoadError(name, f"file is too large ({size / 2**20:.0f} MB)")
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ImageLoadError(name, exc.strerror or str(exc)) from None
    return decode_image(data, name)


# What Pillow's decoders raise on a corrupt file besides OSError: a mutated TIFF whose strip offset is a rational
# gave "TypeError: 'IFDRational' object cannot be interpreted as an integer" (the fuzz test's seed 2536).
CORRUPT_FILE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError,
                       ZeroDivisionError, struct.error)


def decode_image(data: bytes, name: str = "<memory>") -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise ImageLoadError(name, f"image is too large ({w}x{h} pixels, limit {MAX_PIXELS:,})")
            image.load()
            if min(image.size) < 1:
                raise ImageLoadError(name, "image has no pixels")
            return to_rgb(ImageOps.exif_transpose(image))  # a corrupt EXIF block fails here, not in the caller
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(
            name, "refused: decompression bomb (declares far more pixels than it stores)"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(name, "not an image (unrecognised format)") from None
    except CORRUPT_FILE_ERRORS as exc:
        raise ImageLoadError(name, f"corrupt or truncated image ({exc})") from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode (RGBA, LA, P, L, I;16, CMYK, ...) to 8-bit RGB."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        return Image.fromarray(np.clip(arr / peak * 255.0, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        finite = arr[np.isfinite(arr)]  # NaN/Inf pixels take the finite extremes, not ±1.8e308
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        arr = np.nan_to_num(arr, nan=lo, posinf=hi, neginf=lo)
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def flat_colour_share(image: Image.Image, colours: int = 32) -> float:
    """The share of the pixels painted in the image's `colours` most frequent exact colours."""
    rgb = to_rgb(image)
    pixels = rgb.width * rgb.height
    counts = sorted((count for count, _ in rgb.getcolors(pixels)), reverse=True)
    return sum(counts[:colours]) / max(pixels, 1)


def looks_like_photo(image: Image.Image) -> bool:
    """A camera photo rather than a drawn or rendered face (the bundled samples, the procedural faces).

    A face detector is no judge of this: MTCNN finds a face in a drawn face too. What tells them apart is
    noise: a camera's sensor and JPEG's blocks leave hardly two neighbouring pixels of the same colour,
    while a rendering is flat fills and smooth ramps, saved losslessly, so a few colours cover most of it
    (`RENDERED_SHARE`). A rendering re-saved as a JPEG can pass for a photo; a photo never passes for a
    rendering unless it is mostly one flat colour.
    """
    return flat_colour_share(image) < RENDERED_SHARE


def fit_square(image: Image.Image, size: int) -> Image.Image:
    """Centre-crop to a square, then resize to size×size (what the model sees)."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    image = image.crop((left, top, left + side, top + side))
    return image.resize((size, size), Image.Resampling.BICUBIC) if side != size else image


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image → 3×H×W float tensor in [-1, 1] (FUNIT's ToTensor + Normalize(0.5, 0.5))."""
    arr = np.asarray(to_rgb(image), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1).div(127.5).sub(1.0)


def load_image_tensor(path: str | os.PathLike, size: int) -> torch.Tensor:
    return pil_to_tensor(fit_square(open_image(path), size))


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """3×H×W (or B×3×H×W) in [-1, 1] → H×W×3 (B×H×W×3) uint8; non-finite values become 0."""
    x = torch.nan_to_num(x.detach().float(), nan=0.0, posinf=1.0, neginf=-1.0)
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    return (x.permute(1, 2, 0) if x.dim() == 3 else x.permute(0, 2, 3, 1)).numpy()


def tensor_to_pil(x: torch.Tensor) -> Image.Image:
    return Image.fromarray(tensor_to_uint8(x))


def upscale(images: torch.Tensor, scale: int, resample: str = "nearest") -> torch.Tensor:
    """…×3×H×W in [-1, 1] → …×3×(scale·H)×(scale·W) for exports and zoom: "nearest" repeats each model pixel
    as a scale×scale block (exactly what the model made, crisp), "bicubic" smooths (clamped to [-1, 1])."""
    if resample not in RESAMPLING:
        raise ValueError(f"resampling must be one of {', '.join(RESAMPLING)}, got {resample!r}")
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    if scale == 1:
        return images
    if resample == "nearest":
        return images.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)
    flat = images.reshape(-1, *images.shape[-3:]).float()
    smooth = F.interpolate(flat, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1.0, 1.0)
    return smooth.reshape(*images.shape[:-2], *smooth.shape[-2:])


def tile(images: torch.Tensor, rows: int, cols: int, pad: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """The one canvas builder: rows·cols images (B×3×H×W, row-major) with `pad` pixels between and around
    them — torchvision's `make_grid`, with the count checked and a single image padded like the rest
    (make_grid returns one image bare). Every grid, swap matrix, strip and sheet of core and trainer is this."""
    if images.shape[0] != rows * cols:
        raise ValueError(f"need {rows * cols} images for a {rows}x{cols} grid, got {images.shape[0]}")
    if images.shape[0] == 1:
        return F.pad(images[0], (pad, pad, pad, pad), value=pad_value)
    from torchvision.utils import make_grid  # deferred: torchvision takes about a second to import

    return make_grid(images, nrow=cols, padding=pad, pad_value=pad_value)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside `folder`, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
