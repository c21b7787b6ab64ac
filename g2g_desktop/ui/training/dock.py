"""`TrainingDock`: the Training dock of the main window, whose panel is built when the dock is first shown.

The panel imports the trainer, torchvision and facenet-pytorch (about 2 s and 250 MB), so until the dock is
shown it holds a placeholder; showing it imports the panel's module on a task thread and builds the panel
when that is done. This module itself imports none of that.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from ..session_store import restore_form, save_form
from ..settings import AppSettings, Recent
from ..threads import Task, TaskWorker
from ..widgets.page_scroll import vertical_scroll

if TYPE_CHECKING:
    from g2g_desktop.services.models import LoadedModel

    from .quit_guard import QuitGuard
    from .run_form import RunForm
    from .training_panel import TrainingPanel

TRAINING_PANEL_MODULE = "g2g_desktop.ui.training.training_panel"
QUIT_GUARD_MODULE = "g2g_desktop.ui.training.quit_guard"  # imports the panel's module
SNAPSHOT_FILE = "training copy.safetensors"


def snapshot_file(settings: AppSettings) -> Path:
    """Where the copy of the model being trained that the window mixes with is kept, so that the next start
    reopens it (issue 21 item 9): one file beside the settings, replaced by the next copy."""
    return Path(settings.qsettings.fileName()).parent / SNAPSHOT_FILE


class TrainingDock(QObject):
    """The dock (`dock`, for the window to place) and, once built, its `TrainingPanel`."""

    def __init__(self, window: QMainWindow, settings: AppSettings, use_model: Callable[[LoadedModel], None]):
        """`window`: the dock's parent, which the quit guard closes after a run saved; `settings`: the form and
        recent models; `use_model`: mix with a model the panel made from the run."""
        super().__init__(window)
        self.window, self.settings, self.use_model = window, settings, use_model
        self.undo_stack = QUndoStack(window)  # the dock's own stack in the window's QUndoGroup
        self.panel: TrainingPanel | None = None
        self.quit_guard: QuitGuard | None = None  # what closing the window does to a run, with the panel
        self._import: TaskWorker[object] = TaskWorker(Task.TRAINER, self)
        self._import.done.connect(self._imported)
        self._import.failed.connect(lambda _stamp, message: self._placeholder.setText(message))
        self._placeholder = QLabel("Loading the trainer…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.dock = QDockWidget("Training", window)
        self.dock.setObjectName("trainingDock")  # the key of its place in the saved window state
        self.dock.setWidget(self._placeholder)
        self.dock.visibilityChanged.connect(self._shown)

    def build(self) -> TrainingPanel:
        """The panel, built now (on the GUI thread, importing the trainer if it is not imported yet)."""
        if self.panel is not None:
            return self.panel
        module = importlib.import_module(TRAINING_PANEL_MODULE)
        settings = self.settings
        panel = self.panel = module.TrainingPanel(on_model=self.use_model,
                                                  undo_stack=self.undo_stack, snapshot_file=snapshot_file(settings))
        panel.modelSaved.connect(lambda path: settings.add_recent(Recent.MODELS, path))
        self.quit_guard = importlib.import_module(QUIT_GUARD_MODULE).QuitGuard(panel, self.window, self.dock)
        restore_form(settings.qsettings, "training", panel.form)
        # scrolled: the form, chart and log need ~680 px of height, more than a 700 px screen has to give; never
        # narrower than the panel, whose buttons and fields were cut off in a 180 px dock on a 1024×700 screen
        self.dock.setWidget(vertical_scroll(panel))
        self._placeholder.deleteLater()
        return panel

    def show_form(self) -> RunForm:
        """The run form, with the dock shown and raised (to prefill it for the user)."""
        form = self.build().form
        self.dock.show()
        self.dock.raise_()
        return form

    def follow_theme(self) -> None:
        """Redraw the loss chart in the theme just applied (a panel built later reads the theme itself)."""
        if self.panel is not None:
            self.panel.chart.follow_theme()

    def _shown(self, visible: bool) -> None:
        if visible and self.panel is None and not self._import.running():
            self._import.start(importlib.import_module, TRAINING_PANEL_MODULE)

    def _imported(self, _stamp: int, _module: object) -> None:
        if self.panel is None and self.window.isVisible():  # not for a window closed meanwhile
            self.build()

    def save_form(self) -> None:
        if self.panel is not None:
            save_form(self.settings.qsettings, "training", self.panel.form)

    def confirm_close(self) -> bool:
        """True: close now. False: the window stays open, while a run finishes its step and saves (the window
        then closes itself) or because the user keeps training (`QuitGuard`)."""
        return self.quit_guard is None or self.quit_guard.allow_close()

    def stop_training(self) -> None:
        """Ask a running engine to stop after its step (it checkpoints), without waiting."""
        worker = self.panel.worker if self.panel is not None else None
        if worker is not None and worker.is_running():
            worker.engine.stop()

    def shutdown(self, left: Callable[[], float]) -> None:
        """Wait for the training thread, a model being made ready to mix with and the import, `left()` s each
        at most. A panel never built is not built now (that would import the trainer)."""
        panel = self.panel
        if panel is not None:
            if panel.worker is not None:
                panel.worker.stop_and_wait(round(left() * 1000))
            panel.mix_models.cancel()
            panel.mix_models.wait(left())
        self._import.wait(left())
