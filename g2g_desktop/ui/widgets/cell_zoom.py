"""`CellZoom`: one grid cell up close, and side by side with the original it was made from.

The model's images are small (64–128 px), so the grid shows them scaled; here the user picks the zoom
(wheel or the box) and how pixels are scaled: nearest neighbour shows the model's pixels as they are,
bicubic smooths them. It follows the grid: a new render (a slider moved) updates it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from g2g_desktop.services.export import scale_array, tile_arrays

from ..qt_images import array_to_pixmap

ZOOMS = (1, 2, 3, 4, 6, 8, 12, 16)
ROW_NAMES = {"original": "Original", "mixed": "Mixed", "reconstructed": "Reconstructed"}


class CellZoom(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Zoom")
        self.images: dict[str, np.ndarray] = {}
        self.row, self.col = "mixed", 0
        self.names = ("Image 1", "Image 2")
        self.zoom = QComboBox()
        for z in ZOOMS:
            self.zoom.addItem(f"{z}×", z)
        self.zoom.setCurrentIndex(ZOOMS.index(4))
        self.zoom.setToolTip("Zoom (or turn the mouse wheel over the picture)")
        self.smooth = QCheckBox("Smooth (bicubic)")
        self.smooth.setToolTip("Off: nearest neighbour, the model's pixels as they are")
        self.compare = QCheckBox("Side by side with the original")
        self.compare.setChecked(True)
        for box in (self.smooth, self.compare):
            box.toggled.connect(self.refresh)
        self.zoom.currentIndexChanged.connect(self.refresh)
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.picture)
        self.scroll.setWidgetResizable(True)
        self.caption = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Zoom:"))
        controls.addWidget(self.zoom)
        controls.addWidget(self.smooth)
        controls.addWidget(self.compare)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.caption)
        self.resize(720, 560)
        self.shown: np.ndarray | None = None  # the array on screen (tests read it)

    def show_cell(self, images: dict[str, np.ndarray], row: str, col: int, names: tuple[str, str]) -> None:
        self.row, self.col = row, col
        self.update_images(images, names)
        self.show()
        self.raise_()

    def update_images(self, images: dict[str, np.ndarray], names: tuple[str, str] | None = None) -> None:
        self.images = dict(images)
        if names is not None:
            self.names = names
        self.refresh()

    def factor(self) -> int:
        return int(self.zoom.currentData())

    def refresh(self) -> None:
        if not self.images:
            self.shown = None
            self.picture.setText("Nothing to show.")
            return
        factor, smooth = self.factor(), self.smooth.isChecked()
        cell = scale_array(self.images[self.row][self.col], factor, smooth)
        title = f"{ROW_NAMES[self.row]} · {self.names[self.col]}"
        if self.compare.isChecked() and self.row != "original":
            original = scale_array(self.images["original"][self.col], factor, smooth)
            self.shown = tile_arrays([original, cell], rows=1, cols=2)
            title = f"Original | {title}"
        else:
            self.shown = cell
        self.picture.setPixmap(array_to_pixmap(self.shown))
        self.caption.setText(f"{title} · {factor}× {'bicubic' if smooth else 'nearest neighbour'}")
        self.setWindowTitle(f"Zoom: {title}")

    def wheelEvent(self, event: QWheelEvent) -> None:
        step = 1 if event.angleDelta().y() > 0 else -1
        index = min(max(self.zoom.currentIndex() + step, 0), self.zoom.count() - 1)
        self.zoom.setCurrentIndex(index)
        event.accept()
