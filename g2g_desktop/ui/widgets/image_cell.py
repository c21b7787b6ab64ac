"""`ImageCell`: a label that shows a pixmap scaled to fit, keeping its aspect ratio."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ..qt_images import array_to_pixmap


class ImageCell(QLabel):
    def __init__(self, parent: QWidget | None = None, *, minimum: int = 64):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_array(self, array: np.ndarray | None) -> None:
        self.set_pixmap(None if array is None else array_to_pixmap(array))

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self._rescale()

    def source_pixmap(self) -> QPixmap | None:
        return self._pixmap

    def sizeHint(self) -> QSize:
        return QSize(160, 160)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            self.clear()
            return
        target = self.contentsRect().size()
        small = self._pixmap.width() * 2 <= target.width() and self._pixmap.height() * 2 <= target.height()
        mode = Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
        super().setPixmap(self._pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio, mode))
