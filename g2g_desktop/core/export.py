"""Turning pipeline outputs into files: grid PNGs, fade GIFs / PNG sequences, labelled swap matrices."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from .images import tensor_to_pil, tile
from .safe_io import atomic_write


def matrix_canvas(images: torch.Tensor, matrix: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """The N×N swap matrix framed by its inputs: the top row shows the identity sources (columns), the
    left column the rest sources (rows); the top-left cell stays blank."""
    n = images.shape[0]
    blank = torch.ones_like(images[:1])
    cells = [blank, images.float()]
    for i in range(n):
        cells += [images[i : i + 1].float(), matrix[i]]
    return tile(torch.cat(cells), rows=n + 1, cols=n + 1, pad=pad)


def save_png(image: Image.Image, path: str | os.PathLike) -> Path:
    path = Path(path)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))
    return path


def save_gif(frames: torch.Tensor, path: str | os.PathLike, *, frame_ms: int = 80, bounce: bool = True) -> Path:
    """Animated GIF of F×3×H×W frames; `bounce` plays forward then back so the loop has no jump."""
    pictures = [tensor_to_pil(f) for f in frames]
    if bounce and len(pictures) > 2:
        pictures += pictures[-2:0:-1]
    path = Path(path)
    atomic_write(
        path,
        lambda tmp: pictures[0].save(
            tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0
        ),
    )
    return path


def save_png_sequence(frames: torch.Tensor, folder: str | os.PathLike, stem: str = "fade") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [save_png(tensor_to_pil(f), folder / f"{stem}_{i:03d}.png") for i, f in enumerate(frames)]


def fade_alphas(frames: int, start: float = 0.0, stop: float = 1.0) -> list[float]:
    if frames < 2:
        raise ValueError("a fade needs at least 2 frames")
    return [start + (stop - start) * i / (frames - 1) for i in range(frames)]
