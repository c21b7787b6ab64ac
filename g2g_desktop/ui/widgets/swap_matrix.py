"""`SwapMatrixView`: the N×N swap matrix (row = rest from image i, column = identity from image j).

The originals head the rows and columns, so the matrix reads like a multiplication table.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..export import matrix_canvas
from .image_cell import ImageCell


class SwapMatrixView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel(
            "Row: rest (pose, expression, background) from the image on the left · "
            "Column: identity from the image on top · Diagonal: reconstructions",
            wordWrap=True,
            alignment=Qt.AlignmentFlag.AlignCenter,
        )
        self.cell = ImageCell(minimum=200)
        self.note = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.cell, 1)
        layout.addWidget(self.note)
        self.canvas: np.ndarray | None = None  # what is shown (and exported)
        self.show_empty("Load at least two images to see the swap matrix.")

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def show_empty(self, text: str) -> None:
        self.canvas = None
        self.cell.set_pixmap(None)
        self.cell.setText(text)

    def show_matrix(self, originals: np.ndarray, matrix: np.ndarray) -> None:
        self.canvas = matrix_canvas(originals, matrix)
        self.cell.set_array(self.canvas)
