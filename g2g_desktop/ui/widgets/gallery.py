"""`ImageGallery`: thumbnails of all loaded images and the two pickers that choose the mixed pair."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QFormLayout, QListWidget, QListWidgetItem, QMenu, QVBoxLayout, QWidget

from ..inputs import InputImage
from ..qt_images import pil_to_qimage

THUMB = 72


class ImageGallery(QWidget):
    pairRequested = Signal(object)  # (id1, id2): the user picked a new pair
    removeRequested = Signal(str)
    samePersonRequested = Signal(object)  # [ids]: group as one person (K-shot); one id: ungroup it
    currentChanged = Signal(str)  # the image whose faces the face panel shows

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setToolTip("All loaded images. Right-click to choose the pair or remove one.")
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current)
        self.pickers = [QComboBox(), QComboBox()]
        form = QFormLayout()
        for i, combo in enumerate(self.pickers):
            combo.setToolTip(f"Image {i + 1} of the mixed pair")
            combo.activated.connect(self._picked)
            form.addRow(f"Image {i + 1}:", combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        self._pair: tuple[str, str] | None = None
        self._thumbs: dict[str, QIcon] = {}

    def set_images(self, images: list[InputImage], pair: tuple[str, str] | None) -> None:
        current = self.current_id()
        self.list.blockSignals(True)
        self.list.clear()
        for im in images:
            icon = self._thumbs.get(im.id)
            if icon is None:
                thumb = im.source.copy()
                thumb.thumbnail((THUMB * 2, THUMB * 2))
                icon = self._thumbs[im.id] = QIcon(QPixmap.fromImage(pil_to_qimage(thumb)))
            item = QListWidgetItem(icon, im.name)
            item.setData(Qt.ItemDataRole.UserRole, im.id)
            item.setToolTip(str(im.path) if im.path else im.name)
            self.list.addItem(item)
            if im.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        for combo in self.pickers:
            combo.blockSignals(True)
            combo.clear()
            for im in images:
                combo.addItem(im.name, im.id)
            combo.blockSignals(False)
        self.set_pair(pair)

    def mark_groups(self, groups: list[tuple[str, ...]]) -> None:
        """Label grouped images with their person number ("· person 1") so groups can be told apart."""
        number = {image_id: n for n, group in enumerate(groups, start=1) for image_id in group}
        for row in range(self.list.count()):
            item = self.list.item(row)
            image_id = item.data(Qt.ItemDataRole.UserRole)
            base = item.text().split(" · person ")[0]
            item.setText(f"{base} · person {number[image_id]}" if image_id in number else base)

    def set_pair(self, pair: tuple[str, str] | None) -> None:
        self._pair = pair
        for i, combo in enumerate(self.pickers):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(pair[i]) if pair else -1)
            combo.blockSignals(False)

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select(self, image_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == image_id:
                self.list.setCurrentRow(row)

    def _picked(self) -> None:
        ids = tuple(combo.currentData() for combo in self.pickers)
        if all(ids) and ids != self._pair:
            self.pairRequested.emit(ids)

    def _current(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.currentChanged.emit(item.data(Qt.ItemDataRole.UserRole))

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        image_id = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        for slot in (0, 1):
            action = QAction(f"Use as image {slot + 1}", menu)
            action.triggered.connect(lambda _=False, s=slot: self._use_as(image_id, s))
            menu.addAction(action)
        selected = [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]
        same = QAction("Same person (mean identity of the selected)", menu)
        same.setEnabled(len(selected) > 1)
        same.triggered.connect(lambda: self.samePersonRequested.emit(selected))
        menu.addAction(same)
        alone = QAction("Not grouped", menu)
        alone.triggered.connect(lambda: self.samePersonRequested.emit([image_id]))
        menu.addAction(alone)
        remove = QAction("Remove", menu)
        remove.triggered.connect(lambda: self.removeRequested.emit(image_id))
        menu.addAction(remove)
        menu.exec(self.list.mapToGlobal(pos))

    def _use_as(self, image_id: str, slot: int) -> None:
        pair = list(self._pair or (image_id, image_id))
        pair[slot] = image_id
        if pair[0] != pair[1] or self._pair is None:
            self.pairRequested.emit(tuple(pair))
