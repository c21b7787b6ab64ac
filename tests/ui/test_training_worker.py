"""The training worker narrows torch's process-wide thread count for its run and gives it back at the end."""

from __future__ import annotations

import dataclasses
import threading

import torch

from g2g_desktop.ui.training import training_worker
from g2g_desktop.ui.training.training_worker import TrainingWorker
from tests.trainer.factories import tiny_config


def threads_a_new_thread_gets() -> int:
    """torch's count as a thread that starts torch work now sees it (each thread takes the process-wide value)."""
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return seen[0]


def test_the_cpu_thread_count_is_restored_when_training_ends(qtbot, tmp_path, monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        monkeypatch.setattr(training_worker.os, "cpu_count", lambda: 3)  # the run takes 3 - 1 = 2 threads
        seen_in_run: list[int] = []
        config = dataclasses.replace(tiny_config(tmp_path), data="procedural:4:2", steps=2, image_size=32)
        worker = TrainingWorker(config, "cpu")
        engine_run = worker.engine.run
        monkeypatch.setattr(worker.engine, "run", lambda: seen_in_run.append(torch.get_num_threads()) or engine_run())
        with qtbot.waitSignal(worker.done, timeout=120_000) as ended:
            worker.start()
        assert worker.thread.wait(30_000)
        assert ended.args == ["completed"]
        assert seen_in_run == [2]
        assert threads_a_new_thread_gets() == 1
    finally:
        torch.set_num_threads(before)
