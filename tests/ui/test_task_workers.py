"""`TaskWorker`: one worker per async flow, outcomes on the GUI thread with the stamp of their start."""

from __future__ import annotations

import threading

from g2g_desktop.services.cancel import CancelToken
from g2g_desktop.ui.threads import Task, TaskWorker

TIMEOUT = 10_000


def _record(worker: TaskWorker) -> list[tuple]:
    seen: list[tuple] = []
    worker.done.connect(lambda stamp, result: seen.append(("done", stamp, result)))
    worker.failed.connect(lambda stamp, message: seen.append(("failed", stamp, message)))
    worker.cancelled.connect(lambda stamp: seen.append(("cancelled", stamp)))
    return seen


def test_latest_only_drops_the_result_and_the_failure_of_older_starts(qtbot):
    worker = TaskWorker(Task.MODEL, latest_only=True)
    seen = _record(worker)
    gate = threading.Event()

    def slow(value):
        assert gate.wait(10)
        if value == "broken":
            raise ValueError("broken file\nsecond line")
        return value

    worker.start(slow, "old")
    worker.start(slow, "broken")
    newest = worker.start(lambda value: value, "new")
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=TIMEOUT)
    gate.set()
    qtbot.waitUntil(lambda: not worker.running(), timeout=TIMEOUT)
    qtbot.wait(50)  # let the older outcomes arrive
    assert seen == [("done", newest, "new")]


def test_without_latest_only_every_outcome_comes_with_its_stamp(qtbot):
    worker = TaskWorker(Task.IMAGES)
    seen = _record(worker)

    def missing():
        raise RuntimeError("no such file\ndetails")

    first = worker.start(lambda: 1)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=TIMEOUT)
    second = worker.start(missing)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=TIMEOUT)
    assert seen == [("done", first, 1), ("failed", second, "no such file")]  # the first line only


def test_start_newest_runs_one_task_at_a_time_and_keeps_only_the_newest_waiting(qtbot):
    worker = TaskWorker(Task.METER)
    seen = _record(worker)
    gate, ran = threading.Event(), []

    def measure(value):
        ran.append(value)
        assert gate.wait(10)
        return value

    for value in (1, 2, 3, 4):
        worker.start_newest(measure, value)
    assert ran in ([], [1])  # 2 and 3 never start: 4 replaced them while 1 ran
    gate.set()
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not worker.running(), timeout=TIMEOUT)
    assert ran == [1, 4] and [result for _, _, result in seen] == [1, 4]


def test_cancel_stops_a_long_task_between_parts_and_reports_it(qtbot):
    worker = TaskWorker(Task.EXPORT, latest_only=True)
    seen = _record(worker)
    token, started = CancelToken(), threading.Event()

    def long_task(token: CancelToken) -> str:
        started.set()
        while True:
            token.check()
            threading.Event().wait(0.01)

    stamp = worker.start(long_task, token, token=token)
    assert started.wait(10)
    with qtbot.waitSignal(worker.cancelled, timeout=TIMEOUT):
        worker.cancel()
    assert seen == [("cancelled", stamp)] and worker.wait(5)
    assert worker.running() is False
