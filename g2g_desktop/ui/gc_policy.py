"""Python's cyclic garbage collection, moved onto the GUI thread while a main window is open.

The collector runs in whichever thread happens to allocate past its threshold. When that is a worker
(the training thread building a model, the render thread decoding) and the garbage holds Qt wrappers
from the GUI thread, those Qt objects are destroyed on the wrong thread and the process can segfault
(seen in the suite: a crash inside the training thread's model construction, "Garbage-collecting").
While a window is open, automatic collection is therefore off and a GUI-thread timer collects with the
interpreter's own thresholds, so no worker ever runs a collection.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    """Start with the window, stop when it closes; automatic collection resumes when the last one stops."""

    _running = 0  # collectors started and not stopped, across windows

    def __init__(self, parent: QObject | None = None, interval_ms: int = 200):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        GuiThreadGarbageCollector._running += 1
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._timer.stop()
        GuiThreadGarbageCollector._running -= 1
        if GuiThreadGarbageCollector._running == 0:
            gc.enable()

    def is_active(self) -> bool:
        return self._started

    @staticmethod
    def collect_due() -> int:
        """Collect the oldest generation whose allocation count passed its threshold (what the interpreter
        would have done); returns the generation collected, or -1 when none was due."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return generation
        return -1
