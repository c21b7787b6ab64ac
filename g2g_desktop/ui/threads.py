"""Background work for the GUI: typed, stamped task workers on Python threads and the registry of them.

Each async flow (open images, detect faces, load a model, export a fade, …) owns one `TaskWorker`: its
own `done` / `failed` / `cancelled` / `progress` signals, so a flow's start and its outcome read in one
place. Every start gets a stamp; with `latest_only` an outcome whose stamp is no longer the newest is
dropped, otherwise the stamp comes with it for the flow to decide. Workers are Python daemon threads,
not a QThreadPool: the pool is waited for when the QApplication is destroyed, which would hold the exit
until a long torch call returns.

Every thread the UI starts is named `g2g-…` and every QThread is registered here, so the tests can
check after each test that nothing is left running (napari's conftest does the same for QThreads).

Closing the window must never wait on torch: long tasks take a `CancelToken` and stop between parts,
and whatever is still inside one long torch call when the window has closed is left behind. The app then
ends with `exit_process`: the atexit handlers run and the process ends with `os._exit`, skipping the
interpreter's teardown. That teardown aborts under a running torch thread or QThread ("terminate called
without an active exception"), and even with every worker done it is slow: with torch loaded it frees
hundreds of thousands of objects, 2.5–3.5 s of CPU on a loaded 2-core machine (`python -c "import torch"`
alone: 2.6 s from its last line to the process's end, 0.2 s with `os._exit`; strace shows no system call in
the first 1.4 s), which made quitting an idle app take 3.1–3.9 s.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import itertools
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, NoReturn, TypeVar

from PySide6.QtCore import QObject, QThread, Signal

from g2g_desktop.core.messages import first_line
from g2g_desktop.services.cancel import CancelToken, TaskCancelled

T = TypeVar("T")

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


def exit_process(code: int, grace: float = 0.2) -> NoReturn:
    """End the process with `code`: give the workers `grace` s, run the atexit handlers if they all ended,
    flush the streams, then `os._exit` (see the module docstring). Settings are synced and files written
    atomically before this, so nothing is lost."""
    if wait_for_workers(grace):  # PySide's own handler deletes the QApplication: not under a running QThread
        atexit._run_exitfuncs()  # what a normal exit runs first; only the teardown of every object is skipped
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class Task(str, enum.Enum):
    """The kinds of background work; the value names the worker's threads (`g2g-task-export-3`)."""

    MAIN_WINDOW = "import"  # importing the main window (and torch) behind the loading window
    TRAINER = "trainer"  # importing the training panel when its dock is first shown
    IMAGES = "images"
    DETECT = "detect"
    MODEL = "model"
    EXPORT = "export"
    METER = "meter"
    CURVE = "curve"
    PHOTOS = "photos"
    BATCH = "batch"
    MIX_MODEL = "mix model"  # the model being trained (snapshot) or the one a run saved, to mix with


class TaskWorker(QObject, Generic[T]):
    """Runs one kind of task, `fn(*args) -> T`, on fresh daemon threads; outcomes arrive on the GUI thread.

    `done(stamp, result)`, `failed(stamp, message)` (the exception's first line, never a traceback) or
    `cancelled(stamp)` (the task raised `TaskCancelled`); `progress(done, total)` is what a task reports
    through `report`. `start_newest` runs one task at a time and keeps only the newest one waiting.
    """

    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    progress = Signal(int, int)
    _done = Signal(int, object)  # task thread → GUI thread, where stale outcomes are dropped
    _failed = Signal(int, str)
    _cancelled = Signal(int)

    def __init__(self, task: Task, parent: QObject | None = None, *, latest_only: bool = False):
        super().__init__(parent)
        self.task = task
        self.latest_only = latest_only  # drop outcomes of starts older than the newest one
        self.stamp = 0  # the stamp of the newest start (or of `invalidate`)
        self._threads: list[threading.Thread] = []
        self._tokens: list[CancelToken] = []
        self._lock = threading.Lock()
        self._waiting: tuple[Callable[..., T], tuple[Any, ...]] | None = None
        self._in_flight = 0  # started tasks whose outcome has not reached the GUI thread yet
        self._done.connect(self._on_done)  # methods of this QObject: queued to the GUI thread
        self._failed.connect(self._on_failed)
        self._cancelled.connect(self._on_cancelled)

    def start(self, fn: Callable[..., T], *args: Any, token: CancelToken | None = None) -> int:
        """Run `fn(*args)` now and return its stamp; `token` is also cancelled by `cancel()`."""
        self.stamp += 1
        self._in_flight += 1
        thread = threading.Thread(target=self._run, args=(self.stamp, fn, args),
                                  name=f"{THREAD_PREFIX}task-{self.task.value}-{next(_counter)}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            if token is not None:
                self._tokens = [t for t in self._tokens if not t.cancelled()] + [token]
        thread.start()
        return self.stamp

    def start_newest(self, fn: Callable[..., T], *args: Any) -> None:
        """Start now when idle; else wait for the running task, replacing any task already waiting."""
        if self._in_flight:
            self._waiting = (fn, args)
        else:
            self.start(fn, *args)

    def _settle(self, stamp: int) -> bool:
        """On the GUI thread, as an outcome arrives: start the waiting task; True when the outcome counts."""
        self._in_flight -= 1
        counts = not self.latest_only or stamp == self.stamp
        if self._waiting is not None and not self._in_flight:
            fn, args = self._waiting
            self._waiting = None
            self.start(fn, *args)
        return counts

    def _on_done(self, stamp: int, result: object) -> None:
        if self._settle(stamp):
            self.done.emit(stamp, result)

    def _on_failed(self, stamp: int, message: str) -> None:
        if self._settle(stamp):
            self.failed.emit(stamp, message)

    def _on_cancelled(self, stamp: int) -> None:
        if self._settle(stamp):
            self.cancelled.emit(stamp)

    def invalidate(self) -> None:
        """Make every start so far stale (with `latest_only` their outcomes are dropped)."""
        self.stamp += 1

    def report(self, done: int, total: int) -> None:
        """A task's progress, callable from its thread."""
        with contextlib.suppress(RuntimeError):
            self.progress.emit(done, total)

    def cancel(self) -> None:
        """Cancel every token given to `start` (long tasks stop between parts) and drop a waiting task."""
        self._waiting = None
        with self._lock:
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()

    def running(self) -> bool:
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

    def _run(self, stamp: int, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        try:
            result = fn(*args)
        except TaskCancelled:
            outcome = (self._cancelled, stamp)
        except Exception as exc:
            outcome = (self._failed, stamp, first_line(exc))
        else:
            outcome = (self._done, stamp, result)
        with contextlib.suppress(RuntimeError):  # the worker was deleted (window closed) while the task ran
            outcome[0].emit(*outcome[1:])
