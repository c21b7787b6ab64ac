"""Exports of the mixing view, Qt-free: grid and swap matrix as PNG, the fade as GIF or PNG sequence.

The views keep the uint8 arrays they show, so the grid and matrix canvases are tiled here from those
(what you see is what you save), scaled up (nearest neighbour keeps the model's pixels, bicubic smooths
them) and optionally titled by a `TextPainter` the caller hands in (the app's draws with Qt, which has α);
file writing is core's (`core.export`, atomic writes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from PIL import Image

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
TEXT_COLOUR = (40, 40, 40)  # the titles' colour, for the `TextPainter`
FADE_CHUNK = 4  # frames decoded between progress reports and cancel checks
FADE_RANGE = (-0.5, 1.5)  # identity weights of the first and last fade frame: past both images, as the sliders go
MAX_EXPORT_SIDE = 8192  # pixels: a 12×12 matrix of 128 px faces at 8× would be 13,000 px (500 MB) across


@dataclass(frozen=True)
class ExportOptions:
    scale: int = 2  # each model pixel becomes scale × scale pixels
    smooth: bool = False  # bicubic (True) or nearest neighbour (False) scaling
    labels: bool = True  # row and column titles on the image
    both_mixes: bool = True  # the fade shows mix 1 and mix 2 side by side (else mix 1 only)
    frames: int = 21
    bounce: bool = True  # a fade GIF plays forward then back: 2·frames − 2 frames in the file, a loop with no jump


def gif_frames(options: ExportOptions) -> int:
    """How many frames a fade GIF written with `options` holds."""
    return 2 * options.frames - 2 if options.bounce and options.frames > 2 else options.frames


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


@dataclass(frozen=True)
class Label:
    """One title on a canvas: `text` centred in, or right-aligned to, the box (x, y, width, height)."""

    text: str
    box: tuple[int, int, int, int]
    align: str = "centre"  # or "right"


class TextPainter(Protocol):
    """Draws the titles of an export. The app's is Qt's text rendering (`ui/qt_text.py`): its font fallback has
    Greek (α) and whatever script a file name is in, where the only font PIL ships has Latin letters only."""

    def width(self, text: str, size: int) -> int:
        """Pixels `text` takes at a `size`-pixel font."""

    def draw(self, canvas: np.ndarray, labels: Sequence[Label], size: int) -> np.ndarray:
        """`canvas` (H×W×3 uint8) with each label drawn in its box; a text wider than its box is elided."""


def tile_arrays(
    cells: list[np.ndarray | None],
    rows: int,
    cols: int,
    pad: int = PAD,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    cell_shape: tuple[int, int] | None = None,
    painter: TextPainter | None = None,
    row_label_width: int = 0,
    row_label_limit: int | None = None,
) -> np.ndarray:
    """Row-major H×W×3 uint8 cells (None = blank) on one white canvas with `pad` pixels between them,
    with optional titles (drawn by `painter`) left of the rows and above the columns. The left margin fits the
    widest row title (at least `row_label_width`, so that frames of one animation keep one size; at most
    `row_label_limit` when given, for file names): a title with an α is never cut; a column title longer than
    its cell (a file name) is elided."""
    h, w = cell_shape or next(c for c in cells if c is not None).shape[:2]
    if (row_labels or col_labels) and painter is None:
        raise ValueError("titles need a TextPainter")
    font_size = max(10, min(h, w) // 8)
    left = 0
    if row_labels:
        widest = max([row_label_width, *(painter.width(text, font_size) for text in row_labels)])
        left = max(w // 2, min(widest, row_label_limit or widest) + 3 * pad)
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
    gap = font_size // 4  # between neighbouring column titles
    labels = [Label(text, (left + pad + c * (w + pad) + gap, 0, w - 2 * gap, top))
              for c, text in enumerate(col_labels or ())]
    labels += [Label(text, (pad, top + pad + r * (h + pad), left - 2 * pad, h), "right")
               for r, text in enumerate(row_labels or ())]
    return painter.draw(canvas, labels, font_size)


def alpha_text(alpha: float) -> str:
    """An identity weight as the exports title it, sign and two decimals: "α = +0.25"."""
    return f"α = {alpha:+.2f}"


def grid_canvas(
    images: dict[str, np.ndarray],
    options: ExportOptions | None = None,
    names: tuple[str, str] = ("Image 1", "Image 2"),
    alphas: tuple[float, float] = (1.0, 1.0),
    painter: TextPainter | None = None,
) -> np.ndarray:
    """The 3×2 plot: rows Original / Mixed / Reconstructed, columns image 1 / image 2; the Mixed title names
    the identity weights of m1 / m2 when they are not the plain mix."""
    options = options or ExportOptions(scale=1, labels=False)
    rows = [images["original"], images["mixed"], images["reconstructed"]]
    cells = [scale_array(row[col], options.scale, options.smooth) for row in rows for col in range(2)]
    mixed = "Mixed" if alphas == (1.0, 1.0) else f"Mixed α = {alphas[0]:.2f} / {alphas[1]:.2f}"
    labels = options.labels
    return tile_arrays(cells, rows=3, cols=2, row_labels=("Original", mixed, "Reconstructed") if labels else None,
                       col_labels=names if labels else None, painter=painter)


def matrix_canvas(
    originals: np.ndarray,
    matrix: np.ndarray,
    options: ExportOptions | None = None,
    names: Sequence[str] | None = None,
    painter: TextPainter | None = None,
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
                       col_labels=["", *labels] if labels else None, painter=painter,
                       row_label_limit=2 * scaled[0].shape[1])


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
    start: float = FADE_RANGE[0],
    stop: float = FADE_RANGE[1],
    painter: TextPainter | None = None,
) -> list[Path]:
    """The fade on a task thread: frame by frame m1 (and m2) with its identity faded from its own (α=start)
    to the other image's (α=stop), α titled left of the frame. Reports `(frames done, frames)`, stops at
    `token`, writes nothing then. A GIF plays forward then back when `options.bounce` (2·frames − 2 in the file)."""
    options = options or ExportOptions()
    pipeline = renderer.pipeline(request.model_id)
    x = renderer.tensors(request.image_ids, pipeline.image_size, request.align)
    alphas = fade_alphas(options.frames, start, stop)
    size = max(10, pipeline.image_size * options.scale // 8)  # the titles' font size (`tile_arrays`)
    label_width = max(painter.width(alpha_text(a), size) for a in alphas) if options.labels and painter else 0
    frames: list[np.ndarray] = []
    for first in range(0, len(alphas), FADE_CHUNK):
        if token is not None:
            token.check()
        chunk = alphas[first : first + FADE_CHUNK]
        sides = [tensor_to_uint8(pipeline.fade_frames(x[0], x[1], chunk))]
        if options.both_mixes:
            sides.append(tensor_to_uint8(pipeline.fade_frames(x[1], x[0], chunk)))
        for k, alpha in enumerate(chunk):
            frames.append(_fade_frame([side[k] for side in sides], alpha, names, options, painter, label_width))
        if report is not None:
            report(len(frames), len(alphas))
    if token is not None:
        token.check()
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return [save_gif_arrays(frames, path, bounce=options.bounce)]
    path.mkdir(parents=True, exist_ok=True)
    return [save_array_png(frame, path / f"fade_{i:03d}.png") for i, frame in enumerate(frames)]


def _fade_frame(mixes: list[np.ndarray], alpha: float, names: tuple[str, str], options: ExportOptions,
                painter: TextPainter | None, label_width: int) -> np.ndarray:
    cells = [scale_array(m, options.scale, options.smooth) for m in mixes]
    if not options.labels:
        return tile_arrays(cells, rows=1, cols=len(cells))
    return tile_arrays(cells, rows=1, cols=len(cells), row_labels=[alpha_text(alpha)],
                       col_labels=list(names[: len(cells)]), painter=painter, row_label_width=label_width)


def save_gif_arrays(frames: list[np.ndarray], path: Path, *, frame_ms: int = 80, bounce: bool = True) -> Path:
    """Animated GIF of H×W×3 uint8 frames; `bounce` plays forward then back so the loop has no jump."""
    pictures = [Image.fromarray(f) for f in frames]
    if bounce and len(pictures) > 2:
        pictures += pictures[-2:0:-1]
    atomic_write(path, lambda tmp: pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:],
                                                    duration=frame_ms, loop=0))
    return path
