"""`MixGridView`: the paper's 3×2 plot (rows Original / Mixed / Reconstructed, one column per person).

Also the empty state: without a model or a pair it tells the user what to open. A double-click or the
wheel on a cell asks for the zoom view of that cell (`cellZoomRequested`).

The grid is placed by hand (`_GridPage`): square cells as large as the page allows, packed together and
centred, so at wide sizes the two columns do not drift apart; the row-title column has a fixed width
(the widest title it can show), so a slider changing the "Mixed α = …" title never moves the images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from .image_cell import ImageCell

ROWS = ("original", "mixed", "reconstructed")
ROW_TITLES = {"original": "Original", "mixed": "Mixed", "reconstructed": "Reconstructed"}
WIDEST_ALPHA_TITLE = "α = -0.00 / -0.00"  # the widest line `set_mixed_title` writes
GAP = 8
MIN_CELL = 64


class _GridPage(QWidget):
    """Column titles over three rows of a title and two square cells, centred in the page."""

    def __init__(self, column_titles: list[QLabel], row_titles: list[QLabel], cells: list[list[QWidget]]):
        super().__init__()
        self.column_titles, self.row_titles, self.cells = column_titles, row_titles, cells
        self.titles = ["", ""]  # the whole names; the labels may show them cut (`place_titles`)
        for widget in [*column_titles, *row_titles, *(c for row in cells for c in row)]:
            widget.setParent(self)
        metrics = self.fontMetrics()
        self.title_width = max(metrics.horizontalAdvance(t) for t in [*ROW_TITLES.values(), WIDEST_ALPHA_TITLE]) + GAP
        self.header_height = metrics.height() + 4

    def _extent(self, side: int) -> QSize:
        return QSize(self.title_width + 3 * GAP + 2 * side, self.header_height + 4 * GAP + 3 * side)

    def minimumSizeHint(self) -> QSize:
        return self._extent(MIN_CELL)

    def sizeHint(self) -> QSize:
        """As small as allowed: the grid takes what is left (its policy expands); asking for more made the Mix
        tab's scroll area make the page taller than the view, so the sliders scrolled out of sight."""
        return self._extent(MIN_CELL)

    def cell_side(self) -> int:
        free_w = self.width() - self.title_width - 3 * GAP
        free_h = self.height() - self.header_height - 4 * GAP
        return max(MIN_CELL, min(free_w // 2, free_h // 3))

    def place_titles(self) -> None:
        """Each column title centred over its column; a name wider than the column reaches outwards (the first
        to the left over the row titles, the second to the right edge) and is cut in the middle where even that
        is too narrow, so two long names never run together."""
        side = self.cells[0][0].width()
        left, top = self.row_titles[0].x(), self.cells[0][0].y() - GAP - self.header_height
        columns = [cell.x() for cell in self.cells[0]]
        for c, (label, text, x) in enumerate(zip(self.column_titles, self.titles, columns)):
            metrics = label.fontMetrics()
            if metrics.horizontalAdvance(text) <= side:
                rect, align = QRect(x - GAP // 2, top, side + GAP, self.header_height), Qt.AlignmentFlag.AlignCenter
            elif c == 0:
                rect, align = QRect(left, top, x + side - left, self.header_height), Qt.AlignmentFlag.AlignRight
            else:
                rect, align = QRect(x, top, self.width() - x - GAP, self.header_height), Qt.AlignmentFlag.AlignLeft
            label.setGeometry(rect)
            label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
            label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, rect.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        side = self.cell_side()
        extent = self._extent(side)
        left = max(0, (self.width() - extent.width()) // 2) + GAP
        top = max(0, (self.height() - extent.height()) // 2) + GAP
        columns = [left + self.title_width + GAP + c * (side + GAP) for c in range(2)]
        for r, (title, cells) in enumerate(zip(self.row_titles, self.cells)):
            y = top + self.header_height + GAP + r * (side + GAP)
            title.setGeometry(QRect(left, y, self.title_width, side))
            for x, cell in zip(columns, cells):
                cell.setGeometry(QRect(x, y, side, side))
        self.place_titles()


class MixGridView(QWidget):
    cellZoomRequested = Signal(str, int)  # row name, column

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.images: dict[str, np.ndarray] = {}  # the arrays last shown (what export saves)
        self._stack = QStackedLayout(self)
        self.empty_label = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setObjectName("emptyState")
        self._stack.addWidget(self.empty_label)

        self.column_titles = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter) for _ in range(2)]
        self.row_titles: dict[str, QLabel] = {}
        self.cells: dict[tuple[str, int], ImageCell] = {}
        for name in ROWS:
            title = QLabel(ROW_TITLES[name], alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.row_titles[name] = title
            for col in range(2):
                cell = ImageCell(minimum=MIN_CELL)
                cell.setToolTip(_cell_tip(name, col) + "\nDouble-click or scroll up to zoom.")
                cell.zoomRequested.connect(lambda name=name, col=col: self.cellZoomRequested.emit(name, col))
                self.cells[(name, col)] = cell
        cells = [[self.cells[(name, col)] for col in range(2)] for name in ROWS]
        self.page = _GridPage(self.column_titles, list(self.row_titles.values()), cells)
        self._stack.addWidget(self.page)
        self.show_empty("Open a model and drop two images here.")

    def show_empty(self, text: str) -> None:
        self.images = {}
        self.empty_label.setText(text)
        self._stack.setCurrentIndex(0)

    def is_empty(self) -> bool:
        return self._stack.currentIndex() == 0

    @property
    def titles(self) -> tuple[str, str]:
        """The whole names of the two columns (the labels may show them elided)."""
        first, second = self.page.titles
        return first, second

    def set_titles(self, first: str, second: str) -> None:
        self.page.titles = [first, second]
        for label, text in zip(self.column_titles, (first, second)):
            label.setToolTip(text)  # a long name is cut in the middle to the cell's width
        self.page.place_titles()

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
