"""Background work for the GUI: one-shot tasks on Python threads and the registry of running workers.

Every thread the UI starts is named `g2g-…` and every QThread is registered here, so the tests can
check after each test that nothing is left running (napari's conftest does the same for QThreads).

Closing the window must never wait on torch: long tasks take a `CancelToken` and stop between parts,
and whatever is still inside one long torch call when the window has closed is left behind:
`exit_process` then ends the process with `os._exit`, because letting the interpreter tear down under a
running torch thread or QThread aborts ("terminate called without an active exception").
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from g2g_desktop.services.cancel import CancelToken, TaskCancelled

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


def wait_for_workers(timeout: float) -> bool:
    """Wait up to `timeout` s for every UI worker to end; True when none is left."""
    deadline = time.monotonic() + timeout
    while running_workers() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not running_workers()


def exit_process(code: int, grace: float = 0.2) -> int:
    """Return `code` when every worker has ended; otherwise end the process now with it (see the module
    docstring). Settings are synced and files written atomically before this, so nothing is lost."""
    if wait_for_workers(grace):
        return code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none): what the GUI shows."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TaskRunner(QObject):
    """Runs `fn(*args)` on a fresh thread; the outcome arrives on the GUI thread as a signal.

    `finished(name, result)`, `failed(name, message)` or `cancelled(name)`: a task's exception becomes a
    one-line message, never a traceback in the GUI. `progress(name, done, total)` is what a task reports
    through `reporter(name)`.
    """

    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)
    progress = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._threads: list[threading.Thread] = []
        self._tokens: list[CancelToken] = []
        self._lock = threading.Lock()

    def submit(self, name: str, fn: Callable[..., Any], *args: Any, token: CancelToken | None = None) -> None:
        """Run `fn(*args)`; a `token` given here is also cancelled by `cancel_all()` (window closing)."""
        thread = threading.Thread(
            target=self._run, args=(name, fn, args), name=f"{THREAD_PREFIX}task-{name}-{next(_counter)}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            if token is not None:
                self._tokens = [t for t in self._tokens if not t.cancelled()] + [token]
        thread.start()

    def reporter(self, name: str) -> Callable[[int, int], None]:
        """A `report(done, total)` for task `name`, callable from its thread."""

        def report(done: int, total: int) -> None:
            with contextlib.suppress(RuntimeError):
                self.progress.emit(name, done, total)

        return report

    def cancel_all(self) -> None:
        with self._lock:
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()

    def _run(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
        except TaskCancelled:
            outcome = (self.cancelled, name)
        except Exception as exc:
            outcome = (self.failed, name, one_line(exc))
        else:
            outcome = (self.finished, name, result)
        with contextlib.suppress(RuntimeError):  # the runner was deleted (window closed) while the task ran
            outcome[0].emit(*outcome[1:])

    def busy(self) -> bool:
        with self._lock:
            return any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float = 30.0) -> bool:
        """Join every task thread for up to `timeout` s in all; True when all have ended."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)
