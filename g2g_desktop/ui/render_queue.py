"""Keep-newest render queue (STYLE.md "Render queue, keep-newest"), Qt-free so it is tested without Qt.

A slider drag fires dozens of requests per second; rendering each would queue work far behind the
hand. The `RenderSlot` holds at most one pending `RenderRequest`: `put()` overwrites it, so when the
worker comes back for more it takes only the newest one and stale requests are dropped unseen. The
worker also skips a request equal to the last one it rendered (same inputs, different stamp).

The render function never raises into the loop: errors come back as `RenderResult.error`, a string the
GUI shows as a message (stylegan3's `viz/renderer.py` does the same).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RenderRequest:
    """What to draw. Everything but `stamp` identifies the picture; `stamp` orders requests."""

    kind: str  # "grid" (the 3×2 Original / Mixed / Reconstructed plot) or "matrix" (N×N swaps)
    model_id: int  # the renderer's handle of the pipeline to use
    image_ids: tuple[str, ...]  # the pair for "grid", all images for "matrix"
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


class RenderSlot:
    """Mailbox under a `threading.Condition` holding one pending request per kind: the newest request of a
    kind overwrites the pending one, so a burst of grid requests cannot push out a pending matrix request."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, RenderRequest] = {}  # insertion order = the order kinds are served
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


def lower_thread_priority(niceness: int = 5) -> None:
    """Make the calling thread yield the CPU to the GUI thread (Linux and macOS schedule threads by their
    own nice value). Rendering and training are throughput work; the GUI thread's latency matters more."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


RenderFn = Callable[[RenderRequest], dict[str, np.ndarray]]


class RenderWorker:
    """A thread that renders the newest request of its slot and hands each result to `on_result`.

    `on_result` is called on the worker thread; the Qt side passes a signal's `emit`, which a queued
    connection delivers to the GUI thread.
    """

    def __init__(
        self,
        render: RenderFn,  # request → named uint8 images; may raise, the error becomes data
        on_result: Callable[[RenderResult], None],  # called on the worker thread
        *,
        name: str = "g2g-render",
    ):
        self._render = render
        self._on_result = on_result
        self.slot = RenderSlot()
        self._last_keys: dict[str, tuple[Any, ...]] = {}  # per kind: the picture last rendered
        self.rendered = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, request: RenderRequest) -> None:
        self.slot.put(request)

    def forget(self) -> None:
        """Render the next request even if it equals the last one (the GUI cleared its view)."""
        self._last_keys.clear()

    def stop(self, timeout: float = 10.0) -> bool:
        """Close the slot and wait for the current render to finish; True when the thread has ended."""
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
            start = time.perf_counter()
            try:
                images, error = self._render(request), None
            except Exception as exc:  # the worker must survive any model or input failure
                images, error = {}, f"{type(exc).__name__}: {exc}".splitlines()[0]
            if error is None:
                self._last_keys[request.kind] = request.key
            else:
                self._last_keys.pop(request.kind, None)
            self.rendered += 1
            ms = (time.perf_counter() - start) * 1000.0
            self._on_result(RenderResult(request.stamp, request, images, error, ms))
