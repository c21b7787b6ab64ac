"""Background work for the GUI: one-shot tasks on Python threads and the registry of running workers.

Every thread the UI starts is named `g2g-…` and every QThread is registered here, so the tests can
check after each test that nothing is left running (napari's conftest does the same for QThreads).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

THREAD_PREFIX = "g2g-"
_qthreads: weakref.WeakSet[QThread] = weakref.WeakSet()
_counter = itertools.count(1)


def register_qthread(thread: QThread) -> None:
    _qthreads.add(thread)


def running_workers() -> list[str]:
    """Names of UI worker threads (Python and Qt) still running."""
    names = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]
    names += [t.objectName() or "QThread" for t in list(_qthreads) if t.isRunning()]
    return names


class TaskRunner(QObject):
    """Runs `fn(*args)` on a fresh thread; the outcome arrives on the GUI thread as a signal.

    `finished(name, result)` or `failed(name, message)`: a task's exception becomes a one-line message,
    never a traceback in the GUI.
    """

    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        thread = threading.Thread(
            target=self._run, args=(name, fn, args), name=f"{THREAD_PREFIX}task-{name}-{next(_counter)}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _run(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            outcome = (self.failed, name, message)
        else:
            outcome = (self.finished, name, result)
        with contextlib.suppress(RuntimeError):  # the runner was deleted (window closed) while the task ran
            outcome[0].emit(*outcome[1:])

    def busy(self) -> bool:
        with self._lock:
            return any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float = 30.0) -> bool:
        """Join every task thread (at shutdown); True when all have ended."""
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)
        return not any(t.is_alive() for t in threads)
