"""How other threads steer a `TrainingEngine`, and what the engine remembers between steps.

* Commands are small frozen dataclasses posted to an `Inbox` (a deque under a condition variable);
  the engine drains it between steps and looks each command's handler up by its type — one table,
  so a new command is a new class and one entry.
* `LoopState` holds the loop's own flags and counters (paused, single-step budget, stop, failure,
  the losses gathered for the next metrics line and checkpoint).
* `RollbackPoint` is the last good training state — the latest checkpoint's, or the start's — kept as a
  CPU copy, with the number of rollbacks to it since it was taken.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from trainer.state import state_to_cpu


@dataclass(frozen=True)
class Pause:
    """Pause after the current step, with a checkpoint; the engine's thread sleeps until resumed."""


@dataclass(frozen=True)
class Resume:
    """Leave a pause."""


@dataclass(frozen=True)
class SingleStep:
    """Pause (if running) and do exactly one more step."""


@dataclass(frozen=True)
class Stop:
    """Finish after the current step, with a checkpoint."""


@dataclass(frozen=True)
class SaveNow:
    """Save a checkpoint after the current step."""


@dataclass(frozen=True)
class SetWeights:
    """Change loss weights from the next step on (already validated by the poster)."""

    changes: dict[str, float]


@dataclass(frozen=True)
class Snapshot:
    """Emit a `ModelSnapshot` (CPU copy of the inference generator) after the current step."""


Command = Pause | Resume | SingleStep | Stop | SaveNow | SetWeights | Snapshot


class Inbox:
    """Thread-safe queue of commands: any thread posts, the engine's thread drains or waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._commands: deque[Command] = deque()

    def post(self, command: Command) -> None:
        with self._cond:
            self._commands.append(command)
            self._cond.notify_all()

    def drain(self) -> list[Command]:
        """Everything posted since the last drain, in order."""
        with self._cond:
            commands = list(self._commands)
            self._commands.clear()
        return commands

    def wait(self) -> None:
        """Sleep (no CPU) until a command is waiting."""
        with self._cond:
            while not self._commands:
                self._cond.wait()


@dataclass
class LoopState:
    """The training loop's flags and counters, reset only by a new engine."""

    ready: bool = False  # set-up done
    paused: bool = False
    step_budget: int = 0  # steps allowed while paused (single_step)
    stop: bool = False
    failed: bool = False
    resumed_from: str | None = None  # the checkpoint, FUNIT file or model file the run continues
    last_saved_step: int = -1
    interval: dict[str, list[float]] = field(default_factory=dict)  # losses since the last metrics line
    since_checkpoint: list[float] = field(default_factory=list)  # best_metric values since the last checkpoint
    step_seconds: float | None = None  # smoothed duration of one step
    notes: list[str] = field(default_factory=list)  # said once, right after Started

    def time_step(self, elapsed: float) -> float:
        """Fold one step's duration into the smoothed one; returns the speed in steps per second."""
        self.step_seconds = elapsed if self.step_seconds is None else 0.9 * self.step_seconds + 0.1 * elapsed
        return self.speed()

    def speed(self) -> float:
        return 0.0 if self.step_seconds is None else 1.0 / max(self.step_seconds, 1e-9)


@dataclass
class RollbackPoint:
    """The last good training state (a CPU copy of the checkpoint contents) and the rollbacks to it."""

    state: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    rollbacks: int = 0

    def copy(self) -> dict[str, Any]:
        """A fresh CPU copy to load (loading must not alias the kept state: the run would change it)."""
        return state_to_cpu(self.state)

    def mark(self, state: dict[str, Any], step: int) -> None:
        """`state` (taken at `step`) is the new last good state; the rollback count starts again."""
        self.state, self.step, self.rollbacks = state, step, 0
