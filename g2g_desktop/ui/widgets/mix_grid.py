"""`MixGridView`: the paper's 3×2 plot (rows Original / Mixed / Reconstructed, one column per person).

Also the empty state: without a model or a pair it tells the user what to open. A double-click or the
wheel on a cell asks for the zoom view of that cell (`cellZoomRequested`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedLayout, QWidget

from .image_cell import ImageCell

ROWS = ("original", "mixed", "reconstructed")
ROW_TITLES = {"original": "Original", "mixed": "Mixed", "reconstructed": "Reconstructed"}


class MixGridView(QWidget):
    cellZoomRequested = Signal(str, int)  # row name, column

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.images: dict[str, np.ndarray] = {}  # the arrays last shown (what export saves)
        self._stack = QStackedLayout(self)
        self.empty_label = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setObjectName("emptyState")
        self._stack.addWidget(self.empty_label)

        grid_page = QWidget()
        grid = QGridLayout(grid_page)
        self.column_titles = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(2)]
        for col, label in enumerate(self.column_titles):
            grid.addWidget(label, 0, col + 1)
        self.row_titles: dict[str, QLabel] = {}
        self.cells: dict[tuple[str, int], ImageCell] = {}
        for row, name in enumerate(ROWS):
            title = QLabel(ROW_TITLES[name], alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.row_titles[name] = title
            grid.addWidget(title, row + 1, 0)
            for col in range(2):
                cell = ImageCell()
                cell.setToolTip(_cell_tip(name, col) + "\nDouble-click or scroll up to zoom.")
                cell.zoomRequested.connect(lambda name=name, col=col: self.cellZoomRequested.emit(name, col))
                self.cells[(name, col)] = cell
                grid.addWidget(cell, row + 1, col + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        self._stack.addWidget(grid_page)
        self.show_empty("Open a model and drop two images here.")

    def show_empty(self, text: str) -> None:
        self.images = {}
        self.empty_label.setText(text)
        self._stack.setCurrentIndex(0)

    def is_empty(self) -> bool:
        return self._stack.currentIndex() == 0

    def set_titles(self, first: str, second: str) -> None:
        self.column_titles[0].setText(first)
        self.column_titles[1].setText(second)

    def set_mixed_title(self, alphas: tuple[float, float]) -> None:
        text = "Mixed" if alphas == (1.0, 1.0) else f"Mixed\nα = {alphas[0]:.2f} / {alphas[1]:.2f}"
        self.row_titles["mixed"].setText(text)

    def show_images(self, images: dict[str, np.ndarray]) -> None:
        """`images[row]` is 2×H×W×3 uint8 for each of ROWS."""
        self.images = dict(images)
        for name in ROWS:
            for col in range(2):
                self.cells[(name, col)].set_array(images[name][col])
        self._stack.setCurrentIndex(1)


def _cell_tip(row: str, col: int) -> str:
    me, other = col + 1, 2 - col
    return {
        "original": f"Image {me} as the model sees it (x{me})",
        "mixed": f"m{me} = G(E_A(x{me}), E_B(x{other})): the rest of image {me} with the identity of image {other}",
        "reconstructed": f"x̂{me} = G(E_A(m{me}), E_B(m{other})): image {me} put back together from the two mixes",
    }[row]
