"""Dark (qdarkstyle) and light (Qt's Fusion palette) themes."""

from __future__ import annotations

import qdarkstyle
from PySide6.QtWidgets import QApplication

from .settings import Theme

EXTRA = """
QLabel#emptyState { font-size: 15px; padding: 24px; }
QFrame#noticeBar { border: 1px solid #c9a227; border-radius: 4px; }
"""


def apply_theme(app: QApplication, theme: Theme) -> None:
    app.setStyle("Fusion")
    app.setProperty("g2gTheme", Theme(theme).value)
    if theme == Theme.DARK:
        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6") + EXTRA)
    else:
        app.setStyleSheet(EXTRA)
        app.setPalette(app.style().standardPalette())


def is_dark_theme() -> bool:
    """qdarkstyle themes through a style sheet, not the palette, so the choice is kept as a property."""
    app = QApplication.instance()
    return app is not None and app.property("g2gTheme") == Theme.DARK.value
