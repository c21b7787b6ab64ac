"""`ImageCell`: a label that shows a pixmap scaled to fit, keeping its aspect ratio.

A double-click, or turning the wheel forward, asks for a closer look (`zoomRequested`): the grid opens its
cells in the zoom view.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ..qt_images import array_to_pixmap


class ImageCell(QLabel):
    zoomRequested = Signal()

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

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._pixmap is not None and event.button() == Qt.MouseButton.LeftButton:
            self.zoomRequested.emit()
            event.accept()
        else:
            super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self._pixmap is not None and event.angleDelta().y() > 0:
            self.zoomRequested.emit()
            event.accept()
        else:
            super().wheelEvent(event)

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
