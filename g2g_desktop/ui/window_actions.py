"""Menus, keyboard shortcuts and their handlers for the main window.

Each handler that asks for a file has a dialog-free twin taking the path (`export_grid(path)`, …), which
the dialogs and the tests both call.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, qVersion
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from .export import export_fade, grid_canvas, save_array_png
from .qt_images import array_to_qimage, qimage_to_pil
from .theme import apply_theme

if TYPE_CHECKING:
    from .main_window import MainWindow

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
MODEL_FILTER = "Models (*.safetensors *.pt);;All files (*)"


class WindowActions(QObject):
    """A QObject child of the window, so task results connected to its methods arrive on the GUI thread."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.settings = window.settings
        self.error_box: QMessageBox | None = None  # the last error dialog (non-blocking)
        self._paste_count = 0
        self.controller.tasks.finished.connect(self._task_done)
        self._build_menus()

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

    def _build_menus(self) -> None:
        bar, w, c = self.window.menuBar(), self.window, self.controller
        file = bar.addMenu("&File")
        self._action(file, "&Open images…", self.ask_images, QKeySequence.StandardKey.Open,
                     "Open image files (faces are detected when alignment is on)")
        self._action(file, "Open &folder…", self.ask_folder, "Ctrl+Shift+O", "Open every image in a folder")
        self._action(file, "Open &model…", self.ask_model, "Ctrl+M", "Open a G2G model or a FUNIT gen_*.pt")
        recent = (("files", "Recent &images"), ("folders", "Recent f&olders"), ("models", "Recent mo&dels"))
        self.recent_menus = {kind: file.addMenu(title) for kind, title in recent}
        for menu in self.recent_menus.values():
            menu.aboutToShow.connect(self._fill_recent)
        self._action(file, "&Paste image", self.paste, QKeySequence.StandardKey.Paste,
                     "Paste an image from the clipboard")
        file.addSeparator()
        self._action(file, "&Export grid as PNG…", self.ask_export_grid, "Ctrl+E", "Save the 3×2 grid")
        self._action(file, "Export &fade as GIF…", lambda: self.ask_export_fade(gif=True), "Ctrl+Shift+E",
                     "Save mix 1 fading from image 1's identity to image 2's")
        self._action(file, "Export fade as PNG se&quence…", lambda: self.ask_export_fade(gif=False), None,
                     "Save the fade as numbered PNG files in a folder")
        self._action(file, "Export swap &matrix as PNG…", self.ask_export_matrix, "Ctrl+Alt+E",
                     "Save the N×N swap matrix")
        file.addSeparator()
        self._action(file, "&Quit", w.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        undo = c.undo_stack.createUndoAction(w, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = c.undo_stack.createRedoAction(w, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        self._action(edit, "&Copy grid", self.copy_grid, QKeySequence.StandardKey.Copy, "Copy the grid image")
        self._action(edit, "Copy swap matri&x", self.copy_matrix, "Ctrl+Shift+C", "Copy the swap matrix image")
        self._action(edit, "Reset &fade", c.reset_alphas, "Ctrl+0", "Both fade sliders back to α = 1")

        view = bar.addMenu("&View")
        self.dark_action = self._action(view, "&Dark theme", self.toggle_theme, "Ctrl+T", "Dark or light theme")
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.settings.theme() == "dark")
        self._action(view, "&Mix", lambda: w.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(view, "&Swap matrix", lambda: w.tabs.setCurrentWidget(w.matrix_view), "Ctrl+2")
        for dock, key in ((w.images_dock, "Ctrl+Shift+I"), (w.model_dock, None), (w.training_dock, "Ctrl+Shift+T")):
            action = dock.toggleViewAction()
            if key:
                action.setShortcut(QKeySequence(key))
            view.addAction(action)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About G2G Desktop", self.about, QKeySequence.StandardKey.HelpContents)

    def _fill_recent(self) -> None:
        for kind, menu in self.recent_menus.items():
            menu.clear()
            entries = self.settings.recent(kind)
            for path in entries:
                opener = self.open_model if kind == "models" else lambda p: self.open_paths([p])
                action = menu.addAction(path)
                action.triggered.connect(lambda _=False, p=path, o=opener: o(p))
            menu.setEnabled(bool(entries))

    # ------------------------------------------------------------------ opening
    def open_paths(self, paths: list[str]) -> None:
        for p in paths:
            self.settings.add_recent("folders" if os.path.isdir(p) else "files", p)
        self.controller.open_paths(paths)

    def open_model(self, path: str) -> None:
        self.controller.open_model(path)

    def paste_image(self, image: QImage) -> None:
        if image is None or image.isNull():
            self.window.statusBar().showMessage("The clipboard holds no image.", 8000)
            return
        self._paste_count += 1
        self.controller.open_pil(qimage_to_pil(image), f"clipboard {self._paste_count}")

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime is not None else []
        if paths:
            self.open_paths(paths)
        else:
            self.paste_image(QGuiApplication.clipboard().image())

    def ask_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window, "Open images", "", IMAGE_FILTER)
        if files:
            self.open_paths(files)

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of images")
        if folder:
            self.open_paths([folder])

    def ask_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", "", MODEL_FILTER)
        if path:
            self.open_model(path)

    def model_failed(self, message: str) -> None:
        self.error_box = QMessageBox(QMessageBox.Icon.Warning, "Could not load the model", message,
                                     QMessageBox.StandardButton.Ok, self.window)
        self.error_box.open()

    # ------------------------------------------------------------------ export and clipboard
    def _grid(self):
        return grid_canvas(self.window.grid_view.images) if self.window.grid_view.images else None

    def export_grid(self, path: str | os.PathLike) -> Path | None:
        canvas = self._grid()
        return None if canvas is None else save_array_png(canvas, path)

    def export_matrix(self, path: str | os.PathLike) -> Path | None:
        canvas = self.window.matrix_view.canvas
        return None if canvas is None else save_array_png(canvas, path)

    def export_fade(self, path: str | os.PathLike) -> bool:
        """Start writing the fade on a task thread; False when there is no pair to fade."""
        request = self.controller.session.request("grid", 0)
        if request is None:
            return False
        self.controller.tasks.submit("export", export_fade, self.controller.renderer, request, os.fspath(path))
        return True

    def _nothing(self, what: str) -> None:
        self.window.statusBar().showMessage(f"Nothing to export: {what} is empty.", 8000)

    def ask_export_grid(self) -> None:
        if self._grid() is None:
            return self._nothing("the grid")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export grid", "g2g_grid.png", "PNG (*.png)")
        if path:
            self.window.statusBar().showMessage(f"Saved {self.export_grid(path)}", 8000)

    def ask_export_matrix(self) -> None:
        if self.window.matrix_view.canvas is None:
            return self._nothing("the swap matrix")
        path, _ = QFileDialog.getSaveFileName(self.window, "Export swap matrix", "g2g_matrix.png", "PNG (*.png)")
        if path:
            self.window.statusBar().showMessage(f"Saved {self.export_matrix(path)}", 8000)

    def ask_export_fade(self, gif: bool) -> None:
        if self.controller.session.request("grid", 0) is None:
            return self._nothing("the grid")
        if gif:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export fade", "g2g_fade.gif", "GIF (*.gif)")
        else:
            path = QFileDialog.getExistingDirectory(self.window, "Folder for the PNG sequence")
        if path:
            self.export_fade(path)

    def _task_done(self, name: str, result: object) -> None:
        if name == "export":
            where = result[0] if len(result) == 1 else f"{len(result)} frames in {result[0].parent}"
            self.window.statusBar().showMessage(f"Saved {where}", 8000)

    def copy_grid(self) -> None:
        canvas = self._grid()
        if canvas is None:
            return self._nothing("the grid")
        QGuiApplication.clipboard().setImage(array_to_qimage(canvas))

    def copy_matrix(self) -> None:
        if self.window.matrix_view.canvas is None:
            return self._nothing("the swap matrix")
        QGuiApplication.clipboard().setImage(array_to_qimage(self.window.matrix_view.canvas))

    # ------------------------------------------------------------------ appearance and about
    def toggle_theme(self) -> None:
        theme = "dark" if self.dark_action.isChecked() else "light"
        self.settings.set_theme(theme)
        apply_theme(QApplication.instance(), theme)
        panel = self.window.built_training_panel()  # a panel built later reads the theme itself
        if panel is not None:
            panel.chart.follow_theme()

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
