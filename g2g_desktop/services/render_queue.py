"""Keep-newest render queue (STYLE.md "Render queue, keep-newest"), Qt-free so it is tested without Qt.

A slider drag fires dozens of requests per second; rendering each would queue work far behind the
hand. The `RenderSlot` holds at most one pending `RenderRequest`: `put()` overwrites it, so when the
worker comes back for more it takes only the newest one and stale requests are dropped unseen. The
worker also skips a request equal to the last one it rendered (same inputs, different stamp).

The render function never raises into the loop: errors come back as `RenderResult.error`, a string the
GUI shows as a message (stylegan3's `viz/renderer.py` does the same). Long renders (the swap matrix) get a
`RenderJob`: they hand back partial results as they go and stop early when the job is cancelled, which
happens when a newer request of the same kind arrives, the user cancels, or the worker stops.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from g2g_desktop.core.messages import typed_first_line


class RenderKind(str, enum.Enum):
    """What a request draws; each kind has its own slot in the queue, newest wins within a kind."""

    GRID = "grid"  # the 3×2 Original / Mixed / Reconstructed plot of the pair
    MATRIX = "matrix"  # the N×N swap matrix of all images


@dataclass(frozen=True)
class RenderRequest:
    """What to draw. Everything but `stamp` identifies the picture; `stamp` orders requests."""

    kind: RenderKind
    model_id: int  # the renderer's handle of the pipeline to use
    image_ids: tuple[str, ...]  # the pair for the grid, all images for the matrix
    alphas: tuple[float, float] = (1.0, 1.0)  # identity fade of m1 and m2 (1 = plain mix)
    align: bool = False  # use the aligned face crops (True) or the centre squares
    stamp: int = 0  # increasing number from the GUI; results older than its last reset are dropped
    people: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # grid: images of person 1 / 2 (K-shot)

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.model_id, self.image_ids, self.alphas, self.align, self.people)


@dataclass(frozen=True)
class RenderResult:
    stamp: int
    request: RenderRequest
    images: dict[str, np.ndarray] = field(default_factory=dict)  # uint8 arrays, …×H×W×3
    error: str | None = None  # one-line message; `images` is empty when set
    ms: float = 0.0  # time spent rendering
    progress: tuple[int, int] = (1, 1)  # parts done, parts in all (rows of the swap matrix)
    cancelled: bool = False  # the user cancelled this render; `images` is empty

    @property
    def final(self) -> bool:
        """The whole picture (not a partial update, not cancelled, no error)."""
        return self.error is None and not self.cancelled and self.progress[0] >= self.progress[1]


class RenderCancelled(Exception):
    """Raised inside a render function by `RenderJob.check()` to stop it between parts."""


class RenderSlot:
    """Mailbox under a `threading.Condition` holding one pending request per kind: the newest request of a
    kind overwrites the pending one, so a burst of grid requests cannot push out a pending matrix request."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[RenderKind, RenderRequest] = {}  # insertion order = the order kinds are served
        self._closed = False
        self.dropped = 0  # requests overwritten before anyone took them

    def put(self, request: RenderRequest) -> None:
        with self._cond:
            if request.kind in self._pending:
                self.dropped += 1
            self._pending[request.kind] = request
            self._cond.notify()

    def take(self) -> RenderRequest | None:
        """Block until a request is pending (returned and cleared) or the slot is closed (None)."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._pending) or self._closed)
            if self._closed:
                return None
            return self._pending.pop(next(iter(self._pending)))

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def has_pending(self, kind: RenderKind) -> bool:
        with self._cond:
            return kind in self._pending

    @property
    def closed(self) -> bool:
        return self._closed


def lower_thread_priority(niceness: int = 5) -> None:
    """Make the calling thread yield the CPU to the GUI thread (Linux and macOS schedule threads by their
    own nice value). Rendering and training are throughput work; the GUI thread's latency matters more."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class RenderJob:
    """What a render function gets besides its request: a cancel check and a way to show partial results."""

    def __init__(self, worker: RenderWorker, request: RenderRequest, start: float):
        self._worker, self.request, self._start = worker, request, start

    def cancelled(self) -> bool:
        return self._worker.should_stop(self.request)

    def check(self) -> None:
        """Raise `RenderCancelled` when the render should stop (call it between parts)."""
        if self.cancelled():
            raise RenderCancelled

    def partial(self, images: dict[str, np.ndarray], done: int, total: int) -> None:
        """Hand a partial picture to the GUI (e.g. the first `done` rows of the matrix)."""
        ms = (time.perf_counter() - self._start) * 1000.0
        self._worker.deliver(RenderResult(self.request.stamp, self.request, images, None, ms, (done, total)))


