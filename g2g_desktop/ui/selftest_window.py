"""The self-test's window check: the app's real main window renders the sample pair, then closes, and the
work it started (the identity judge's fade curve, …) ends before the check does.

It goes through `create_window`, like a normal start (theme, default model, first two samples), but
with throw-away settings so a self-test never changes the user's window geometry or recent files.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QMessageLogContext, QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from g2g_desktop.core.resources import resource_path
from g2g_desktop.services.render_queue import RenderKind, RenderResult

from . import app as app_module
from .app import create_window
from .settings import AppSettings, Theme
from .theme import apply_theme
from .threads import running_workers, wait_for_workers


class WindowCheckError(Exception):
    """The window opened but did not show a mixed grid (or did not close)."""


def _quiet_offscreen(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's message handler minus the offscreen plugin's harmless note, repeated for every dock widget."""
    if "does not support propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def open_and_close_main_window(model_path: str | os.PathLike, timeout_s: float = 120.0) -> str:
    """Open the main window, wait for the first rendered grid of the sample pair, close; one-line summary."""
    if not Path(model_path).is_file():
        raise WindowCheckError(f"main window: no model at {model_path}")
    if len(app_module.sample_paths()) < 2:
        raise WindowCheckError(f"main window: fewer than two sample images in {resource_path('samples')}")
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "g2g-desktop"])
    start = time.perf_counter()
    outcome: dict[str, object] = {}
    loop = QEventLoop()

    def rendered(result: RenderResult) -> None:
        if result.request.kind == RenderKind.GRID:
            outcome["result"] = result
            loop.quit()

    def failed(message: str) -> None:
        outcome["error"] = message
        loop.quit()

    previous_handler = qInstallMessageHandler(_quiet_offscreen)
    try:
        with tempfile.TemporaryDirectory(prefix="g2g-selftest-settings-") as tmp:
            settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
            apply_theme(app, Theme.DARK)
            window = create_window(model_path, settings)
            window.controller.rendered.connect(rendered)
            window.controller.modelFailed.connect(failed)
            window.controller.renderFailed.connect(failed)
            window.show()
            deadline = QTimer(singleShot=True, interval=int(timeout_s * 1000))
            deadline.timeout.connect(loop.quit)
            deadline.start()
            loop.exec()
            deadline.stop()
            size = window.grab().size()
            closed = window.close()
            app.processEvents()
            # The window exits without waiting for work such as the judge's fade curve (`exit_process`); the
            # self-test returns through the interpreter's exit instead, which aborts under a running torch or
            # dlib call ("terminate called without an active exception"), so it waits for that work here.
            settled = wait_for_workers(timeout_s)
    finally:
        qInstallMessageHandler(previous_handler)
    if "error" in outcome:
        raise WindowCheckError(f"main window: {outcome['error']}")
    result = outcome.get("result")
    if result is None:
        raise WindowCheckError(f"main window showed no mixed grid within {timeout_s:.0f} s")
    if result.error:
        raise WindowCheckError(f"main window could not render the grid: {result.error}")
    if not closed:
        raise WindowCheckError("main window refused to close")
    if not settled:
        raise WindowCheckError(f"main window closed, but its work went on for more than {timeout_s:.0f} s: "
                               f"{', '.join(running_workers())}")
    return (f"{size.width()}x{size.height()} window ({app.platformName()}), grid rendered "
            f"{time.perf_counter() - start:.1f} s after opening, closed")
