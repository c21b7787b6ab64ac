"""A late `done` of a finished training run must not block the GUI waiting on the next run's thread.

The run's thread quits before `done` is delivered to the GUI thread, so a new run can start in between;
`_run_ended` then waited up to 10 s on the *new* run's thread (seen as a 10–11 s stall in the GUI soak)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from g2g_desktop.ui.training.training_panel import TrainingPanel


class FakeThread:
    def __init__(self):
        self.waits = 0

    def wait(self, timeout_ms: int) -> bool:
        self.waits += 1
        return True


class FakeWorker(QObject):
    done = Signal(str)

    def __init__(self):
        super().__init__()
        self.thread = FakeThread()

    def is_running(self) -> bool:
        return True


def test_a_late_done_of_a_replaced_run_is_ignored(qtbot):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    old, new = FakeWorker(), FakeWorker()
    panel.worker = old
    old.done.connect(panel._run_ended)
    panel.worker = new  # a new run started before the old run's `done` arrived
    with qtbot.assertNotEmitted(panel.runEnded):
        old.done.emit("finished")
    assert new.thread.waits == 0 and old.thread.waits == 0
    new.done.connect(panel._run_ended)
    with qtbot.waitSignal(panel.runEnded):
        new.done.emit("finished")
    assert new.thread.waits == 1
    panel.worker = None
