"""`QtTextPainter`: the titles of exported grids, matrices and fades, drawn by Qt.

PIL ships one font, with Latin letters only, so its titles spelt α as "a"; Qt falls back through the
system's fonts glyph by glyph, so α and a file name in any script the system can show come out right.
Drawing into a QImage is safe on the export task's thread (no widget is involved).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from g2g_desktop.services.export import TEXT_COLOUR, Label

from .qt_images import array_to_qimage, qimage_to_pil

ALIGN = {"centre": Qt.AlignmentFlag.AlignHCenter, "right": Qt.AlignmentFlag.AlignRight}


def _font(size: int) -> QFont:
    font = QFont()  # the application's font family
    font.setPixelSize(size)
    return font


class QtTextPainter:
    """The `services.export.TextPainter` of the app."""

    def width(self, text: str, size: int) -> int:
        return math.ceil(QFontMetricsF(_font(size)).horizontalAdvance(text))

    def draw(self, canvas: np.ndarray, labels: Sequence[Label], size: int) -> np.ndarray:
        image = array_to_qimage(canvas)
        font = _font(size)
        metrics = QFontMetricsF(font)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setFont(font)
            painter.setPen(QColor(*TEXT_COLOUR))
            for label in labels:
                x, y, w, h = label.box
                text = metrics.elidedText(label.text, Qt.TextElideMode.ElideRight, w)
                painter.drawText(QRect(x, y, w, h), ALIGN[label.align] | Qt.AlignmentFlag.AlignVCenter, text)
        finally:
            painter.end()
        return np.asarray(qimage_to_pil(image))
