"""`CancelToken`: how a long task on a worker thread learns that it should stop (window closing, Cancel)."""

from __future__ import annotations

import threading


class TaskCancelled(Exception):
    """Raised by `CancelToken.check()`: the task stops and its worker reports it cancelled."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise TaskCancelled
