"""The window's helpers work from what they are handed (issue 22 item 4): no `MainWindow`, no widget read back."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QUndoGroup
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget, QWidget

from g2g_desktop.services.export import ExportOptions, grid_canvas
from g2g_desktop.services.render_queue import RenderKind
from g2g_desktop.ui.mix_controller import MixController
from g2g_desktop.ui.qt_text import QtTextPainter
from g2g_desktop.ui.settings import AppSettings
from g2g_desktop.ui.window_actions import WindowActions
from tests.ui.factories import TIMEOUT, FakeDetector, grid_with


def test_window_actions_export_the_controllers_grid_on_a_bare_main_window(qtbot, tiny_model, image_files, tmp_path):
    host = QMainWindow()
    qtbot.addWidget(host)
    settings = AppSettings()
    controller = MixController(settings, host, detector=FakeDetector())
    tabs, matrix_view = QTabWidget(), QWidget()
    tabs.addTab(matrix_view, "Swap matrix")
    actions = WindowActions(host, controller, settings, undo_group=QUndoGroup(host), tabs=tabs,
                            matrix_view=matrix_view, docks=[(QDockWidget("Images", host), None)])
    try:
        with qtbot.waitSignal(controller.modelLoaded, timeout=TIMEOUT):
            controller.open_model(tiny_model)
        with qtbot.waitSignal(controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with()):
            controller.open_paths(image_files[:2])
        shown = controller.shown_grid()
        assert shown.names == ("person0.png", "person1.png") and shown.alphas == (1.0, 1.0)
        assert shown.images is controller.last[RenderKind.GRID].images
        options = ExportOptions(scale=1, labels=True)
        written = np.asarray(Image.open(actions.export_grid(tmp_path / "grid.png", options)).convert("RGB"))
        np.testing.assert_array_equal(written, grid_canvas(shown.images, options, shown.names, shown.alphas,
                                                           QtTextPainter()))
        assert settings.recent("files")[0].endswith("person1.png")  # the one way in keeps the recent files
        controller.session.set_pair(None)  # no pair: nothing shown, nothing to export
        assert controller.shown_grid() is None and actions.export_grid(tmp_path / "none.png") is None
    finally:
        controller.shutdown(10)
