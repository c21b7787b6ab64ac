"""Entry point of the desktop app: `main()` creates the QApplication, applies the theme and opens the
main window with the default model and the first two sample images, when they exist."""

from __future__ import annotations

import os
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from g2g_desktop.core.resources import default_model_path, resource_path, sample_paths

from .main_window import MainWindow
from .settings import APPLICATION, ORGANISATION, AppSettings
from .theme import apply_theme
from .threads import exit_process


def create_window(model_path: str | os.PathLike | None = None, settings: AppSettings | None = None) -> MainWindow:
    """The main window with a model and the sample pair loading (both off the GUI thread)."""
    window = MainWindow(settings)
    model = model_path or default_model_path()
    if os.path.isfile(model):
        window.controller.open_model(model)
    else:
        window.set_missing_model(os.fspath(model))
    samples = sample_paths()[:2]
    if samples:
        window.controller.open_paths(samples)
    return window


def main(argv: list[str] | None = None, *, model_path: str | os.PathLike | None = None) -> int:
    argv = sys.argv[:1] if argv is None else [sys.argv[0] if sys.argv else "g2g-desktop", *argv]
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("G2G Desktop")
    app.setWindowIcon(QIcon(str(resource_path("icons", "g2g.svg"))))
    settings = AppSettings()
    apply_theme(app, settings.theme())
    window = create_window(model_path, settings)
    window.show()
    return exit_process(app.exec())  # a worker still inside a long torch call must not delay or abort the exit
