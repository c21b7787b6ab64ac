"""`TrainingPanel`: the training dock. Start, pause, resume, stop and save a run; watch its progress,
loss curves, previews and log; edit loss weights while it runs; mix with the model being trained.

The engine runs on the `TrainingWorker`'s QThread; this panel only lays out widgets, calls the engine's
thread-safe commands and shows the events it reports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from trainer import events as ev
from trainer.losses import LossWeights

from ..models import LoadedModel, model_from_snapshot
from ..threads import TaskRunner
from ..widgets.image_cell import ImageCell
from .loss_chart import LossChart
from .run_form import RunForm
from .training_worker import TrainingWorker
from .weights_table import WeightsTable


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainingPanel(QWidget):
    eventShown = Signal(object)  # each engine event after the panel has shown it (tests wait on it)
    runEnded = Signal(str)  # the end reason, once the training thread has finished

    def __init__(self, parent: QWidget | None = None, *, on_model: Callable[[LoadedModel], None] | None = None,
                 undo_stack: QUndoStack | None = None):
        super().__init__(parent)
        self.on_model = on_model  # receives the model being trained when the user asks to mix with it
        self.worker: TrainingWorker | None = None
        self.tasks = TaskRunner(self)
        self.tasks.finished.connect(self._snapshot_built)
        self.tasks.failed.connect(self._snapshot_failed)
        self.weights = LossWeights()
        self.last_step = 0
        self.form = RunForm()
        self.form.approach.currentIndexChanged.connect(lambda: self.table.set_approach(self.form.approach_key()))

        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [("start", "Start", self.start, "Start a run with the settings above"),
                 ("pause", "Pause", self.pause, "Pause after the current step (a checkpoint is written)"),
                 ("resume", "Resume", self.resume, "Continue the paused run"),
                 ("stop", "Stop", self.stop, "Stop after the current step and write a checkpoint"),
                 ("save", "Save now", self.save_now, "Write a checkpoint after the current step"),
                 ("use", "Use for mixing", self.use_for_mixing, "Mix with a copy of the model being trained")]
        for i, (key, title, slot, tip) in enumerate(specs):
            button = QPushButton(title)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[key] = button
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.speed = QLabel("Not running.")

        self.chart = LossChart()
        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self.chart.set_log_scale)
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.addWidget(self.chart, 1)
        curves_layout.addWidget(self.log_box)
        self.preview = ImageCell(minimum=160)
        self.preview.setToolTip("Original / Mixed / Reconstructed on training pairs")
        self.preview_label = QLabel("No preview yet.")
        preview_page = QWidget()
        preview_layout = QVBoxLayout(preview_page)
        preview_layout.addWidget(self.preview, 1)
        preview_layout.addWidget(self.preview_label)
        self.table = WeightsTable(undo_stack=undo_stack)
        self.table.weightEdited.connect(self.edit_weight)
        self.table.set_approach(self.form.approach_key())
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(5000)
        self.tabs = QTabWidget()
        for page, title in ((curves, "Losses"), (preview_page, "Preview"), (self.table, "Weights"),
                            (self.log_view, "Log")):
            self.tabs.addTab(page, title)

        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addLayout(grid)
        layout.addWidget(self.progress)
        layout.addWidget(self.speed)
        layout.addWidget(self.tabs, 1)
        self._set_state("idle")

    # ------------------------------------------------------------------ commands
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def start(self) -> bool:
        if self.running():
            return False
        try:
            config = self.form.build_config(LossWeights.from_dict(self.table.weights()))
        except ValueError as exc:
            self.log(f"Cannot start: {exc}")
            return False
        self.weights = config.weights
        self.chart.clear()
        self.progress.setRange(0, config.steps)
        self.progress.setValue(0)
        self.worker = TrainingWorker(config)
        self.worker.event.connect(self.show_event)
        self.worker.done.connect(self._run_ended)  # a method of this QObject: queued to the GUI thread
        self.log(f"Starting {config.approach} on {config.data} → {config.out}")
        self._set_state("running")
        self.worker.start()
        return True

    def pause(self) -> None:
        if self.running():
            self.worker.engine.pause()

    def resume(self) -> None:
        if self.running():
            self.worker.engine.resume()

    def stop(self) -> None:
        if self.running():
            self.log("Stopping after the current step…")
            self.worker.engine.stop()

    def save_now(self) -> None:
        if self.running():
            self.worker.engine.save_now()

    def use_for_mixing(self) -> None:
        if self.running():
            self.log("Taking a copy of the model being trained…")
            self.worker.engine.request_snapshot()

    def edit_weight(self, name: str, value: float) -> None:
        if not self.running():
            return
        try:
            self.worker.engine.set_weights(**{name: value})
        except ValueError as exc:
            self.log(f"Weight not changed: {exc}")
            self.table.set_weights(self.weights.to_dict())

    # ------------------------------------------------------------------ events from the engine
    def show_event(self, event: object) -> None:
        if isinstance(event, ev.StepDone):
            self.last_step = event.step
            self.progress.setValue(event.step)
            self.speed.setText(f"Step {event.step:,} of {event.total:,} · {event.it_per_s:.2f} it/s · "
                               f"ETA {format_eta(event.eta_s)}")
            self.chart.add_point(event.step, event.losses)
        elif isinstance(event, ev.PreviewReady):
            self.preview.set_array(event.grid)
            self.preview_label.setText(f"Preview at step {event.step:,}")
        elif isinstance(event, ev.Started):
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.step)
            self.log(f"Started at step {event.step} of {event.total} on {event.device}: {event.num_images} images, "
                     f"{event.num_classes} identities" + (f", resumed from {event.resumed_from}"
                                                          if event.resumed_from else ""))
        elif isinstance(event, ev.WeightsChanged):
            self.weights = LossWeights.from_dict(event.weights)
            self.table.set_weights(event.weights)
            changes = ", ".join(f"{k} {old:g} → {new:g}" for k, (old, new) in event.changes.items())
            self.log(f"Weights from step {event.step}: {changes}")
        elif isinstance(event, ev.Paused):
            self._set_state("paused")
            self.log(f"Paused at step {event.step}.")
        elif isinstance(event, ev.Resumed):
            self._set_state("running")
            self.log(f"Resumed at step {event.step}.")
        elif isinstance(event, ev.CheckpointSaved):
            self.log(f"Checkpoint ({event.kind}) at step {event.step}: {event.path}")
        elif isinstance(event, ev.ModelSnapshot):
            self.tasks.submit("snapshot", model_from_snapshot, event)
        elif isinstance(event, (ev.RolledBack, ev.Warned, ev.Failed, ev.Finished)):
            self.log(_describe(event))
        self.eventShown.emit(event)

    def _snapshot_built(self, _name: str, model: LoadedModel) -> None:
        self.log(f"Mixing with {model.name}.")
        if self.on_model is not None:
            self.on_model(model)

    def _snapshot_failed(self, _name: str, message: str) -> None:
        self.log(f"Could not use the model: {message}")

    def _run_ended(self, reason: str) -> None:
        if self.sender() is not self.worker:  # a late `done` of a run that a newer run has replaced: waiting
            return  # on the newer run's thread here would block the GUI for 10 s
        self.worker.thread.wait(10_000)  # `done` is the thread's last act: this returns at once
        self._set_state("idle")
        self.runEnded.emit(reason)

    def log(self, text: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def _set_state(self, state: str) -> None:
        """Enable the buttons that make sense: idle, running or paused."""
        active = state != "idle"
        self.buttons["start"].setEnabled(not active)
        self.buttons["pause"].setEnabled(state == "running")
        self.buttons["resume"].setEnabled(state == "paused")
        for key in ("stop", "save", "use"):
            self.buttons[key].setEnabled(active)
        self.form.setEnabled(not active)
        if not active:
            self.speed.setText(f"Not running (last step {self.last_step:,})." if self.last_step else "Not running.")

    # ------------------------------------------------------------------ closing
    def confirm_close(self, parent: QWidget) -> bool:
        """Ask before closing while a run is going; the run is then stopped with a checkpoint."""
        if not self.running():
            return True
        answer = QMessageBox.question(
            parent, "Training is running",
            "A training run is in progress. Stop it (a checkpoint is written) and quit?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.stop_and_wait()
        self.tasks.wait()


def _describe(event: object) -> str:
    if isinstance(event, ev.RolledBack):
        return f"Rolled back to step {event.step} (step {event.failed_step} failed: {event.reason})"
    if isinstance(event, ev.Warned):
        return f"Warning at step {event.step}: {event.message}"
    if isinstance(event, ev.Failed):
        return f"Training failed: {event.message}"
    return f"Finished at step {event.step} ({event.reason})."
