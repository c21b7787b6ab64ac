"""Conversions between numpy/PIL images and Qt images. The GUI only ever sees uint8 pixels."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPixmap


def array_to_qimage(array: np.ndarray) -> QImage:
    """H×W×3 uint8 → QImage (deep copy, so the numpy buffer may go away)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = array.shape[:2]
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def array_to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(array_to_qimage(array))


def pil_to_qimage(image: Image.Image) -> QImage:
    return array_to_qimage(np.asarray(image.convert("RGB")))


def qimage_to_pil(image: QImage) -> Image.Image:
    """A clipboard QImage (any format) → RGB PIL image."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return Image.fromarray(buffer[:, : 3 * w].reshape(h, w, 3).copy())
