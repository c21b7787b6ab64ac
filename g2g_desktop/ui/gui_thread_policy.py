"""Two interpreter settings that keep the GUI thread first while a main window is open.

* Cyclic garbage collection moves onto the GUI thread. The collector runs in whichever thread happens
  to allocate past its threshold. When that is a worker (the training thread building a model, the
  render thread decoding) and the garbage holds Qt wrappers from the GUI thread, those Qt objects are
  destroyed on the wrong thread and the process can segfault (seen in the suite: a crash inside the
  training thread's model construction, "Garbage-collecting"). So automatic collection is off and a
  GUI-thread timer collects with the interpreter's own thresholds, including its rule that a full
  collection waits until a quarter more objects have survived into the oldest generation since the
  last one. The heap that exists when the first window opens (torch, Qt, the app's modules: some
  370 000 objects) is frozen out of collection until the last window closes: a full pass over it held
  the GUI thread 200-290 ms (more on a loaded machine) in the middle of a training run. Cyclic garbage
  already in that heap waits for the thaw.
* The GIL switch interval drops from 5 ms to 1 ms. Every Qt callback into Python (a timer, a paint
  event of a Python widget) must take the GIL; while a worker runs pure Python (a training run
  building its networks and first batches) each such hand-over waited up to 5 ms, and a repaint
  needs many. Measured with the GUI benchmark probe in 9 interleaved pairs: the longest stall in the
  first second of a training run fell from a median of 11 ms to 4 ms (lower in all 9 pairs), with no
  measurable change in training speed.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer

GUI_SWITCH_INTERVAL_S = 0.001


class GuiThreadPolicy(QObject):
    """Start with the window, stop when it closes; the interpreter's settings return when the last one stops."""

    _running = 0  # policies started and not stopped, across windows
    _saved_switch_interval = sys.getswitchinterval()
    _long_lived = 0  # objects in the oldest generation after the last full collection (CPython's long_lived_total)

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
        if GuiThreadPolicy._running == 0:
            GuiThreadPolicy._saved_switch_interval = sys.getswitchinterval()
            gc.freeze()
            GuiThreadPolicy._long_lived = 0
        GuiThreadPolicy._running += 1
        gc.disable()
        sys.setswitchinterval(min(GUI_SWITCH_INTERVAL_S, GuiThreadPolicy._saved_switch_interval))
        self._timer.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._timer.stop()
        GuiThreadPolicy._running -= 1
        if GuiThreadPolicy._running == 0:
            gc.unfreeze()
            gc.enable()
            sys.setswitchinterval(GuiThreadPolicy._saved_switch_interval)

    def is_active(self) -> bool:
        return self._started

    @classmethod
    def collect_due(cls) -> int:
        """Collect the oldest generation whose allocation count passed its threshold, a full collection only
        once the oldest generation has grown by a quarter since the last one (what the interpreter would
        have done); returns the generation collected, or -1 when none was due."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if not thresholds[generation] or counts[generation] <= thresholds[generation]:
                continue
            if generation == 2:
                if len(gc.get_objects(generation=2)) - cls._long_lived < cls._long_lived / 4:
                    continue
                gc.collect(2)
                cls._long_lived = len(gc.get_objects(generation=2))
                return 2
            gc.collect(generation)
            return generation
        return -1