RenderFn = Callable[[RenderRequest, RenderJob], dict[str, np.ndarray]]


class RenderWorker:
    """A thread that renders the newest request of its slot and hands each result to `on_result`.

    `on_result` is called on the worker thread; the Qt side passes a signal's `emit`, which a queued
    connection delivers to the GUI thread.
    """

    def __init__(
        self,
        render: RenderFn,  # (request, job) → named uint8 images; may raise, the error becomes data
        on_result: Callable[[RenderResult], None],  # called on the worker thread
        *,
        name: str = "g2g-render",
    ):
        self._render = render
        self._on_result = on_result
        self.slot = RenderSlot()
        self._last_keys: dict[RenderKind, tuple[Any, ...]] = {}  # per kind: the picture last rendered
        self._forgotten = 0  # how many times `forget()` was called: a render running across a call records nothing
        self._cancelled: dict[RenderKind, int] = {}  # per kind: requests up to this stamp were cancelled by the user
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, request: RenderRequest) -> None:
        self.slot.put(request)

    def forget(self) -> None:
        """Render the next request even if it equals the last one (the GUI cleared its view), also the one that
        equals a render still running now."""
        self._forgotten += 1
        self._last_keys.clear()

    def cancel(self, kind: RenderKind, up_to_stamp: int) -> None:
        """Cancel the requests of `kind` up to this stamp, running or pending: a running one stops at its next
        check; each reports back with `cancelled=True`."""
        self._cancelled[kind] = max(up_to_stamp, self._cancelled.get(kind, up_to_stamp))

    def _user_cancelled(self, request: RenderRequest) -> bool:
        return request.stamp <= self._cancelled.get(request.kind, -1)

    def should_stop(self, request: RenderRequest) -> bool:
        return self._user_cancelled(request) or self.slot.closed or self.slot.has_pending(request.kind)

    def deliver(self, result: RenderResult) -> None:
        self._on_result(result)

    def stop(self, timeout: float = 10.0) -> bool:
        """Close the slot (a long render stops at its next check) and wait up to `timeout` s for the thread;
        True when it has ended. The thread is a daemon, so one stuck in a single torch call is left behind."""
        self.slot.close()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        lower_thread_priority()
        while (request := self.slot.take()) is not None:
            if self._last_keys.get(request.kind) == request.key:
                continue
            start, forgotten = time.perf_counter(), self._forgotten
            error, cancelled, images = None, False, {}
            try:
                job = RenderJob(self, request, start)
                job.check()
                images = self._render(request, job)
            except RenderCancelled:
                cancelled = True
            except Exception as exc:  # the worker must survive any model or input failure
                error = typed_first_line(exc)
            if error is None and not cancelled and forgotten == self._forgotten:
                self._last_keys[request.kind] = request.key
            else:
                self._last_keys.pop(request.kind, None)
            if cancelled and not self._user_cancelled(request):
                continue  # superseded by a newer request (or the worker stopped): nothing to report
            ms = (time.perf_counter() - start) * 1000.0
            self._on_result(RenderResult(request.stamp, request, images, error, ms, cancelled=cancelled))
