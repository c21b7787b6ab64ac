"""Exports of the mixing view, Qt-free: grid and swap matrix as PNG, the fade as GIF or PNG sequence.

The views keep the uint8 arrays they show, so the grid and matrix canvases are tiled here from those
(what you see is what you save); file writing is core's (`core.export`, atomic writes).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from g2g_desktop.core.export import fade_alphas, save_gif, save_png, save_png_sequence

from .render_queue import RenderRequest
from .renderer import Renderer

PAD = 2
PAD_VALUE = 255


def tile_arrays(cells: list[np.ndarray | None], rows: int, cols: int, pad: int = PAD) -> np.ndarray:
    """Row-major H×W×3 uint8 cells (None = blank) on one white canvas with `pad` pixels between them."""
    h, w = next(c for c in cells if c is not None).shape[:2]
    canvas = np.full((rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad, 3), PAD_VALUE, np.uint8)
    for index, cell in enumerate(cells):
        if cell is None:
            continue
        r, c = divmod(index, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        canvas[top : top + h, left : left + w] = cell
    return canvas


def grid_canvas(images: dict[str, np.ndarray]) -> np.ndarray:
    """The 3×2 plot: rows Original / Mixed / Reconstructed, columns image 1 / image 2."""
    rows = [images["original"], images["mixed"], images["reconstructed"]]
    return tile_arrays([row[col] for row in rows for col in range(2)], rows=3, cols=2)


def matrix_canvas(originals: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(N+1)×(N+1) canvas: originals along the top (identity) and the left (rest), swaps inside."""
    n = len(originals)
    cells: list[np.ndarray | None] = [None, *originals]
    for i in range(n):
        cells.append(originals[i])
        cells.extend(matrix[i, j] for j in range(n))
    return tile_arrays(cells, rows=n + 1, cols=n + 1)


def save_array_png(array: np.ndarray, path: str | os.PathLike) -> Path:
    return save_png(Image.fromarray(array), path)


def export_fade(
    renderer: Renderer,
    request: RenderRequest,  # the grid request of the pair shown (model, images, alignment)
    path: str | os.PathLike,  # *.gif, or a folder for a PNG sequence
    *,
    frames: int = 21,
    start: float = -0.5,
    stop: float = 1.5,
) -> list[Path]:
    """m1 with its identity faded from image 1 (α=start) to image 2 (α=stop); runs on a task thread."""
    pipeline = renderer.pipeline(request.model_id)
    x = renderer.tensors(request.image_ids, pipeline.image_size, request.align)
    video = pipeline.fade_frames(x[0], x[1], fade_alphas(frames, start, stop))
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return [save_gif(video, path)]
    return save_png_sequence(video, path)
