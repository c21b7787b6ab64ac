"""The training dock driving the real engine on procedural faces (tiny nets, CPU, a few steps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.settings import AppSettings
from g2g_desktop.ui.training.training_panel import format_eta
from tests.stall_meter import StallMeter
from trainer import events as ev

TIMEOUT = 180_000


@pytest.fixture
def window(qtbot):
    win = MainWindow(AppSettings(), detector=lambda image: [])
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training_panel.shutdown()
    win.close()


def configure(panel, out: Path, steps: int = 10_000) -> None:
    form = panel.form
    form.approach.setCurrentIndex(form.approach.findData("naive"))
    form.data.setText("procedural:4:4")
    form.size.setCurrentIndex(0)  # Tiny
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.steps.setValue(steps)
    form.batch.setValue(2)
    form.preview_every.setValue(2)
    form.checkpoint_every.setValue(100_000)
    form.out.setText(str(out))


def wait_event(qtbot, panel, kind, check=lambda e: True):
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT,
                          check_params_cb=lambda e: isinstance(e, kind) and check(e)) as blocker:
        pass
    return blocker.args[0]


def test_training_run_from_the_panel(qtbot, window, tmp_path):
    panel = window.training_panel
    events: list[object] = []
    panel.eventShown.connect(events.append)
    configure(panel, tmp_path / "run")
    meter = StallMeter()

    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.PreviewReady)):
        assert panel.start()
    assert panel.chart.point_count() > 0 and "Loss/G/total" in panel.chart.history
    assert panel.preview.source_pixmap() is not None and "Preview at step" in panel.preview_label.text()
    assert "it/s" in panel.speed.text() and panel.progress.value() >= 2

    # A weight edited in the table reaches the engine and the log.
    spin = panel.table.spins["gamma"]
    assert spin.isEnabled() and "γ" in spin.toolTip()
    weights_changed = lambda e: isinstance(e, ev.WeightsChanged)  # noqa: E731
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=weights_changed):
        spin.setValue(0.8)
    changed = [e for e in events if isinstance(e, ev.WeightsChanged)][-1]
    assert changed.changes == {"gamma": (0.4, 0.8)}
    assert "gamma 0.4 → 0.8" in panel.log_view.toPlainText()

    # Pause: no step advances until resume.
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.Paused)):
        panel.buttons["pause"].click()
    paused_at = panel.last_step
    assert panel.buttons["resume"].isEnabled() and not panel.buttons["pause"].isEnabled()
    qtbot.wait(2000)
    assert panel.last_step == paused_at and panel.worker.engine.current_step == paused_at
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT,
                          check_params_cb=lambda e: isinstance(e, ev.StepDone) and e.step > paused_at):
        panel.buttons["resume"].click()

    # One click mixes with a copy of the model being trained.
    with qtbot.waitSignal(window.controller.modelLoaded, timeout=TIMEOUT) as blocker:
        panel.buttons["use"].click()
    assert blocker.args[0].name.startswith("training run (naive") and window.session.model is blocker.args[0]

    # Stop: the engine checkpoints and the thread ends.
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT):
        panel.buttons["stop"].click()
    meter.timer.stop()
    saved = [e for e in events if isinstance(e, ev.CheckpointSaved)]
    assert saved and saved[-1].kind == "stop" and Path(saved[-1].path).exists()
    assert isinstance(events[-1], ev.Finished) and events[-1].reason == "stopped"
    assert panel.buttons["start"].isEnabled() and not panel.running()
    assert meter.longest < 0.1, f"GUI stalled for {meter.longest * 1000:.0f} ms during training"


def test_closing_while_training_asks_then_stops_with_a_checkpoint(qtbot, window, tmp_path, monkeypatch):
    panel = window.training_panel
    events: list[object] = []
    panel.eventShown.connect(events.append)
    configure(panel, tmp_path / "run2")
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.StepDone)):
        panel.start()
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: next(answers))
    assert not window.close()  # "No": the window stays and training goes on
    assert panel.running()
    assert window.close()  # "Yes": stop, checkpoint, close
    assert not panel.running()
    qtbot.waitUntil(lambda: any(isinstance(e, ev.Finished) for e in events), timeout=TIMEOUT)
    assert any(isinstance(e, ev.CheckpointSaved) and e.kind == "stop" for e in events)


def test_bad_run_settings_are_refused_with_a_message(qtbot, window, tmp_path):
    panel = window.training_panel
    configure(panel, tmp_path / "run3")
    panel.form.data.setText(str(tmp_path / "no_such_folder"))
    assert not panel.start()
    assert "no_such_folder: dataset not found" in panel.log_view.toPlainText()


def test_format_eta():
    assert format_eta(75) == "1:15" and format_eta(3725) == "1:02:05" and format_eta(float("inf")) == "?"
