"""`DockAction`: a dock's entry in the View menu and its shortcut.

Qt's own `toggleViewAction` closes a dock that is open, also when the dock is a tab behind another one: its
shortcut then hid the Training dock it was pressed to show (issue 21 item 4). This action brings a closed
dock or one behind another tab to the front, and closes only a dock that is already in front. It stays
ticked while the dock is open, in front or not.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget


class DockAction(QAction):
    def __init__(self, dock: QDockWidget, parent: QWidget, shortcut: str | None = None):
        super().__init__(dock.windowTitle(), parent)
        self.dock = dock
        self.in_front = False  # shown and not covered by another tab (QDockWidget.visibilityChanged)
        self.setCheckable(True)
        self.setChecked(not dock.isHidden())
        if shortcut:
            self.setShortcut(QKeySequence(shortcut))
        tip = f"Show the {dock.windowTitle()} dock (or close it when it is already in front)"
        self.setToolTip(tip)
        self.setStatusTip(tip)
        dock.visibilityChanged.connect(self._visibility_changed)
        self.triggered.connect(self.bring_to_front_or_close)

    def _visibility_changed(self, visible: bool) -> None:
        self.in_front = visible
        self.setChecked(not self.dock.isHidden())

    def bring_to_front_or_close(self) -> None:
        if self.dock.isHidden():
            self.dock.show()
            self.dock.raise_()
        elif not self.in_front:
            self.dock.raise_()
        else:
            self.dock.close()
        self.setChecked(not self.dock.isHidden())
