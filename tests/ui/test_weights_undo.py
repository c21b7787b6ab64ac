"""Loss-weight edits in the training dock go on the dock's own undo stack (Ctrl+Z with focus in the dock)."""

from __future__ import annotations

from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.settings import AppSettings


def test_weight_edits_undo_and_redo_through_the_window_stack(qtbot):
    win = MainWindow(AppSettings(), detector=lambda image: [])
    qtbot.addWidget(win)
    table, stack = win.training_panel.table, win.training_undo
    emitted: list[tuple[str, float]] = []
    table.weightEdited.connect(lambda name, value: emitted.append((name, value)))
    gamma, delta = table.spins["gamma"], table.spins["delta"]
    start_gamma, start_delta = gamma.value(), delta.value()

    gamma.setValue(start_gamma + 0.1)
    gamma.setValue(start_gamma + 0.2)  # a second edit of the same weight merges into one undo step
    delta.setValue(start_delta + 1.0)
    assert stack.count() == 2 and "δ" in stack.undoText()

    stack.undo()
    assert delta.value() == start_delta and emitted[-1] == ("delta", start_delta)
    stack.undo()
    assert gamma.value() == start_gamma and emitted[-1] == ("gamma", start_gamma)
    stack.redo()
    assert abs(gamma.value() - (start_gamma + 0.2)) < 1e-9 and emitted[-1][0] == "gamma"
    assert table.weights()["gamma"] == gamma.value()
    win.close()


def test_values_from_the_engine_are_not_undo_steps(qtbot):
    win = MainWindow(AppSettings(), detector=lambda image: [])
    qtbot.addWidget(win)
    table, stack = win.training_panel.table, win.training_undo
    table.set_weights({"gamma": 0.9})
    assert stack.count() == 0
    table.spins["gamma"].setValue(0.5)
    stack.undo()
    assert table.spins["gamma"].value() == 0.9  # back to what the engine last reported, not the default
    win.close()
