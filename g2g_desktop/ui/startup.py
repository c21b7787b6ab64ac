"""What the app does before torch has loaded: the display check, the first window's size and the
loading window.

Importing torch and the modules built on it takes seconds (issue 13 item 22), so this module and
everything it imports are torch-free: `app.main` shows `StartupWindow` at once and imports the main
window on a task thread behind it. The placement helpers serve both windows, so the main window
replaces the loading window exactly where it stood.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QVBoxLayout, QWidget

PREFERRED_SIZE = QSize(1400, 900)
SCREEN_FRACTION = 0.92
"""A first window takes at most this share of the screen's available width and height (logical pixels),
so the sliders and the status bar stay on screen with room for the window frame."""

HEADLESS_HINT = "run it in a desktop session, or use `g2g-desktop mix …` for headless work"


# ---------------------------------------------------------------------------------------- the display
def display_problem(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why no window can open, in words, or None. Only Linux/BSD need a display server named in the
    environment; Qt itself would abort with several lines of plugin advice (and a core dump)."""
    env = os.environ if environ is None else environ
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return f"no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset): {HEADLESS_HINT}"


def create_application(argv: list[str], fail: Callable[[str], None]) -> QApplication:
    """The QApplication; when Qt cannot start its platform plugin (e.g. DISPLAY names a server that is not
    there) `fail` gets one line and the process exits with status 2 instead of Qt's abort."""
    said: list[str] = []

    def handler(mode: QtMsgType, _context: object, message: str) -> None:
        if mode == QtMsgType.QtFatalMsg:
            reason = said[0] if said else message.splitlines()[0]
            fail(f"cannot open a window ({reason.strip().rstrip('.')}): {HEADLESS_HINT}")
            os._exit(2)  # Qt aborts after a fatal message; this is the only way around that
        said.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(previous)
    for line in said:  # a platform that started after all: its warnings are still worth seeing
        sys.stderr.write(line + "\n")
    return app


# ---------------------------------------------------------------------------------------- placement
def first_window_rect(available: QRect, preferred: QSize = PREFERRED_SIZE) -> QRect:
    """`preferred`, shrunk to fit `SCREEN_FRACTION` of the available screen area, centred in it."""
    width = min(preferred.width(), int(available.width() * SCREEN_FRACTION))
    height = min(preferred.height(), int(available.height() * SCREEN_FRACTION))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def fit_rect(rect: QRect, available: QRect) -> QRect:
    """`rect` made no larger than the available area and moved inside it (a restored geometry saved on a
    larger screen, or at another scale, must not leave the sliders off-screen)."""
    if available.isEmpty():
        return QRect(rect)
    width = min(rect.width(), int(available.width() * SCREEN_FRACTION))
    height = min(rect.height(), int(available.height() * SCREEN_FRACTION))
    left = min(max(rect.left(), available.left()), available.right() + 1 - width)
    top = min(max(rect.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


def available_area(window: QWidget) -> QRect:
    screen = window.screen() or QApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect()


def screen_size(window: QWidget) -> str:
    """The size of the screen area the window can use, e.g. "1024x700": the key a saved layout is kept under."""
    available = available_area(window)
    return f"{available.width()}x{available.height()}"


def place_window(window: QWidget, saved_geometry=None) -> None:
    """Restore `saved_geometry` (QWidget.saveGeometry bytes) or size a first window; then fit the screen.

    A first window on a screen smaller than `PREFERRED_SIZE` (1024×700: the grid, the docks and the sliders
    need all of it) is maximized instead of taking `SCREEN_FRACTION` of it."""
    available = available_area(window)
    if saved_geometry is None or not window.restoreGeometry(saved_geometry):
        if available.isEmpty():
            window.setGeometry(QRect(QPoint(0, 0), PREFERRED_SIZE))
        elif first_window_rect(available).size() != PREFERRED_SIZE:
            _maximize(window, available)
        else:
            window.setGeometry(first_window_rect(available))
        return
    if window.isMaximized() and not available.isEmpty():
        _maximize(window, available)
        return
    if not window.isMaximized() and not window.isFullScreen():
        fitted = fit_rect(window.geometry(), available)
        if fitted != window.geometry():
            window.setGeometry(fitted)


def _maximize(window: QWidget, available: QRect) -> None:
    """Maximized, over the available area also where no window manager maximizes it (Xvfb: a restored
    maximized window came back at 1022×595)."""
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMaximized)
    window.setGeometry(available)
    window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


# ---------------------------------------------------------------------------------------- loading window
class StartupWindow(QWidget):
    """The first window: up within a fraction of a second, saying what is loading, until the main window
    (which needs torch) takes its place at the same geometry."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("G2G Desktop")
        self.setObjectName("startupWindow")
        self.title = QLabel("G2G Desktop", alignment=Qt.AlignmentFlag.AlignCenter)
        self.title.setObjectName("emptyState")
        self.detail = QLabel("Loading torch and the model…", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator: animated by Qt alone, so it moves while imports run
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(320)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)

    def show_error(self, text: str) -> None:
        """Loading failed: say why in the window (and keep it open, so the message is read)."""
        self.progress.hide()
        self.detail.setText(f"G2G Desktop could not start:\n{text}")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
