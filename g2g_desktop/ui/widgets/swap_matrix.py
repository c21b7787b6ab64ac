"""`SwapMatrixView`: the N×N swap matrix (row = rest from image i, column = identity from image j).

The originals head the rows and columns, so the matrix reads like a multiplication table. A large model
takes seconds per row, so rows appear as they are decoded, with a progress bar and Cancel; a cancelled
matrix keeps the rows it has and offers to compute it again. Cells are never drawn smaller than the
model's pixels: a matrix larger than the view scrolls.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from g2g_desktop.services.export import matrix_canvas

from .image_cell import ImageCell
from .task_progress import TaskProgress

MIN_SIDE = 200


def matrix_note(shown: int, total: int) -> str:
    """Why the matrix leaves images out, or "" when it shows them all."""
    if total <= shown:
        return ""
    return (f"Showing the first {shown} of {total} images: each image adds a row and a column of mixes "
            f"({shown * shown:,} now). Drag thumbnails to choose which come first.")


class SwapMatrixView(QWidget):
    cancelRequested = Signal()
    computeRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel(
            "Row: rest (pose, expression, background) from the image on the left · "
            "Column: identity from the image on top · Diagonal: reconstructions",
            wordWrap=True,
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        self.cell = ImageCell(minimum=MIN_SIDE)
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.cell)
        self.note = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.progress = TaskProgress()
        self.progress.cancelRequested.connect(self.cancelRequested)
        self.compute_button = QPushButton("Compute again")
        self.compute_button.clicked.connect(self.computeRequested)
        self.compute_button.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.compute_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(bottom)
        self.canvas: np.ndarray | None = None  # the whole matrix shown (what is exported); None while partial
        self.rows_shown = 0
        self.show_empty("Load at least two images to see the swap matrix.")

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_empty(self, text: str) -> None:
        self.canvas = None
        self.rows_shown = 0
        self.progress.finish()
        self.compute_button.hide()
        self.cell.setMinimumSize(MIN_SIDE, MIN_SIDE)
        self.cell.set_pixmap(None)
        self.cell.setText(text)

    def _show_canvas(self, canvas: np.ndarray) -> None:
        """At least one screen pixel per model pixel: larger than the view, it scrolls; smaller, it is fitted."""
        height, width = canvas.shape[:2]
        self.cell.setMinimumSize(max(width, MIN_SIDE), max(height, MIN_SIDE))
        self.cell.set_array(canvas)

    def show_matrix(self, originals: np.ndarray, matrix: np.ndarray) -> None:
        """The whole matrix (N×N×H×W×3)."""
        self.canvas = matrix_canvas(originals, matrix)
        self.rows_shown = len(matrix)
        self.progress.finish()
        self.compute_button.hide()
        self._show_canvas(self.canvas)

    def begin(self, n: int) -> None:
        """A matrix of `n` images is being decoded: show the progress bar at 0 / n."""
        self.progress.start("Computing the swap matrix…", n)
        self.compute_button.hide()

    def show_rows(self, originals: np.ndarray, rows: np.ndarray) -> None:
        """The first rows of a matrix being decoded (k×N×H×W×3); the others stay blank."""
        self.canvas = None
        self.rows_shown = len(rows)
        if self.progress.isHidden():
            self.progress.start("Computing the swap matrix…", len(originals))
        self.progress.step(len(rows), len(originals))
        self.compute_button.hide()
        self._show_canvas(matrix_canvas(originals, rows))

    def show_cancelled(self) -> None:
        self.progress.finish()
        self.compute_button.show()
        self.set_note(f"Cancelled after {self.rows_shown} row(s).")
