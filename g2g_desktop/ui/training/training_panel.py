"""`TrainingPanel`: the training dock. Start, pause, resume, stop and save a run; watch its progress,
loss curves, previews and log; edit loss weights while it runs; mix with the model being trained.

The engine runs on the `TrainingWorker`'s QThread; this panel only lays out widgets, calls the engine's
thread-safe commands and shows the events it reports. What the user must act on (a form that cannot
start, a failed run, what a FUNIT file gave and what starts fresh) goes to the notice under the buttons,
not only to the Log tab. Start never writes into a folder that holds a run: it offers to resume that run
or to use a new folder. A finished or stopped run's model stays one click ("Use for mixing") from the
grid and is added to Recent models.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from tqdm import tqdm

from g2g_desktop.core.model_file import RUN_MODEL_FILE
from g2g_desktop.services.models import LoadedModel, load_model_file, model_from_snapshot
from trainer import events as ev
from trainer.loss_weights import LossWeights
from trainer.run_folder import existing_run, same_path
from trainer.state import run_folder_of

from ..threads import Task, TaskWorker
from ..widgets.image_cell import ImageCell
from .loss_chart import LossChart
from .run_form import RunForm
from .training_worker import TrainingWorker
from .weights_table import WeightsTable


class RunState(str, enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"


class ExistingRun(str, enum.Enum):
    """What to do when the output folder already holds a run."""

    RESUME = "resume"
    NEW_FOLDER = "new"


def format_eta(seconds: float) -> str:
    """The remaining time as tqdm writes it on g2g-train's bar (`tqdm.format_interval`), so the panel and the
    terminal read alike; "?" while no rate is known yet (an infinite estimate, which tqdm cannot format)."""
    return tqdm.format_interval(round(seconds)) if math.isfinite(seconds) else "?"


class TrainingPanel(QWidget):
    eventShown = Signal(object)  # each engine event after the panel has shown it (tests wait on it)
    runEnded = Signal(str)  # the end reason, once the training thread has finished
    modelSaved = Signal(str)  # the model file a finished or stopped run left (for Recent models)

    def __init__(self, parent: QWidget | None = None, *, on_model: Callable[[LoadedModel], None] | None = None,
                 undo_stack: QUndoStack | None = None, snapshot_file: Path | None = None):
        super().__init__(parent)
        self.on_model = on_model  # receives the model being trained when the user asks to mix with it
        self.snapshot_file = snapshot_file  # where that copy is kept for the next start (`model_from_snapshot`)
        self.worker: TrainingWorker | None = None
        self.mix_models: TaskWorker[LoadedModel] = TaskWorker(Task.MIX_MODEL, self)  # a snapshot or the saved file
        self.mix_models.done.connect(self._snapshot_built)
        self.mix_models.failed.connect(self._snapshot_failed)
        self.weights = LossWeights()
        self.last_step = 0
        self.total_steps = 0
        self.run_dir: Path | None = None
        self.model_path: Path | None = None  # the last run's RUN_MODEL_FILE, once it exists
        self._started = False  # the current run got past set-up
        self.state = RunState.IDLE
        self.form = RunForm()
        self.form.approach.currentIndexChanged.connect(lambda: self.table.set_approach(self.form.approach_key()))

        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [("start", "Start", self.start, "Start a run with the settings above"),
                 ("pause", "Pause", self.pause, "Pause after the current step (a checkpoint is written)"),
                 ("resume", "Resume", self.resume, "Continue the paused run"),
                 ("stop", "Stop", self.stop, "Stop after the current step and write a checkpoint"),
                 ("save", "Save now", self.save_now, "Write a checkpoint after the current step"),
                 ("use", "Use for mixing", self.use_for_mixing,
                  "Mix with a copy of the model being trained, or with the model the last run saved")]
        for i, (key, title, slot, tip) in enumerate(specs):
            button = QPushButton(title)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[key] = button
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.speed = QLabel("Not running.")
        self.speed.setWordWrap(True)  # long status lines wrap instead of widening the dock
        self.notice = QLabel()
        self.notice.setObjectName("trainingNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()

        self.chart = LossChart()
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.addWidget(self.chart, 1)
        curves_layout.addLayout(self._chart_controls())
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
        self.form.recipe.currentIndexChanged.connect(lambda: self.table.set_weights(self.form.recipe_weights()))
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(5000)
        self.tabs = QTabWidget()
        for page, title in ((curves, "Losses"), (preview_page, "Preview"), (self.table, "Weights"),
                            (self.log_view, "Log")):
            self.tabs.addTab(page, title)

        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addLayout(grid)
        layout.addWidget(self.notice)
        layout.addWidget(self.progress)
        layout.addWidget(self.speed)
        layout.addWidget(self.tabs, 1)
        self._set_state(RunState.IDLE)

    def _chart_controls(self) -> QGridLayout:
        self.scale_box = QComboBox()
        self.scale_box.addItem("Linear", "linear")
        self.scale_box.addItem("Log", "log")
        self.scale_box.setToolTip("Log is a symmetric log scale: negative losses stay visible")
        self.scale_box.currentIndexChanged.connect(lambda: self.chart.set_scale(self.scale_box.currentData()))
        self.smoothing = QDoubleSpinBox()
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.1)
        self.smoothing.setDecimals(2)
        self.smoothing.setToolTip("Exponential moving average of the curves (0 = raw values), as TensorBoard")
        self.smoothing.valueChanged.connect(self.chart.set_smoothing)
        self.skip = QSpinBox()
        self.skip.setRange(0, 10_000_000)
        self.skip.setSingleStep(100)
        self.skip.setToolTip("Leave out the first steps, whose large losses squash the rest of the curves")
        self.skip.valueChanged.connect(self.chart.set_skip_steps)
        # one control a row: side by side they were wider than a docked panel and forced a horizontal scroll bar
        controls = QGridLayout()
        for row, (label, widget) in enumerate((("Scale:", self.scale_box), ("Smoothing:", self.smoothing),
                                               ("Skip first steps:", self.skip))):
            controls.addWidget(QLabel(label), row, 0)
            controls.addWidget(widget, row, 1)
        controls.setColumnStretch(2, 1)
        self.chart.setToolTip("Click a legend entry to hide or show its curve")
        return controls

    def show_notice(self, text: str, *, error: bool = False) -> None:
        """A message under the buttons, where the user is looking (errors in red); '' hides it."""
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #d62728; font-weight: bold;" if error else "")
        self.notice.setVisible(bool(text))

    # ------------------------------------------------------------------ commands
    def running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def start(self) -> bool:
        if self.running():
            return False
        config = self._config_to_start()
        if config is None:
            return False
        self.show_notice("")
        self.weights = config.weights
        self.chart.clear()
        self.progress.setRange(0, config.steps)
        self.progress.setValue(0)
        self.total_steps, self.run_dir, self.model_path = config.steps, Path(config.out), None
        self._started = False
        self.worker = TrainingWorker(config)
        self.worker.event.connect(self.show_event)
        self.worker.done.connect(self._run_ended)  # a method of this QObject: queued to the GUI thread
        self.log(f"Starting {config.approach} on {config.data} → {config.out}")
        self._set_state(RunState.RUNNING)
        self.speed.setText("Starting: reading the data and building the networks…")
        self.worker.start()
        return True

    def _config_to_start(self):
        """The form's config, checked; a folder holding another run is resumed or replaced by a new one."""
        try:
            config = self.form.build_config(LossWeights.from_dict(self.table.weights()))
            found = existing_run(config.out)
            own = run_folder_of(config.resume)
            if found is not None and not (own is not None and same_path(own, config.out)):
                choice = self.ask_existing_run(config.out, found)
                if choice is None:
                    return None
                if choice == ExistingRun.RESUME:
                    self.form.resume.setText(config.out)
                    self.form.apply_resume_source()
                else:
                    self.form.out.setText(str(_new_folder(Path(config.out))))
                config = self.form.build_config(LossWeights.from_dict(self.table.weights()))
        except ValueError as exc:
            self.show_notice(f"Cannot start: {exc}", error=True)
            self.log(f"Cannot start: {exc}")
            return None
        return config

    def ask_existing_run(self, out: str, found: str) -> ExistingRun | None:
        """Resume, a new folder or None (cancel) for an output folder that already holds a run."""
        box = QMessageBox(QMessageBox.Icon.Question, "The output folder holds a run",
                          f"{out} already holds {found}. Starting here would overwrite it.", parent=self)
        resume = box.addButton("Resume that run", QMessageBox.ButtonRole.AcceptRole)
        new = box.addButton("Use a new folder", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return {resume: ExistingRun.RESUME, new: ExistingRun.NEW_FOLDER}.get(box.clickedButton())

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
        elif self.model_path is not None and self.model_path.is_file():
            self.log(f"Loading {self.model_path}…")
            self.mix_models.start(load_model_file, self.model_path)

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
            if self.state == RunState.PAUSED:  # a single step while paused: no speed, no ETA
                self.speed.setText(f"Paused at step {event.step:,} of {event.total:,}.")
            else:
                self.speed.setText(f"Step {event.step:,} of {event.total:,} · {event.it_per_s:.2f} it/s · "
                                   f"ETA {format_eta(event.eta_s)}")
            self.chart.add_point(event.step, event.losses)
        elif isinstance(event, ev.PreviewReady):
            self.preview.set_array(event.grid)
            self.preview_label.setText(f"Preview at step {event.step:,}")
        elif isinstance(event, ev.Started):
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.step)
            self.last_step, self.total_steps, self._started = event.step, event.total, True
            self.speed.setText(f"Step {event.step:,} of {event.total:,} · first step running…")
        elif isinstance(event, ev.WeightsChanged):
            self.weights = LossWeights.from_dict(event.weights)
            self.table.set_weights(event.weights)
        elif isinstance(event, ev.Paused):
            self._set_state(RunState.PAUSED)
            self.speed.setText(f"Paused at step {event.step:,} of {self.total_steps:,}.")
        elif isinstance(event, ev.Resumed):
            self._set_state(RunState.RUNNING)
            self.speed.setText(f"Step {event.step:,} of {self.total_steps:,} · resuming…")
        elif isinstance(event, ev.Noted):
            self.show_notice(event.message)
        elif isinstance(event, ev.Failed):
            self.show_notice(f"Training failed: {event.message}", error=True)
            self.log(f"Training failed: {event.message}")
        elif isinstance(event, ev.ModelSnapshot):
            self.mix_models.start(model_from_snapshot, event, None, self.snapshot_file)
        line = ev.describe(event)
        if line is not None:
            self.log(line)
        self.eventShown.emit(event)

    def _snapshot_built(self, _stamp: int, model: LoadedModel) -> None:  # a snapshot or the saved model file
        self.log(f"Mixing with {model.name}.")
        if self.on_model is not None:
            self.on_model(model)

    def _snapshot_failed(self, _stamp: int, message: str) -> None:
        self.log(f"Could not use the model: {message}")

    def _run_ended(self, reason: str) -> None:
        if self.sender() is not self.worker:  # a late `done` of a run that a newer run has replaced: waiting
            return  # on the newer run's thread here would block the GUI for 10 s
        self.worker.thread.wait(10_000)  # `done` is the thread's last act: this returns at once
        saved = self.run_dir / RUN_MODEL_FILE if self.run_dir is not None else None
        if self._started and saved is not None and saved.is_file():  # a run that got going leaves its model
            self.model_path = saved
            self.modelSaved.emit(str(saved))
        self._set_state(RunState.IDLE)
        ended = {ev.EndReason.COMPLETED: "Finished", ev.EndReason.STOPPED: "Stopped",
                 ev.EndReason.FAILED: "Failed"}.get(reason, reason)
        self.speed.setText(f"{ended} at step {self.last_step:,} of {self.total_steps:,}."
                           + (" Use for mixing loads its model." if self.model_path else ""))
        self.runEnded.emit(reason)

    def log(self, text: str) -> None:
        self.log_view.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    def _set_state(self, state: RunState) -> None:
        """Enable the buttons that make sense: idle, running or paused."""
        self.state = state
        active = state != RunState.IDLE
        self.buttons["start"].setEnabled(not active)
        self.buttons["pause"].setEnabled(state == RunState.RUNNING)
        self.buttons["resume"].setEnabled(state == RunState.PAUSED)
        for key in ("stop", "save"):
            self.buttons[key].setEnabled(active)
        self.buttons["use"].setEnabled(active or self.model_path is not None)
        self.form.setEnabled(not active)

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.stop_and_wait()
        self.mix_models.wait()


def _new_folder(taken: Path) -> Path:
    """`taken`-2, -3, …: the first sibling name that does not exist yet."""
    n = 2
    while taken.with_name(f"{taken.name}-{n}").exists():
        n += 1
    return taken.with_name(f"{taken.name}-{n}")
