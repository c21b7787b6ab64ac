"""The engine's steering: command types and their dispatch table, the inbox, the run state, the rollback point."""

from __future__ import annotations

import gc
import threading
import typing
import weakref

import pytest
import torch

from tests.trainer.factories import tiny_config
from trainer.engine import HANDLERS, TrainingEngine
from trainer.engine_control import Command, Inbox, LoopState, Pause, RollbackPoint, SetWeights, Stop


def test_every_command_type_has_a_handler():
    assert set(HANDLERS) == set(typing.get_args(Command))


def test_an_engine_is_freed_as_soon_as_it_is_dropped(tmp_path):
    """The dispatch table is the module's, not bound methods on the engine: no reference cycle keeps a
    finished run's networks in memory until the cyclic GC runs."""
    engine = TrainingEngine(tiny_config(tmp_path))
    engine.pause()
    ref = weakref.ref(engine)
    gc.disable()
    try:
        del engine
        assert ref() is None
    finally:
        gc.enable()


def test_the_inbox_keeps_order_and_wakes_a_waiting_engine():
    inbox = Inbox()
    woke = threading.Event()

    def engine_thread():
        inbox.wait()
        woke.set()

    thread = threading.Thread(target=engine_thread)
    thread.start()
    assert not woke.wait(0.05)  # nothing posted: still asleep
    inbox.post(Pause())
    inbox.post(SetWeights({"lambda_rec": 2.0}))
    inbox.post(Stop())
    assert woke.wait(5)
    thread.join(5)
    assert inbox.drain() == [Pause(), SetWeights({"lambda_rec": 2.0}), Stop()]
    assert inbox.drain() == []


def test_commands_run_their_handlers_in_order(tmp_path):
    engine = TrainingEngine(tiny_config(tmp_path))
    engine.single_step()
    engine.single_step()
    engine.stop()
    seen = []
    engine._emit = seen.append
    engine._apply_commands()
    assert engine.run_state.paused and engine.run_state.step_budget == 2 and engine.run_state.stop
    assert [type(e).__name__ for e in seen] == ["Paused"]  # paused once, the second single step only adds a step


def test_run_state_smooths_the_step_time():
    run = LoopState()
    assert run.speed() == 0.0
    assert run.time_step(0.5) == pytest.approx(2.0)
    assert run.time_step(1.5) == pytest.approx(1 / (0.9 * 0.5 + 0.1 * 1.5))


def test_the_rollback_point_hands_out_copies_and_counts_from_each_mark():
    point = RollbackPoint()
    point.mark({"step": 3, "modules": {"gen": {"w": torch.ones(2)}}}, 3)
    point.rollbacks = 2
    copy = point.copy()
    copy["modules"]["gen"]["w"].add_(1)  # what loading into a live run may do
    assert torch.equal(point.state["modules"]["gen"]["w"], torch.ones(2))
    point.mark({"step": 5}, 5)
    assert (point.step, point.rollbacks) == (5, 0)
