"""Exports of the mixing view, Qt-free: grid and swap matrix as PNG, the fade as GIF or PNG sequence.

The views keep the uint8 arrays they show, so the grid and matrix canvases are tiled here from those
(what you see is what you save), scaled up (nearest neighbour keeps the model's pixels, bicubic smooths
them) and optionally labelled; file writing is core's (`core.export`, atomic writes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from g2g_desktop.core.export import fade_alphas, save_png
from g2g_desktop.core.export_sizes import SCALES
from g2g_desktop.core.images import pil_to_tensor, tensor_to_uint8, upscale
from g2g_desktop.core.safe_io import atomic_write

from .render_queue import RenderRequest
from .renderer import Renderer

if TYPE_CHECKING:
    from .cancel import CancelToken

PAD = 2
PAD_VALUE = 255
TEXT_COLOUR = (40, 40, 40)
FADE_CHUNK = 4  # frames decoded between progress reports and cancel checks
MAX_EXPORT_SIDE = 8192  # pixels: a 12×12 matrix of 128 px faces at 8× would be 13,000 px (500 MB) across


@dataclass(frozen=True)
class ExportOptions:
    scale: int = 2  # each model pixel becomes scale × scale pixels
    smooth: bool = False  # bicubic (True) or nearest neighbour (False) scaling
    labels: bool = True  # row and column titles on the image
    both_mixes: bool = True  # the fade shows mix 1 and mix 2 side by side (else mix 1 only)
    frames: int = 21


def fit_scale(options: ExportOptions, side: int) -> ExportOptions:
    """`options` with the largest scale ≤ its own that keeps a canvas `side` pixels across (unscaled) within
    MAX_EXPORT_SIDE."""
    scale = options.scale
    while scale > 1 and side * scale > MAX_EXPORT_SIDE:
        scale = max(s for s in SCALES if s < scale)
    return options if scale == options.scale else replace(options, scale=scale)


def scale_array(array: np.ndarray, scale: int, smooth: bool) -> np.ndarray:
    """H×W×3 uint8 → (scale·H)×(scale·W)×3, nearest neighbour or bicubic: core's `upscale`, as the CLI scales."""
    if scale == 1:
        return array
    return tensor_to_uint8(upscale(pil_to_tensor(Image.fromarray(array)), scale, "bicubic" if smooth else "nearest"))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text` shortened with an ellipsis until it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def tile_arrays(
    cells: list[np.ndarray | None],
    rows: int,
    cols: int,
    pad: int = PAD,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    cell_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Row-major H×W×3 uint8 cells (None = blank) on one white canvas with `pad` pixels between them,
    with optional titles left of the rows and above the columns."""
    h, w = cell_shape or next(c for c in cells if c is not None).shape[:2]
    font_size = max(10, min(h, w) // 8)
    left = (max(w // 2, 8 * font_size) if row_labels else 0)
    top = (font_size * 2 if col_labels else 0)
    canvas = np.full((top + rows * h + (rows + 1) * pad, left + cols * w + (cols + 1) * pad, 3), PAD_VALUE, np.uint8)
    for index, cell in enumerate(cells):
        if cell is None:
            continue
        r, c = divmod(index, cols)
        y, x = top + pad + r * (h + pad), left + pad + c * (w + pad)
        canvas[y : y + h, x : x + w] = cell
    if not (row_labels or col_labels):
        return canvas
    picture = Image.fromarray(canvas)
    draw, font = ImageDraw.Draw(picture), _font(font_size)
    for c, text in enumerate(col_labels or ()):
        x = left + pad + c * (w + pad) + w // 2
        draw.text((x, top // 2), _fit(draw, text, font, w), fill=TEXT_COLOUR, font=font, anchor="mm")
    for r, text in enumerate(row_labels or ()):
        y = top + pad + r * (h + pad) + h // 2
        draw.text((left - pad, y), _fit(draw, text, font, left - 2 * pad), fill=TEXT_COLOUR, font=font, anchor="rm")
    return np.asarray(picture)


def grid_canvas(
    images: dict[str, np.ndarray],
    options: ExportOptions | None = None,
    names: tuple[str, str] = ("Image 1", "Image 2"),
    mixed_title: str = "Mixed",
) -> np.ndarray:
    """The 3×2 plot: rows Original / Mixed / Reconstructed, columns image 1 / image 2 (titles in ASCII and
    Latin letters: the font PIL bundles has no Greek or arrows)."""
    options = options or ExportOptions(scale=1, labels=False)
    rows = [images["original"], images["mixed"], images["reconstructed"]]
    cells = [scale_array(row[col], options.scale, options.smooth) for row in rows for col in range(2)]
    labels = options.labels
    return tile_arrays(cells, rows=3, cols=2, row_labels=("Original", mixed_title, "Reconstructed") if labels else None,
                       col_labels=names if labels else None)


def matrix_canvas(
    originals: np.ndarray,
    matrix: np.ndarray,
    options: ExportOptions | None = None,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """(N+1)×(N+1) canvas: originals along the top (identity) and the left (rest), swaps inside. `matrix`
    may hold only the first rows (a render in progress): the rest stay blank."""
    options = options or ExportOptions(scale=1, labels=False)
    scaled = [scale_array(o, options.scale, options.smooth) for o in originals]
    n = len(originals)
    cells: list[np.ndarray | None] = [None, *scaled]
    for i in range(n):
        cells.append(scaled[i])
        cells.extend(scale_array(matrix[i, j], options.scale, options.smooth) if i < len(matrix) else None
                     for j in range(n))
    labels = list(names) if options.labels and names else None
    return tile_arrays(cells, rows=n + 1, cols=n + 1, row_labels=["rest \\ identity", *labels] if labels else None,
                       col_labels=["", *labels] if labels else None)


def save_array_png(array: np.ndarray, path: str | os.PathLike) -> Path:
    return save_png(Image.fromarray(array), path)


def export_fade(
    renderer: Renderer,
    request: RenderRequest,  # the grid request of the pair shown (model, images, alignment)
    path: str | os.PathLike,  # *.gif, or a folder for a PNG sequence
    options: ExportOptions | None = None,
    names: tuple[str, str] = ("Image 1", "Image 2"),
    token: CancelToken | None = None,
    report: Callable[[int, int], None] | None = None,
    *,
    start: float = -0.5,
    stop: float = 1.5,
) -> list[Path]:
    """The fade on a task thread: frame by frame m1 (and m2) with its identity faded from its own (α=start)
    to the other image's (α=stop). Reports `(frames done, frames)`, stops at `token`, writes nothing then."""
    options = options or ExportOptions()
    pipeline = renderer.pipeline(request.model_id)
    x = renderer.tensors(request.image_ids, pipeline.image_size, request.align)
    alphas = fade_alphas(options.frames, start, stop)
    frames: list[np.ndarray] = []
    for first in range(0, len(alphas), FADE_CHUNK):
        if token is not None:
            token.check()
        chunk = alphas[first : first + FADE_CHUNK]
        sides = [tensor_to_uint8(pipeline.fade_frames(x[0], x[1], chunk))]
        if options.both_mixes:
            sides.append(tensor_to_uint8(pipeline.fade_frames(x[1], x[0], chunk)))
        for k, alpha in enumerate(chunk):
            frames.append(_fade_frame([side[k] for side in sides], alpha, names, options))
        if report is not None:
            report(len(frames), len(alphas))
    if token is not None:
        token.check()
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return [save_gif_arrays(frames, path)]
    path.mkdir(parents=True, exist_ok=True)
    return [save_array_png(frame, path / f"fade_{i:03d}.png") for i, frame in enumerate(frames)]


def _fade_frame(mixes: list[np.ndarray], alpha: float, names: tuple[str, str], options: ExportOptions) -> np.ndarray:
    cells = [scale_array(m, options.scale, options.smooth) for m in mixes]
    labels = None
    if options.labels:
        labels = [f"a={alpha:+.2f} {name}" for name in names[: len(cells)]]  # PIL's font has no Greek
    return tile_arrays(cells, rows=1, cols=len(cells), col_labels=labels)


def save_gif_arrays(frames: list[np.ndarray], path: Path, *, frame_ms: int = 80, bounce: bool = True) -> Path:
    """Animated GIF of H×W×3 uint8 frames; `bounce` plays forward then back so the loop has no jump."""
    pictures = [Image.fromarray(f) for f in frames]
    if bounce and len(pictures) > 2:
        pictures += pictures[-2:0:-1]
    atomic_write(path, lambda tmp: pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:],
                                                    duration=frame_ms, loop=0))
    return path
