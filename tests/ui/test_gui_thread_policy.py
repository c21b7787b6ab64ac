"""While a main window is open, garbage collection stays on the GUI thread (a worker running the collector
over Qt wrappers crashed the suite once) and the GIL switch interval is short."""

from __future__ import annotations

import gc
import sys
import threading

from g2g_desktop.ui.gui_thread_policy import GUI_SWITCH_INTERVAL_S, GuiThreadPolicy
from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.settings import AppSettings


class Cycle:
    def __init__(self):
        self.me = self


def test_workers_never_collect_while_a_window_is_open_and_the_gui_thread_does(qtbot):
    assert gc.isenabled()
    win = MainWindow(AppSettings(), detector=lambda image: [])
    qtbot.addWidget(win)
    collected_in: list[str] = []

    def note(phase, info):
        if phase == "start":
            collected_in.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        assert not gc.isenabled()
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(50_000)], name="g2g-test-allocator")
        worker.start()
        worker.join()
        assert "g2g-test-allocator" not in collected_in
        qtbot.waitUntil(lambda: threading.main_thread().name in collected_in, timeout=5000)
    finally:
        gc.callbacks.remove(note)
        win.close()
    assert gc.isenabled()


def test_settings_return_only_when_the_last_policy_stops(qtbot):
    before = sys.getswitchinterval()
    first, second = GuiThreadPolicy(), GuiThreadPolicy()
    first.start()
    second.start()
    assert sys.getswitchinterval() == GUI_SWITCH_INTERVAL_S < before
    first.stop()
    assert not gc.isenabled() and sys.getswitchinterval() == GUI_SWITCH_INTERVAL_S
    second.stop()
    assert gc.isenabled() and not second.is_active() and sys.getswitchinterval() == before


def test_collect_due_collects_only_past_the_threshold():
    gc.collect()
    assert GuiThreadPolicy.collect_due() == -1
    gc.disable()
    try:
        garbage = [Cycle() for _ in range(gc.get_threshold()[0] + 10)]
        del garbage
        assert GuiThreadPolicy.collect_due() >= 0
    finally:
        gc.enable()


def test_the_heap_from_before_the_first_window_is_kept_out_of_collection_until_the_last_closes(qtbot):
    """A full pass over the start-up heap (torch, Qt, the app: ~370 000 objects) held the GUI thread 0.2-2 s
    in the middle of a training run."""
    heap = [[] for _ in range(1000)]
    policy = GuiThreadPolicy()
    policy.start()
    try:
        assert gc.get_freeze_count() >= len(heap)
        assert not any(obj is heap for obj in gc.get_objects())
    finally:
        policy.stop()
    assert gc.get_freeze_count() == 0 and any(obj is heap for obj in gc.get_objects())


def _make_a_full_collection_due() -> None:
    for _ in range(gc.get_threshold()[2] + 1):
        gc.collect(1)  # each one counts towards the oldest generation's threshold


def test_a_full_collection_waits_until_a_quarter_more_objects_are_long_lived(qtbot):
    policy = GuiThreadPolicy()
    policy.start()
    try:
        kept = [[] for _ in range(20_000)]
        _make_a_full_collection_due()
        assert GuiThreadPolicy.collect_due() == 2
        _make_a_full_collection_due()
        assert gc.get_count()[2] > gc.get_threshold()[2] and GuiThreadPolicy.collect_due() != 2
        kept += [[] for _ in range(20_000)]
        _make_a_full_collection_due()
        assert GuiThreadPolicy.collect_due() == 2
    finally:
        policy.stop()
