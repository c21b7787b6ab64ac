"""`ImageGallery`: thumbnails of all loaded images and the two pickers that choose the mixed pair.

Thumbnails can be dragged into another order (the swap matrix follows it); images that share a file name
are told apart by their folder, in the list and in the pickers. Several selected images can be marked as
one person (K-shot), and are then labelled with their person number.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QAction, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from g2g_desktop.services.inputs import InputImage

from ..qt_images import pil_to_qimage

THUMB = 72
ITEM_MIME = "application/x-qabstractitemmodeldatalist"


def display_names(images: list[InputImage]) -> dict[str, str]:
    """Image id → the name to show: the file name, with its folders ("name — photos/a") when another
    image has the same name."""
    counts: dict[str, int] = {}
    for im in images:
        counts[im.name] = counts.get(im.name, 0) + 1
    names = {}
    for im in images:
        if counts[im.name] == 1 or im.path is None:
            names[im.id] = im.name
            continue
        others = [o.path for o in images if o.name == im.name and o.path is not None and o.id != im.id]
        parents = im.path.parent.parts
        depth = 1  # add folders from the nearest up until this image's folders differ from every other's
        while depth < len(parents) and any(o.parent.parts[-depth:] == parents[-depth:] for o in others):
            depth += 1
        names[im.id] = f"{im.name} — {'/'.join(parents[-depth:])}"
    return names


class GalleryList(QListWidget):
    """The thumbnail list; an internal drag moves the dragged images before the one dropped on."""

    orderDropped = Signal(object)  # the image ids in their new order

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Snap)
        self.setGridSize(QSize(THUMB + 28, THUMB + 30))
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setUniformItemSizes(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def ids(self) -> list[str]:
        return [self.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.count())]

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(ITEM_MIME):
            event.ignore()
            return
        moved = [item.data(Qt.ItemDataRole.UserRole) for item in self.selectedItems()]
        target = self.itemAt(event.position().toPoint())
        rest = [i for i in self.ids() if i not in moved]
        at = rest.index(target.data(Qt.ItemDataRole.UserRole)) if target is not None and target.data(
            Qt.ItemDataRole.UserRole) in rest else len(rest)
        event.setDropAction(Qt.DropAction.CopyAction)  # the list is rebuilt from the session: Qt moves nothing
        event.accept()
        order = rest[:at] + moved + rest[at:]
        if moved and order != self.ids():
            self.orderDropped.emit(order)


class ImageGallery(QWidget):
    pairRequested = Signal(object)  # (id1, id2): the user picked a new pair
    removeRequested = Signal(str)
    removeAllRequested = Signal()
    orderChanged = Signal(object)  # ids in the order the user dragged them into
    samePersonRequested = Signal(object)  # [ids]: group as one person (K-shot); one id: ungroup it
    currentChanged = Signal(str)  # the image whose faces the face panel shows

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.list = GalleryList()
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setToolTip("All loaded images. Drag to reorder; right-click to choose the pair or remove one,\n"
                             "or to mark the selected images as the same person.")
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current)
        self.list.orderDropped.connect(self.orderChanged)
        self.remove_all_button = QPushButton("Remove all")
        self.remove_all_button.setToolTip("Remove every image from the gallery")
        self.remove_all_button.clicked.connect(self.removeAllRequested)
        self.pickers = [QComboBox(), QComboBox()]
        form = QFormLayout()
        for i, combo in enumerate(self.pickers):
            combo.setToolTip(f"Image {i + 1} of the mixed pair")
            combo.activated.connect(self._picked)
            form.addRow(f"Image {i + 1}:", combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.remove_all_button)
        layout.addLayout(form)
        self._pair: tuple[str, str] | None = None
        self._thumbs: dict[int, tuple[object, QIcon]] = {}  # id(source) → (source, icon): face variants share one

    def set_images(self, images: list[InputImage], pair: tuple[str, str] | None) -> None:
        current = self.current_id()
        shown_before = set(self._thumbs)  # sources already listed: face variants of them are not new
        names = display_names(images)
        sources = {id(im.source) for im in images}
        self._thumbs = {key: value for key, value in self._thumbs.items() if key in sources}
        newest: QListWidgetItem | None = None
        with QSignalBlocker(self.list):
            self.list.clear()
            for im in images:
                item = QListWidgetItem(self._thumb(im), names[im.id])
                item.setData(Qt.ItemDataRole.UserRole, im.id)
                item.setToolTip(str(im.path) if im.path else im.name)
                self.list.addItem(item)
                if im.id == current:
                    self.list.setCurrentItem(item)
                if id(im.source) not in shown_before:
                    newest = item
        if newest is not None:
            self.list.scrollToItem(newest)  # a pasted or dropped image is shown where it landed
        for combo in self.pickers:
            with QSignalBlocker(combo):
                combo.clear()
                for im in images:
                    combo.addItem(names[im.id], im.id)
        self.remove_all_button.setEnabled(bool(images))
        self.set_pair(pair)

    def _thumb(self, im: InputImage) -> QIcon:
        hit = self._thumbs.get(id(im.source))
        if hit is None:
            thumb = im.source.copy()
            thumb.thumbnail((THUMB * 2, THUMB * 2))
            hit = self._thumbs[id(im.source)] = (im.source, QIcon(QPixmap.fromImage(pil_to_qimage(thumb))))
        return hit[1]

    def thumbnail_count(self) -> int:
        return len(self._thumbs)

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
            with QSignalBlocker(combo):
                combo.setCurrentIndex(combo.findData(pair[i]) if pair else -1)

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
        menu = QMenu(self)
        if item is not None:
            image_id = item.data(Qt.ItemDataRole.UserRole)
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
        remove_all = QAction("Remove all", menu)
        remove_all.setEnabled(self.list.count() > 0)
        remove_all.triggered.connect(self.removeAllRequested)
        menu.addAction(remove_all)
        menu.exec(self.list.mapToGlobal(pos))

    def _use_as(self, image_id: str, slot: int) -> None:
        pair = list(self._pair or (image_id, image_id))
        pair[slot] = image_id
        if pair[0] != pair[1] or self._pair is None:
            self.pairRequested.emit(tuple(pair))

