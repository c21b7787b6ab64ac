"""How long the Qt event loop was blocked: shared by the UI tests and the GUI soak."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer


class StallMeter:
    """A QTimer ticking every `interval_ms` on the GUI thread; `longest` is the longest gap between ticks (s)."""

    def __init__(self, interval_ms: int = 5):
        self.longest = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def reset(self) -> None:
        self.longest, self._last = 0.0, time.perf_counter()
