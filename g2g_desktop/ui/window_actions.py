"""Menus, keyboard shortcuts and their handlers for the main window.

Each handler that asks for a file has a dialog-free twin taking the path (`export_grid(path)`, …), which
the dialogs and the tests both call. Exports ask for their options first (`ExportDialog`), remember them
and the folder last saved to.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from g2g_desktop.services.export import (
    MAX_EXPORT_SIDE,
    ExportOptions,
    fit_scale,
    grid_canvas,
    matrix_canvas,
    save_array_png,
)
from g2g_desktop.services.render_queue import RenderKind, RenderResult

from .dock_actions import DockAction
from .mix_controller import MixController
from .qt_images import array_to_qimage, qimage_to_pil
from .qt_text import QtTextPainter
from .settings import AppSettings, Recent, Theme
from .theme import apply_theme
from .widgets.export_dialog import ExportDialog, choices_of, options_from

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
MODEL_FILTER = "Models (*.safetensors *.pt);;All files (*)"


class WindowActions(QObject):
    """A QObject child of the window, so task results connected to its methods arrive on the GUI thread.

    It gets the window only as a `QMainWindow` (menu bar, status bar, dialogs' parent) and, by name, the few
    parts its menus act on; what it exports comes from the controller's last results and the session."""

    themeChanged = Signal(object)  # Theme, after it was applied to the application

    def __init__(self, window: QMainWindow, controller: MixController, settings: AppSettings, *,
                 undo_group: QUndoGroup, tabs: QTabWidget, matrix_view: QWidget,
                 docks: Sequence[tuple[QDockWidget, str | None]]):
        """`undo_group`: the Edit menu's Undo/Redo; `tabs`, `matrix_view`: View ▸ Mix / Swap matrix and the
        tab a matrix export shows its progress in; `docks`: the docks View shows and raises, with shortcuts."""
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.settings = settings
        self.tabs, self.matrix_view = tabs, matrix_view
        self.error_box: QMessageBox | None = None  # the last error dialog (non-blocking)
        self._paste_count = 0
        self.pending_matrix: tuple[str, ExportOptions] | None = None  # an export waiting for the matrix
        self.controller.exports.done.connect(self._exported)
        self.controller.rendered.connect(self._matrix_rendered)
        self._build_menus(undo_group, docks)

    # ------------------------------------------------------------------ menus
    def _action(self, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self, undo_group: QUndoGroup, docks: Sequence[tuple[QDockWidget, str | None]]) -> None:
        bar, w, c = self.window.menuBar(), self.window, self.controller
        file = self.file_menu = bar.addMenu("&File")
        self._action(file, "&Open images…", self.ask_images, QKeySequence.StandardKey.Open,
                     "Open image files (faces are detected when alignment is on)")
        self._action(file, "Open &folder…", self.ask_folder, "Ctrl+Shift+O", "Open every image in a folder")
        self._action(file, "Open &model…", self.ask_model, "Ctrl+M", "Open a G2G model or a FUNIT gen_*.pt")
        recent = ((Recent.FILES, "Recent &images"), (Recent.FOLDERS, "Recent f&olders"),
                  (Recent.MODELS, "Recent mo&dels"))
        self.recent_menus = {kind: file.addMenu(title) for kind, title in recent}
        for menu in self.recent_menus.values():
            menu.aboutToShow.connect(self._fill_recent)
        self._action(file, "&Paste image", self.paste, QKeySequence.StandardKey.Paste,
                     "Paste an image from the clipboard")
        file.addSeparator()
        self._action(file, "&Export grid as PNG…", self.ask_export_grid, "Ctrl+E", "Save the 3×2 grid")
        self._action(file, "Export &fade as GIF…", lambda: self.ask_export_fade(gif=True), "Ctrl+Shift+E",
                     "Save both mixes fading from their own identity to the other image's")
        self._action(file, "Export fade as PNG se&quence…", lambda: self.ask_export_fade(gif=False), None,
                     "Save the fade as numbered PNG files in a folder")
        self._action(file, "Export swap &matrix as PNG…", self.ask_export_matrix, "Ctrl+Alt+E",
                     "Save the N×N swap matrix")
        file.addSeparator()
        self.quit_action = self._action(file, "&Quit", w.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        self.undo_action = undo_group.createUndoAction(w, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = undo_group.createRedoAction(w, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([self.undo_action, self.redo_action])
        self._action(edit, "&Copy grid", self.copy_grid, QKeySequence.StandardKey.Copy, "Copy the grid image")
        self._action(edit, "Copy swap matri&x", self.copy_matrix, "Ctrl+Shift+C", "Copy the swap matrix image")
        self._action(edit, "Reset &fade", c.reset_alphas, "Ctrl+0", "Both fade sliders back to α = 1")
        self._action(edit, "Remove &all images", c.remove_all_images, None, "Empty the gallery")

        view = bar.addMenu("&View")
        self.dark_action = self._action(view, "&Dark theme", self.toggle_theme, "Ctrl+T", "Dark or light theme")
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.settings.theme() == Theme.DARK)
        self._action(view, "&Mix", lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(view, "&Swap matrix", lambda: self.tabs.setCurrentWidget(self.matrix_view), "Ctrl+2")
        self.dock_actions = [DockAction(dock, w, key) for dock, key in docks]
        view.addActions(self.dock_actions)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About G2G Desktop", self.about, QKeySequence.StandardKey.HelpContents)

    def add_file_actions(self, actions: Sequence[QAction]) -> None:
        """Put another part's actions into the File menu, above a separator before Quit."""
        for action in actions:
            self.file_menu.insertAction(self.quit_action, action)
        self.file_menu.insertSeparator(self.quit_action)

    def _fill_recent(self) -> None:
        for kind, menu in self.recent_menus.items():
            menu.clear()
            entries = self.settings.recent(kind)
            for path in entries:
                opener = self.open_model if kind == Recent.MODELS else lambda p: self.controller.open_paths([p])
                action = menu.addAction(path)
                action.triggered.connect(lambda _=False, p=path, o=opener: o(p))
            menu.setEnabled(bool(entries))

    # ------------------------------------------------------------------ opening
    def open_model(self, path: str) -> None:
        self.controller.open_model(path)

    def paste_image(self, image: QImage) -> None:
        """Add the image; like opened files it becomes (half of) the pair and is scrolled into view."""
        if image is None or image.isNull():
            self.window.statusBar().showMessage("The clipboard holds no image.", 8000)
            return
        self._paste_count += 1
        self.controller.open_pil(qimage_to_pil(image), f"clipboard {self._paste_count}")

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime is not None else []
        if paths:
            self.controller.open_paths(paths)
        else:
            self.paste_image(QGuiApplication.clipboard().image())

    def ask_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window, "Open images", self.settings.last_folder("open"),
                                                IMAGE_FILTER)
        if files:
            self.settings.set_last_folder("open", os.path.dirname(files[0]))
            self.controller.open_paths(files)

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of images",
                                                  self.settings.last_folder("open"))
        if folder:
            self.settings.set_last_folder("open", os.path.dirname(folder))
            self.controller.open_paths([folder])

    def ask_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", "", MODEL_FILTER)
        if path:
            self.open_model(path)

    def model_failed(self, message: str) -> None:
        self.error_box = QMessageBox(QMessageBox.Icon.Warning, "Could not load the model", message,
                                     QMessageBox.StandardButton.Ok, self.window)
        self.error_box.open()

    # ------------------------------------------------------------------ export and clipboard
    def _grid(self, options: ExportOptions | None = None):
        shown = self.controller.shown_grid()
        if shown is None:
            return None
        return grid_canvas(shown.images, options, shown.names, shown.alphas, QtTextPainter())

    def _matrix(self, options: ExportOptions | None = None):
        result = self.controller.last.get(RenderKind.MATRIX)
        wanted = self.controller.session.request(RenderKind.MATRIX, 0)
        if result is None or wanted is None or result.request.key != wanted.key:
            return None  # not computed, or computed for images since changed
        names = [im.name if im else "" for im in map(self.controller.session.image, result.request.image_ids)]
        if options is not None:
            side = (len(names) + 1) * result.images["originals"].shape[1]
            fitted = fit_scale(options, side)
            if fitted != options:
                self.window.statusBar().showMessage(
                    f"Swap matrix exported at {fitted.scale}× instead of {options.scale}×: it would be wider "
                    f"than {MAX_EXPORT_SIDE} px.", 15000)
            options = fitted
        return matrix_canvas(result.images["originals"], result.images["matrix"], options, names, QtTextPainter())

    def export_grid(self, path: str | os.PathLike, options: ExportOptions | None = None) -> Path | None:
        canvas = self._grid(options)
        return None if canvas is None else save_array_png(canvas, path)

    def export_matrix(self, path: str | os.PathLike, options: ExportOptions | None = None) -> Path | None:
        """Save the swap matrix; when it is not computed yet, compute it and save it when done (None now)."""
        canvas = self._matrix(options)
        if canvas is not None:
            return save_array_png(canvas, path)
        if self.controller.session.request(RenderKind.MATRIX, 0) is None:
            return None
        self.pending_matrix = (os.fspath(path), options or ExportOptions(scale=1, labels=False))
        self.tabs.setCurrentWidget(self.matrix_view)  # shows the progress and Cancel
        self.controller.compute_matrix()
        self.window.statusBar().showMessage("Computing the swap matrix to export it…", 8000)
        return None

    def _matrix_rendered(self, result: RenderResult) -> None:
        if result.request.kind != RenderKind.MATRIX or self.pending_matrix is None:
            return
        path, options = self.pending_matrix
        self.pending_matrix = None
        if result.final:
            self.window.statusBar().showMessage(f"Saved {self.export_matrix(path, options)}", 8000)
        else:
            self.window.statusBar().showMessage("The swap matrix was not exported.", 8000)

    def export_fade(self, path: str | os.PathLike, options: ExportOptions | None = None) -> bool:
        """Start writing the fade on a task thread; False when there is no pair to fade."""
        return self.controller.export_fade(path, options)

    def _nothing(self, what: str) -> None:
        self.window.statusBar().showMessage(f"Nothing to export: {what} is empty.", 8000)

    def ask_options(self, title: str, *, fade: bool, gif: bool = False) -> ExportOptions | None:
        dialog = ExportDialog(title, options_from(self.settings.export_choices()), fade=fade, gif=gif,
                              parent=self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        options = dialog.options()
        self.settings.set_export_choices(choices_of(options))
        return options

    def ask_save(self, title: str, name: str, file_filter: str) -> str:
        folder = self.settings.last_folder("export")
        path, _ = QFileDialog.getSaveFileName(self.window, title, os.path.join(folder, name), file_filter)
        if path:
            self.settings.set_last_folder("export", os.path.dirname(path) or ".")
        return path

    def ask_export_grid(self) -> None:
        if self._grid() is None:
            return self._nothing("the grid")
        options = self.ask_options("Export grid", fade=False)
        path = options and self.ask_save("Export grid", "g2g_grid.png", "PNG (*.png)")
        if path:
            self.window.statusBar().showMessage(f"Saved {self.export_grid(path, options)}", 8000)

    def ask_export_matrix(self) -> None:
        if self.controller.session.request(RenderKind.MATRIX, 0) is None:
            return self._nothing("the swap matrix")
        options = self.ask_options("Export swap matrix", fade=False)
        path = options and self.ask_save("Export swap matrix", "g2g_matrix.png", "PNG (*.png)")
        if path:
            saved = self.export_matrix(path, options)
            if saved is not None:
                self.window.statusBar().showMessage(f"Saved {saved}", 8000)

    def ask_export_fade(self, gif: bool) -> None:
        if self.controller.session.request(RenderKind.GRID, 0) is None:
            return self._nothing("the grid")
        options = self.ask_options("Export fade", fade=True, gif=gif)
        if options is None:
            return
        if gif:
            path = self.ask_save("Export fade", "g2g_fade.gif", "GIF (*.gif)")
        else:
            path = QFileDialog.getExistingDirectory(self.window, "Folder for the PNG sequence",
                                                    self.settings.last_folder("export"))
            if path:
                self.settings.set_last_folder("export", path)
        if path:
            self.export_fade(path, options)

    def _exported(self, _stamp: int, written: list[Path]) -> None:
        where = written[0] if len(written) == 1 else f"{len(written)} frames in {written[0].parent}"
        self.window.statusBar().showMessage(f"Saved {where}", 8000)

    def copy_grid(self) -> None:
        canvas = self._grid()
        if canvas is None:
            return self._nothing("the grid")
        QGuiApplication.clipboard().setImage(array_to_qimage(canvas))

    def copy_matrix(self) -> None:
        canvas = self._matrix()
        if canvas is None:
            return self._nothing("the swap matrix")
        QGuiApplication.clipboard().setImage(array_to_qimage(canvas))

    # ------------------------------------------------------------------ appearance and about
    def toggle_theme(self) -> None:
        theme = Theme.DARK if self.dark_action.isChecked() else Theme.LIGHT
        self.settings.set_theme(theme)
        apply_theme(QApplication.instance(), theme)
        self.themeChanged.emit(theme)

    def about_text(self) -> str:
        import PySide6
        import torch

        from g2g_desktop import __version__

        cuda = torch.version.cuda or "none"
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not available"
        return (
            f"<h3>G2G Desktop {__version__}</h3>"
            "<p>Disentangled face mixing after “G2G – Disentanglement by Cross-Training”, on FUNIT-compatible "
            "networks.</p>"
            f"<p>Python {platform.python_version()} ({sys.platform})<br>torch {torch.__version__}<br>"
            f"CUDA {cuda} (GPU: {device})<br>Qt {qVersion()} · PySide6 {PySide6.__version__}</p>"
        )

    def about(self) -> None:
        QMessageBox.about(self.window, "About G2G Desktop", self.about_text())
