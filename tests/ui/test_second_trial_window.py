"""The window as a new user met it in the second trial (issue 21 items 4, 7 and 9): the Training dock's
shortcut, a small screen, and what the next start restores."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

TIMEOUT = 60_000


def _shortcut(window, keys: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence(keys))


# ------------------------------------------------------------------------------------------ item 4
def test_ctrl_shift_t_brings_the_training_dock_to_the_front_from_behind_model(qtbot, window):
    dock, action = window.training_dock, _shortcut(window, "Ctrl+Shift+T")
    qtbot.waitUntil(lambda: not window.model_dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert dock.visibleRegion().isEmpty()  # on the first screen it is a tab behind Model
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked() and not dock.isHidden()
    window.model_dock.raise_()
    qtbot.waitUntil(lambda: dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked()  # open, behind a tab: still ticked
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    action.trigger()  # in front: the shortcut closes it
    assert dock.isHidden() and not action.isChecked()
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked()
    qtbot.waitUntil(lambda: window.built_training_panel() is not None, timeout=TIMEOUT)
