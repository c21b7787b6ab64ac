"""`PhotoView`: both mixes pasted back into their original photos, at full resolution, zoomable.

The wheel zooms around the cursor, dragging pans, double-click fits the photo again. The pixels come from
`core.photo_mix.paste_into_original` on a task thread; this widget only shows them.
"""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..qt_images import pil_to_qimage

ZOOM_STEP = 1.25


class PannablePhoto(QGraphicsView):
    """One photo: fitted to the view until the user zooms, then zoomed and panned freely."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.fitted = True

    def set_image(self, image: Image.Image | None) -> None:
        self.item.setPixmap(QPixmap() if image is None else QPixmap.fromImage(pil_to_qimage(image)))
        self.scene().setSceneRect(self.item.boundingRect())
        if self.fitted:
            self.fit()

    def fit(self) -> None:
        self.fitted = True
        if not self.item.pixmap().isNull():
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        self.fitted = False
        self.scale(factor, factor)

    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(ZOOM_STEP**steps)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()


class PhotoView(QWidget):
    saveRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.photos: list[Image.Image | None] = [None, None]
        self.note = QLabel(wordWrap=True)
        self.captions = [QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True) for _ in range(2)]
        for caption in self.captions:  # a long caption wraps; it must not widen the view and narrow the docks
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.views = [PannablePhoto() for _ in range(2)]
        columns = QHBoxLayout()
        for caption, view in zip(self.captions, self.views):
            column = QVBoxLayout()
            column.addWidget(caption)
            column.addWidget(view, 1)
            columns.addLayout(column)
        buttons = QHBoxLayout()
        self.fit_button = QPushButton("Fit")
        self.fit_button.clicked.connect(lambda: [v.fit() for v in self.views])
        self.save_button = QPushButton("Save photos…")
        self.save_button.clicked.connect(self.saveRequested)
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(buttons)
        self.show_message("The mixes pasted back into the full photos appear here.")

    def show_message(self, text: str) -> None:
        self.note.setText(text)

    def show_photos(self, photos: list[Image.Image | None], captions: list[str], note: str = "") -> None:
        self.photos = list(photos)
        for view, caption, photo, text in zip(self.views, self.captions, photos, captions):
            view.set_image(photo)
            caption.setText(text if photo is None else f"{text} · {photo.width}×{photo.height}")
        self.save_button.setEnabled(any(p is not None for p in photos))
        self.note.setText(note or "Wheel: zoom · drag: pan · double-click: fit. The mix is blended in with a "
                          "feathered face mask and colour-matched to the photo (Lab mean/std).")
