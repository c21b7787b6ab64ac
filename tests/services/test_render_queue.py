"""The keep-newest slot and the render worker, without Qt."""

from __future__ import annotations

import threading
import time

import numpy as np

from g2g_desktop.services.render_queue import RenderRequest, RenderSlot, RenderWorker
from tests.factories import wait_until


def _request(stamp: int, alpha: float = 1.0) -> RenderRequest:
    return RenderRequest("grid", 1, ("a", "b"), (alpha, 1.0), stamp=stamp)


def test_slot_keeps_only_the_newest_request():
    slot = RenderSlot()
    for i in range(5):
        slot.put(_request(i))
    assert slot.take().stamp == 4
    assert slot.dropped == 4
    slot.close()
    assert slot.take() is None


def test_slot_keeps_one_request_per_kind_in_arrival_order():
    slot = RenderSlot()
    slot.put(RenderRequest("matrix", 1, ("a", "b", "c"), stamp=1))
    for i in range(2, 6):
        slot.put(_request(i))
    assert (slot.take().kind, slot.take().stamp) == ("matrix", 5)


def test_blocked_worker_renders_only_the_last_of_100_requests():
    gate, started = threading.Event(), threading.Event()
    rendered: list[int] = []
    results = []

    def render(request, job=None):
        started.set()
        gate.wait(10)
        rendered.append(request.stamp)
        return {"mixed": np.zeros((2, 4, 4, 3), np.uint8)}

    two = threading.Event()

    def on_result(result):
        results.append(result)
        if len(results) == 2:
            two.set()

    worker = RenderWorker(render, on_result)
    worker.start()
    worker.submit(_request(0, alpha=0.0))
    assert started.wait(10)  # the worker is now blocked inside request 0
    for i in range(1, 101):
        worker.submit(_request(i, alpha=i / 100))
    gate.set()
    assert two.wait(10)
    assert worker.stop(10)
    assert rendered == [0, 100]
    assert [r.stamp for r in results] == [0, 100]
    assert worker.slot.dropped == 99


def test_worker_skips_a_repeat_and_reports_errors_as_data():
    results = []
    calls = []

    def render(request, job=None):
        calls.append(request.stamp)
        if request.alphas[0] < 0:
            raise RuntimeError("bad model\nsecond line")
        return {}

    worker = RenderWorker(render, results.append)
    worker.start()
    done = threading.Event()
    worker._on_result = lambda r: (results.append(r), done.set())
    for stamp, alpha in [(1, 0.5), (2, 0.5), (3, -1.0)]:
        done.clear()
        worker.submit(_request(stamp, alpha))
        if stamp != 2:
            assert done.wait(10)
    assert worker.stop(10)
    assert calls == [1, 3]  # stamp 2 equals stamp 1's picture
    assert results[-1].error == "RuntimeError: bad model" and results[-1].images == {}


def test_a_cancelled_request_reports_back_and_a_long_render_stops_between_parts():
    gate, results, parts = threading.Event(), [], []
    done = threading.Event()

    def render(request, job):
        if request.kind == "grid":
            gate.wait(10)
            return {}
        for part in range(100):
            parts.append(part)
            job.partial({}, part + 1, 100)
            time.sleep(0.01)
            job.check()
        return {}

    def on_result(result):
        results.append(result)
        if result.cancelled or (result.final and result.request.kind == "matrix"):
            done.set()

    worker = RenderWorker(render, on_result)
    worker.start()
    worker.submit(_request(1))  # blocks the worker
    worker.submit(RenderRequest("matrix", 1, ("a", "b"), stamp=2))
    worker.cancel("matrix", 2)  # cancelled while still pending
    gate.set()
    assert done.wait(10)
    assert parts == [] and results[-1].cancelled and results[-1].stamp == 2
    done.clear()
    worker.submit(RenderRequest("matrix", 1, ("a", "b"), stamp=3))  # a newer one is not cancelled ...
    assert wait_until(lambda: parts, timeout=10)
    worker.cancel("matrix", 3)  # ... until the user cancels it: it stops after the part in progress
    assert done.wait(10)
    assert results[-1].cancelled and len(parts) < 100
    assert worker.stop(10)


def test_forget_during_a_render_makes_the_same_picture_render_again():
    """Issue 21 item 8: Remove all while the grid rendered, then Ctrl+Z: the grid stayed empty, because the render
    in flight recorded its picture as the last one after `forget()` and the same request was skipped."""
    gate, started = threading.Event(), threading.Event()
    calls, results = [], []

    def render(request, job=None):
        calls.append(request.stamp)
        started.set()
        gate.wait(10)
        return {}

    worker = RenderWorker(render, results.append)
    worker.start()
    worker.submit(_request(1))
    assert started.wait(10)
    worker.forget()  # the view was cleared while stamp 1 rendered
    gate.set()
    wait_until(lambda: len(results) == 1, timeout=10)
    worker.submit(_request(2))  # the same picture again
    wait_until(lambda: len(results) == 2, timeout=10)
    assert worker.stop(10)
    assert calls == [1, 2]
