"""`MainWindow`: lays out the mixing view, the image and model docks and the training dock.

It only arranges widgets and forwards their signals to the `MixController`; menus and their handlers
live in `window_actions.py`. Its helpers (`WindowActions`, `PhotoTools`, `TrainingDock`) get only the parts
they act on, as constructor arguments, and none of them imports this module, so each can change (or be
tested) without the whole window. The Training dock's panel (and with it the trainer, torchvision and
facenet-pytorch, about 2 s of imports and 250 MB) is built when the dock is first shown (`TrainingDock`).

The mix view and the training dock keep separate undo stacks in one QUndoGroup: Ctrl+Z acts on the
stack of the part of the window that has focus.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from g2g_desktop.core.face_align import Detector
from g2g_desktop.services.models import LoadedModel
from g2g_desktop.services.render_queue import RenderKind, RenderResult

from .gui_thread_policy import GuiThreadPolicy
from .mix_controller import MixController
from .photo_tools import PhotoTools
from .session_store import save_session
from .settings import AppSettings
from .startup import PREFERRED_SIZE, place_window, screen_size
from .training.dock import TrainingDock
from .widgets.cell_zoom import CellZoom
from .widgets.face_panel import FacePanel
from .widgets.fade_sliders import FadeSliders
from .widgets.gallery import ImageGallery
from .widgets.identity_meter import IdentityMeter
from .widgets.mix_grid import MixGridView
from .widgets.model_info import ModelInfo
from .widgets.notice_bar import NoticeBar
from .widgets.page_scroll import vertical_scroll
from .widgets.photo_view import PhotoView
from .widgets.purpose_bar import ModelPurposeBar
from .widgets.swap_matrix import SwapMatrixView, matrix_note
from .widgets.task_progress import TaskProgress
from .window_actions import WindowActions

if TYPE_CHECKING:
    from .training.training_panel import TrainingPanel

EMPTY_NO_MODEL = "No model loaded.\nOpen a model file (File ▸ Open model…, Ctrl+M) to start mixing."
EMPTY_NO_PAIR = "Drop two or more images (or a folder) here, paste one (Ctrl+V) or open them (Ctrl+O)."
CLOSE_GRACE_S = 0.8  # closing waits this long in all for workers and a trainer import; the rest: exit_process


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, *, detector: Detector | None = None):
        super().__init__()
        self.setWindowTitle("G2G Desktop")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.thread_policy = GuiThreadPolicy(self)  # before any worker thread starts
        self.thread_policy.start()
        self.no_model_text = EMPTY_NO_MODEL
        self.no_pair_text = EMPTY_NO_PAIR
        self.controller = MixController(self.settings, self, detector=detector)
        self.session = self.controller.session

        # central: notice bar over the tabs (grid + sliders, swap matrix)
        self.notice_bar = NoticeBar()
        self.grid_view = MixGridView()
        self.sliders = FadeSliders()
        self.matrix_view = SwapMatrixView()
        mix_page = QWidget()
        mix_layout = QVBoxLayout(mix_page)
        mix_layout.addWidget(self.grid_view, 1)
        self.identity_meter = IdentityMeter()
        mix_layout.addWidget(self.identity_meter)
        mix_layout.addWidget(self.sliders)
        self.photo_view = PhotoView()
        self.purpose_bar = ModelPurposeBar()
        self.tabs = QTabWidget()
        self.tabs.addTab(vertical_scroll(mix_page), "Mix")
        self.tabs.addTab(self.matrix_view, "Swap matrix")
        self.tabs.addTab(self.photo_view, "Photo")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.notice_bar)
        layout.addWidget(self.purpose_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        # left: images, alignment, faces
        self.gallery = ImageGallery()
        self.align_box = QCheckBox("Detect and align faces")
        self.align_box.setToolTip(
            "Find faces with MTCNN and align the largest one to the model's crop.\n"
            "Switch off for animal or synthetic images. Remembered per model."
        )
        self.face_panel = FacePanel()
        images = QWidget()
        images_layout = QVBoxLayout(images)
        images_layout.addWidget(self.gallery, 2)
        images_layout.addWidget(self.align_box)
        images_layout.addWidget(self.face_panel, 2)
        self.images_dock = self.add_dock("Images", images, Qt.DockWidgetArea.LeftDockWidgetArea)

        # right: model info, training
        self.model_info = ModelInfo()
        self.model_dock = self.add_dock("Model", self.model_info, Qt.DockWidgetArea.RightDockWidgetArea)
        self.training = TrainingDock(self, self.settings, self.controller.use_model)
        self.training_dock, self.training_undo = self.training.dock, self.training.undo_stack
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.training_dock)
        self.tabifyDockWidget(self.model_dock, self.training_dock)
        self.model_dock.raise_()
        self.model_label = QLabel("No model")
        self.export_progress = TaskProgress()
        self.statusBar().addPermanentWidget(self.export_progress)
        self.statusBar().addPermanentWidget(self.model_label)
        self.zoom_view = CellZoom(self)
        self.undo_group = QUndoGroup(self)
        for stack in (self.controller.undo_stack, self.training_undo):
            self.undo_group.addStack(stack)
        self.undo_group.setActiveStack(self.controller.undo_stack)
        QApplication.instance().focusChanged.connect(self._focus_changed)

        self.actions = WindowActions(
            self, self.controller, self.settings, undo_group=self.undo_group, tabs=self.tabs,
            matrix_view=self.matrix_view,
            docks=[(self.images_dock, "Ctrl+Shift+I"), (self.model_dock, None), (self.training_dock, "Ctrl+Shift+T")])
        self._connect()
        self.photo_tools = PhotoTools(  # after _connect: its slots run after the window's own
            self, self.controller, meter=self.identity_meter, photo_view=self.photo_view, purpose_bar=self.purpose_bar,
            photo_shown=lambda: self.tabs.currentWidget() is self.photo_view, ask_model=self.actions.ask_model,
            training_form=self.training.show_form)
        self.actions.add_file_actions(self.photo_tools.file_actions())
        self.tabs.currentChanged.connect(lambda _i: self.photo_tools.refresh_photos())
        self._show_model(None)
        self.refresh_empty_state()
        geometry, state = self.settings.geometry(screen_size(self)), self.settings.window_state()
        place_window(self, geometry)
        if state is not None:  # which docks are open, tabbed or floating
            self.restoreState(state)
        if geometry is None:  # a first window, or one saved on a screen of another size: default dock widths
            share = min(1.0, self.width() / PREFERRED_SIZE.width())
            widths = [round(300 * share), round(430 * share)]
            self.resizeDocks([self.images_dock, self.model_dock], widths, Qt.Orientation.Horizontal)

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    # ------------------------------------------------------------------ the Training dock, built on demand
    @property
    def training_panel(self) -> TrainingPanel:
        """The panel, built now if the dock was never shown (tests and scripts reach for it directly)."""
        return self.training.build()

    def _connect(self) -> None:
        c, s = self.controller, self.session
        c.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.notice.connect(self.notice_bar.show_notice)
        c.rendered.connect(self._show_result)
        c.modelLoaded.connect(self._show_model)
        c.modelFailed.connect(self._model_failed)
        c.modelLoading.connect(self._model_loading)
        c.imagesLoading.connect(self._images_loading)
        c.imagesLoaded.connect(self._images_settled)
        c.image_loads.failed.connect(self._images_settled)
        c.renderProgress.connect(self._show_progress)
        c.matrixStarted.connect(self.matrix_view.begin)
        self.matrix_view.cancelRequested.connect(c.cancel_matrix)
        self.matrix_view.computeRequested.connect(c.compute_matrix)
        self.grid_view.cellZoomRequested.connect(self.zoom_cell)
        self.export_progress.cancelRequested.connect(c.cancel_export)
        c.exports.progress.connect(self._export_progress)
        c.exports.cancelled.connect(self._export_cancelled)
        c.exports.failed.connect(lambda _stamp, _message: self.export_progress.finish())
        c.exports.done.connect(lambda _stamp, _written: self.export_progress.finish())
        self.actions.themeChanged.connect(lambda _theme: self.training.follow_theme())
        s.imagesChanged.connect(self._images_changed)
        s.imagesChanged.connect(lambda: self.gallery.mark_groups(s.groups))
        s.pairChanged.connect(self._pair_changed)
        s.alphasChanged.connect(lambda: self.sliders.set_alphas(s.alphas))
        s.alphasChanged.connect(lambda: self.grid_view.set_mixed_title(s.alphas))
        s.alignChanged.connect(self._align_changed)
        s.modelChanged.connect(self.refresh_empty_state)
        self.sliders.alphasChanged.connect(c.preview_alphas)
        self.sliders.alphaCommitted.connect(c.commit_alpha)
        self.sliders.reset_button.clicked.connect(c.reset_alphas)
        self.gallery.pairRequested.connect(c.request_pair)
        self.gallery.removeRequested.connect(lambda image_id: c.remove_images([image_id]))
        self.gallery.removeAllRequested.connect(c.remove_all_images)
        self.gallery.orderChanged.connect(c.move_images)
        self.gallery.currentChanged.connect(lambda _id: self._show_faces())
        self.gallery.samePersonRequested.connect(s.set_same_person)
        self.face_panel.faceChosen.connect(c.choose_face)
        self.align_box.toggled.connect(c.request_align)
        self.tabs.currentChanged.connect(lambda i: c.set_matrix_wanted(self.tabs.widget(i) is self.matrix_view))

    # ------------------------------------------------------------------ reflecting the session
    def _model_loading(self, path: str) -> None:
        self.no_model_text = f"Loading the model {os.path.basename(path)}…"
        self.refresh_empty_state()

    def _images_loading(self, count: int) -> None:
        self.no_pair_text = f"Loading {count} image(s)…"
        self.refresh_empty_state()

    def _images_settled(self, *_args) -> None:
        self.no_pair_text = EMPTY_NO_PAIR
        self.refresh_empty_state()

    def _model_failed(self, message: str) -> None:
        self.no_model_text = EMPTY_NO_MODEL
        self.refresh_empty_state()
        self.actions.model_failed(message)

    def set_missing_model(self, path: str) -> None:
        """Say in the empty state that the model to open at start-up does not exist."""
        self.no_model_text = f"No model found at\n{path}\n\n{EMPTY_NO_MODEL}"
        self.statusBar().showMessage(f"No model at {path}: open one with File ▸ Open model… (Ctrl+M).", 15000)
        self.refresh_empty_state()

    def refresh_empty_state(self) -> None:
        if self.session.model is None:
            self.grid_view.show_empty(self.no_model_text)
        elif self.session.pair_images() is None:
            self.grid_view.show_empty(self.no_pair_text)
        if len(self.session.images) < 2 or self.session.model is None:
            self.matrix_view.show_empty("Load a model and at least two images to see the swap matrix.")

    def _images_changed(self) -> None:
        self.gallery.set_images(self.session.images, self.session.pair)
        self._show_faces()
        self.refresh_empty_state()

    def _pair_changed(self) -> None:
        self.gallery.set_pair(self.session.pair)
        pair = self.session.pair_images()
        if pair:
            self.grid_view.set_titles(pair[0].name, pair[1].name)
        self._show_faces()
        self.refresh_empty_state()

    def _align_changed(self) -> None:
        with QSignalBlocker(self.align_box):
            self.align_box.setChecked(self.session.align)
        self._show_faces()

    def _show_faces(self) -> None:
        image_id = self.gallery.current_id() or (self.session.pair[0] if self.session.pair else None)
        if image_id is None and self.session.images:
            image_id = self.session.images[0].id
        image = self.session.image(image_id) if image_id else None
        size = self.session.model.image_size if self.session.model else 64
        self.face_panel.show_image(image, align=self.session.align, size=size)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Undo follows focus: the training dock's stack inside the dock, the mix view's elsewhere in the window."""
        if new is None or new.window() is not self:
            return
        in_training = self.training_dock.isAncestorOf(new) or new is self.training_dock
        self.undo_group.setActiveStack(self.training_undo if in_training else self.controller.undo_stack)

    def zoom_cell(self, row: str, col: int) -> None:
        shown = self.controller.shown_grid()
        if shown is not None:
            self.zoom_view.show_cell(shown.images, row, col, shown.names)

    def _show_progress(self, result: RenderResult) -> None:
        if result.request.kind == RenderKind.MATRIX:
            self.matrix_view.show_rows(result.images["originals"], result.images["matrix"])

    def _export_progress(self, done: int, total: int) -> None:
        if self.export_progress.isHidden():
            self.export_progress.start("Exporting the fade…", total)
        self.export_progress.step(done, total)

    def _export_cancelled(self, _stamp: int) -> None:
        self.export_progress.finish()
        self.statusBar().showMessage("Export cancelled: nothing was written.", 8000)

    def _show_result(self, result: RenderResult) -> None:
        if result.cancelled:
            self.matrix_view.show_cancelled()
        elif result.error:
            if result.request.kind == RenderKind.GRID:
                self.grid_view.show_empty(f"Could not render: {result.error}")
            else:
                self.matrix_view.show_empty(f"Could not render: {result.error}")
        elif result.request.kind == RenderKind.GRID:
            self.grid_view.show_images(result.images)
            shown = self.controller.shown_grid()
            if self.zoom_view.isVisible() and shown is not None:
                self.zoom_view.update_images(shown.images, shown.names)
        else:
            self.matrix_view.show_matrix(result.images["originals"], result.images["matrix"])
            self.matrix_view.set_note(matrix_note(len(result.request.image_ids), len(self.session.images)))

    def _show_model(self, model: LoadedModel | None) -> None:
        self.model_info.show_model(model)
        self.model_label.setText("No model" if model is None else model.summary())

    # ------------------------------------------------------------------ session
    def save_session(self) -> None:
        """What the next start reopens: the model file, the image files (the pair first, the same-person groups),
        the training form."""
        s = self.session
        model = s.model.path if s.model is not None else None
        files = {im.id: im.path for im in s.images if im.path is not None}
        pair = [files[i] for i in s.pair or () if i in files]
        groups = [[files[i] for i in group if i in files] for group in s.groups]
        save_session(self.settings.qsettings, model, list(files.values()), pair, groups)
        self.training.save_form()

    # ------------------------------------------------------------------ drops and closing
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if paths:
            self.controller.open_paths(paths)
            event.acceptProposedAction()
        elif mime.hasImage():
            self.actions.paste_image(mime.imageData())
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.training.confirm_close():
            event.ignore()
            return
        self.settings.set_geometry(self.saveGeometry(), self.saveState(), screen_size(self))
        self.save_session()
        self.settings.sync()
        self.hide()  # gone at once, even while the workers are given their moment to stop
        self.shutdown(CLOSE_GRACE_S)
        self.thread_policy.stop()
        event.accept()

    def shutdown(self, timeout: float) -> None:
        """Stop all mixing and photo work, a trainer import in progress and a training run the user chose to
        quit without saving (*Save and quit* closes the window only after its run has ended: `QuitGuard`),
        waiting `timeout` s in all: a step, a torch or dlib call or an import that takes longer is left
        running and the process exits without it. A panel never built is not built now (that would import
        the trainer)."""
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        self.training.stop_training()
        self.controller.shutdown(timeout)
        self.photo_tools.shutdown(left())
        self.training.shutdown(left)
