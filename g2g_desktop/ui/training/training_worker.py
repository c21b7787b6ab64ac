"""`TrainingWorker`: runs a `TrainingEngine` on its own QThread and turns its events into a Qt signal.

The engine knows nothing about Qt (DESIGN.md): its sink is this worker's `event.emit`, called on the
training thread, and the queued connection delivers each event to the GUI thread. Commands (pause,
weights, …) go straight to the engine, whose inbox is thread-safe.

The panel imports this module on a task thread when the training dock is first shown, before any run; the
approach classes (torchvision and facenet behind them) load then too, as they did before the registry made them
lazy for the CLI's sake (`trainer.approach_registry`): imported at a Start, on the training thread, they
stalled the GUI for 200 ms (tests/ui/test_training_panel.py's stall meter).
"""

from __future__ import annotations

import os

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from g2g_desktop.core.device import torch_threads
from g2g_desktop.services.render_queue import lower_thread_priority
from trainer import approach_registry as registry
from trainer.approaches import approach_class
from trainer.config import TrainConfig
from trainer.engine import TrainingEngine
from trainer.events import EndReason

from ..threads import register_qthread


def _load_approach_classes() -> None:
    """Import every registered approach's class now (see the module docstring)."""
    for name in registry.names():
        approach_class(name)


_load_approach_classes()


class TrainingWorker(QObject):
    event = Signal(object)  # every trainer.events dataclass, delivered on the GUI thread
    done = Signal(str)  # the run's end reason, after the thread's loop returned

    def __init__(self, config: TrainConfig, device: str | None = None):
        super().__init__()
        self.engine = TrainingEngine(config, self.event.emit, device)
        self.device = device
        self.thread = QThread()
        self.thread.setObjectName("g2g-training")
        register_qthread(self.thread)
        self.moveToThread(self.thread)
        self.thread.started.connect(self._run)
        self.reason: EndReason | None = None

    def start(self) -> None:
        self.thread.start()

    @Slot()
    def _run(self) -> None:
        lower_thread_priority()
        # Leave one core to the GUI thread: on a small CPU, torch's intra-op threads would otherwise
        # take every core and the event loop would stall while a step runs. Restored when the run ends.
        threads = max(1, (os.cpu_count() or 2) - 1) if self._on_cpu() else torch.get_num_threads()
        try:
            with torch_threads(threads):
                self.reason = self.engine.run()
        finally:
            self.thread.quit()
            self.done.emit(self.reason or EndReason.FAILED)

    def _on_cpu(self) -> bool:
        """The engine's device choice (pick_device's rule), made on this thread: CUDA probing can be slow."""
        name = self.device or os.environ.get("G2G_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
        return name.startswith("cpu")

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, timeout_ms: int = 60_000) -> bool:
        """Ask the engine to stop (it checkpoints) and wait for the thread; True when it has ended."""
        if self.thread.isRunning():
            self.engine.stop()
        return self.thread.wait(timeout_ms)
