"""A page that scrolls vertically rather than being squeezed below its minimum height.

The Mix tab's grid has a minimum (cells of the model's 64 px); the notice and purpose bars above the tabs wrap
their text, and Qt does not count wrapped text in the window's minimum height, so on a 1024×700 screen the
bars took the grid's height and its last row was cut off (issue 21 item 7). In a scroll area the page keeps
the height it needs and scrolls instead.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def vertical_scroll(page: QWidget) -> QScrollArea:
    """`page` filling a scroll area that scrolls up and down only, never narrower than the page."""
    scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
    scroll.setWidget(page)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(page.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
    return scroll
