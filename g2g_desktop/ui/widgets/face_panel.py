"""`FacePanel`: the detected faces of one image (boxes and landmarks drawn on it) and the model crop.

The chosen face is outlined in green, others in yellow; the picker chooses another face or the whole
image. The crop shown is the one the model sees.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from g2g_desktop.services.inputs import InputImage

from ..qt_images import pil_to_qimage
from .image_cell import ImageCell

WHOLE_IMAGE = -1


class FacePanel(QWidget):
    faceChosen = Signal(str, object)  # image id, face index (None = whole image)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.photo = ImageCell(minimum=120)
        self.crop = ImageCell(minimum=64)
        self.crop.setToolTip("What the model sees")
        self.status = QLabel(wordWrap=True)
        self.picker = QComboBox()
        self.picker.setToolTip("Which face of this image is mixed (largest first)")
        self.picker.activated.connect(self._picked)
        row = QHBoxLayout()
        row.addWidget(self.photo, 2)
        row.addWidget(self.crop, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.picker)
        layout.addWidget(self.status)
        self._image: InputImage | None = None
        self.show_image(None, align=False, size=64)

    def show_image(self, image: InputImage | None, *, align: bool, size: int) -> None:
        self._image = image
        with QSignalBlocker(self.picker):
            self.picker.clear()
            if image is None:
                self.photo.set_pixmap(None)
                self.crop.set_pixmap(None)
                self.status.setText("No image selected.")
                self.picker.setEnabled(False)
                return
            faces = image.faces or ()
            for i, face in enumerate(faces):
                self.picker.addItem(f"Face {i + 1} of {len(faces)} ({face.score:.0%})", i)
            self.picker.addItem("Whole image", WHOLE_IMAGE)
            chosen = image.face_index if image.uses_face else WHOLE_IMAGE
            self.picker.setCurrentIndex(self.picker.findData(chosen))
            self.picker.setEnabled(align and bool(faces))
        self.photo.set_pixmap(self._annotated(image))
        self.crop.set_pixmap(QPixmap.fromImage(pil_to_qimage(image.crop(size, align))))
        self.status.setText(self._describe(image, align))

    @staticmethod
    def _describe(image: InputImage, align: bool) -> str:
        if not align:
            return f"{image.name}: alignment is off, the centre square is used."
        if not image.detected:
            return f"{image.name}: detecting faces…"
        if not image.faces:
            return f"{image.name}: no face found, the whole image is used."
        if not image.uses_face:
            return f"{image.name}: {len(image.faces)} face(s) found; the whole image is used."
        return f"{image.name}: face {image.face_index + 1} of {len(image.faces)} is aligned and used."

    def _annotated(self, image: InputImage) -> QPixmap:
        pixmap = QPixmap.fromImage(pil_to_qimage(image.source))
        if not image.faces:
            return pixmap
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = max(2.0, pixmap.width() / 200)
        for i, face in enumerate(image.faces):
            colour = QColor("#3ddc84") if i == image.face_index else QColor("#ffd54f")
            painter.setPen(QPen(colour, width))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            left, top, right, bottom = face.box
            painter.drawRect(QRectF(left, top, right - left, bottom - top))
            painter.setBrush(colour)
            for x, y in face.landmarks:
                painter.drawEllipse(QPointF(x, y), width * 1.5, width * 1.5)
        painter.end()
        return pixmap

    def _picked(self) -> None:
        if self._image is None:
            return
        data = self.picker.currentData()
        index = None if data == WHOLE_IMAGE else int(data)
        if index != self._image.face_index or (index is not None) != self._image.uses_face:
            self.faceChosen.emit(self._image.id, index)
