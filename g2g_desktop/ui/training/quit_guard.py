"""`QuitGuard`: what closing the window does to a training run — finish the step, save, then close.

A step can take longer than the window may wait before the process exits (1.2 s on a Tiny procedural run on
the CPU, far more for a FUNIT-size one), so a close that only asked the engine to stop lost everything since
the last periodic checkpoint. Instead, closing while a run goes on asks first and says what will happen; on
*Save and quit* the window stays open, the Training dock says that the run is finishing its step and saving,
and the window closes itself once the run has ended with its checkpoint and model written, however long the
step takes. Asked to close again meanwhile, it offers to quit at once, and says what that loses.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from trainer import events as ev

from .training_panel import RunState, TrainingPanel

SAVE_AND_QUIT = "Save and quit"
KEEP_TRAINING = "Keep training"
QUIT_NOW = "Quit without saving"
KEEP_WAITING = "Keep waiting"


def ask(parent: QWidget, title: str, text: str, accept: str, reject: str) -> bool:
    """A question whose two buttons say what they do; True for `accept`. Escape and closing the box reject."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    yes = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton(reject, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


class QuitGuard(QObject):
    """Decides what a close of the main window does while the panel's run goes on (see the module docstring)."""

    def __init__(self, panel: TrainingPanel, window: QMainWindow, dock: QDockWidget):
        """`window`: asked from, told in its status bar, closed once the run saved; `dock`: the panel's dock,
        raised while the run finishes."""
        super().__init__(panel)
        self.panel, self.window, self.dock = panel, window, dock
        self.quitting = False  # the run is finishing its step and saving; the window closes when it ends
        self.started = False  # the current run got past set-up
        self.step_seconds: float | None = None  # the current run's smoothed step time
        self.saved_step: int | None = None  # the step of the run's last checkpoint on disk
        panel.eventShown.connect(self._seen)
        panel.runEnded.connect(self._ended)

    def _seen(self, event: object) -> None:
        if isinstance(event, ev.Started):
            self.started, self.step_seconds = True, None
            self.saved_step = event.step if event.resumed_from else None
        elif isinstance(event, ev.StepDone) and event.it_per_s > 0:
            self.step_seconds = 1.0 / event.it_per_s
        elif isinstance(event, ev.CheckpointSaved):
            self.saved_step = event.step

    def allow_close(self) -> bool:
        """True: close now. False: the window stays, because the user keeps training, or because the run is
        finishing its step and saving, after which the window closes itself."""
        if not self.panel.running():
            return True
        if self.quitting:
            now = ask(self.window, "Training is saving", self.quit_now_text(), QUIT_NOW, KEEP_WAITING)
            self.quitting = not now  # quitting now: the window closes this time, not again when the run ends
            return now
        if not ask(self.window, "Training is running", self.plan_text(), SAVE_AND_QUIT, KEEP_TRAINING):
            return False
        if not self.panel.running():  # it ended while the question was open
            return True
        self._finish_then_close()
        return False

    def plan_text(self) -> str:
        """What *Save and quit* does, in the run's own figures."""
        where = self.panel.run_dir
        if self.panel.state == RunState.PAUSED:
            return (f"The run is paused at step {self.panel.last_step:,}; its checkpoint is saved in {where}.\n\n"
                    "Save and quit stops it and closes the window.")
        if not self.started:
            return ("The run is still starting (reading the data, building the networks).\n\nSave and quit waits "
                    f"for that, stops the run before its first step, saves it in {where} and closes the window.")
        step = self.panel.last_step + 1
        took = f" (about {seconds_text(self.step_seconds)} a step)" if self.step_seconds else ""
        return (f"Save and quit lets the run finish step {step:,}{took}, saves a checkpoint and the model in "
                f"{where}, then closes the window. Nothing it trained is lost; the Training dock shows the save.")

    def quit_now_text(self) -> str:
        lost = f"what it trained after step {self.saved_step:,}, its last checkpoint" if self.saved_step is not None \
            else "everything this run trained: it has no checkpoint yet"
        return (f"The run is finishing step {self.panel.last_step + 1:,} and saving; the window closes by itself "
                f"when that is done.\n\nQuitting now loses {lost}.")

    def _finish_then_close(self) -> None:
        """Stop after the current step (the engine then checkpoints and saves the model) and say so."""
        self.quitting = True
        panel = self.panel
        line = (f"Quitting: finishing step {panel.last_step + 1:,} and saving a checkpoint and the model in "
                f"{panel.run_dir}; the window closes when that is done." if self.started else
                "Quitting: stopping the run when its set-up ends; the window closes when that is done.")
        panel.log(line)
        panel.show_notice(line)
        panel.speed.setText(line)
        for button in panel.buttons.values():
            button.setEnabled(False)
        self.window.statusBar().showMessage(line)
        self.dock.show()
        self.dock.raise_()
        panel.worker.engine.stop()

    def _ended(self, _reason: str) -> None:
        self.started = False
        if self.quitting:
            self.quitting = False
            self.window.close()
