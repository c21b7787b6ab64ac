"""The training dock driving the real engine on procedural faces (tiny nets, CPU, a few steps)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from g2g_desktop.ui.training.training_panel import format_eta
from tests.stall_meter import StallMeter
from tests.ui.factories import answer_box, write_image
from trainer import events as ev
from trainer.engine import TrainingEngine

TIMEOUT = 180_000


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


def test_quitting_while_training_finishes_the_step_saves_then_closes(qtbot, window, tmp_path, monkeypatch):
    """Issue 21.1: a step longer than the window's grace used to be abandoned on quit, with no checkpoint."""
    panel, run = window.training_panel, tmp_path / "run2"
    events: list[object] = []
    panel.eventShown.connect(events.append)
    configure(panel, run)  # no periodic checkpoint: only the quit can write one
    real_step = TrainingEngine.step

    def slow_step(engine):
        if engine.current_step >= 1:
            time.sleep(1.5)  # longer than the 0.8 s the window waits for workers when it closes
        return real_step(engine)

    monkeypatch.setattr(TrainingEngine, "step", slow_step)
    assert panel.start()
    wait_event(qtbot, panel, ev.StepDone)
    seen: list[str] = []
    answer_box("Keep training", seen)
    assert not window.close()  # the window stays and training goes on
    assert panel.running() and window.isVisible()
    assert re.search(r"Save and quit lets the run finish step \d \(about [\d.]+ s a step\), saves a checkpoint and "
                     rf"the model in {re.escape(str(run))}, then closes the window", seen[0]), seen[0]
    assert "lost" not in seen[0].replace("Nothing it trained is lost", "")

    answer_box("Save and quit", seen)
    assert not window.close()  # it stays open, showing the save, and closes itself when the run has ended
    assert window.isVisible() and panel.running()
    assert panel.notice.isVisible() and panel.notice.text().startswith("Quitting: finishing step")
    assert window.statusBar().currentMessage() == panel.notice.text()
    assert not any(button.isEnabled() for button in panel.buttons.values())
    answer_box("Keep waiting", seen)  # a second close offers to quit without waiting, and says what that loses
    assert not window.close()
    assert "Quitting now loses everything this run trained: it has no checkpoint yet." in seen[2]

    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    assert not panel.running()
    saved = [e for e in events if isinstance(e, ev.CheckpointSaved)]
    assert [e.kind for e in saved] == ["stop"] and saved[0].step == panel.last_step >= 2
    assert Path(saved[0].path).is_file() and (run / "model_latest.safetensors").is_file()
    assert isinstance(events[-1], ev.Finished) and events[-1].reason == "stopped"


def test_quitting_a_paused_run_says_its_checkpoint_is_saved(qtbot, window, tmp_path):
    panel = window.training_panel
    configure(panel, tmp_path / "run4")
    assert panel.start()
    wait_event(qtbot, panel, ev.StepDone)
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.Paused)):
        panel.pause()
    seen: list[str] = []
    answer_box("Save and quit", seen)
    assert not window.close()
    assert seen[0].startswith(f"The run is paused at step {panel.last_step:,}; its checkpoint is saved in")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)
    assert (tmp_path / "run4" / "model_latest.safetensors").is_file()


def test_bad_run_settings_are_refused_with_a_message(qtbot, window, tmp_path):
    panel = window.training_panel
    configure(panel, tmp_path / "run3")
    panel.form.data.setText(str(tmp_path / "no_such_folder"))
    assert not panel.start()
    assert "no_such_folder not found" in panel.notice.text() and panel.notice.isVisible()


def test_format_eta():
    assert format_eta(75) == "01:15" and format_eta(74.6) == "01:15" and format_eta(3725) == "1:02:05"
    assert format_eta(float("inf")) == "?" and format_eta(float("nan")) == "?"


def _run_to_end(qtbot, panel) -> str:
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT) as blocker:
        assert panel.start()
    return blocker.args[0]


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_start_on_a_folder_holding_a_run_offers_resume_or_a_new_folder(qtbot, window, tmp_path, monkeypatch):
    panel = window.training_panel
    configure(panel, tmp_path / "run", steps=2)
    assert _run_to_end(qtbot, panel) == "completed"
    before = _folder_bytes(tmp_path / "run")
    asked = []
    monkeypatch.setattr(panel, "ask_existing_run", lambda out, found: asked.append(found))  # Cancel
    assert not panel.start() and "checkpoints up to step 2" in asked[0]
    monkeypatch.setattr(panel, "ask_existing_run", lambda out, found: "new")
    assert _run_to_end(qtbot, panel) == "completed"
    assert panel.form.out.text() == str(tmp_path / "run-2") and (tmp_path / "run-2" / "config.json").is_file()
    assert _folder_bytes(tmp_path / "run") == before


def test_resume_from_a_run_folder_continues_it_in_place_to_its_own_target(qtbot, window, tmp_path, monkeypatch):
    panel = window.training_panel
    configure(panel, tmp_path / "run", steps=6)
    panel.form.checkpoint_every.setValue(2)
    events: list[object] = []
    panel.eventShown.connect(events.append)
    stop_at = lambda e: isinstance(e, ev.StepDone) and e.step >= 2 and panel.worker.engine.stop()  # noqa: E731
    panel.eventShown.connect(stop_at)
    assert _run_to_end(qtbot, panel) == "stopped"
    panel.eventShown.disconnect(stop_at)
    stopped = panel.last_step
    form = panel.form
    form.out.setText("")
    form.steps.setValue(2000)
    form.resume.setText(str(tmp_path / "run"))
    form.apply_resume_source()
    assert form.out.text() == str(tmp_path / "run") and form.steps.value() == 6
    assert form.size.currentText() == "From the checkpoint" and not form.size.isEnabled()
    monkeypatch.setattr(panel, "ask_existing_run", lambda out, found: pytest.fail("asked although resuming"))
    events.clear()
    assert _run_to_end(qtbot, panel) == "completed"
    started = next(e for e in events if isinstance(e, ev.Started))
    assert started.step == stopped and started.total == 6 and started.run_dir == str(tmp_path / "run")
    assert not [e for e in events if isinstance(e, ev.Warned)]  # its own sizes: nothing "kept" against a request
    assert [e.step for e in events if isinstance(e, ev.StepDone)] == list(range(stopped + 1, 7))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["steps"] == 6


def test_a_finished_run_is_one_click_from_the_grid_and_in_recent_models(qtbot, window, tmp_path):
    panel = window.training_panel
    configure(panel, tmp_path / "run", steps=2)
    assert _run_to_end(qtbot, panel) == "completed"
    model_file = tmp_path / "run" / "model_latest.safetensors"
    assert panel.buttons["use"].isEnabled() and "Finished at step 2 of 2" in panel.speed.text()
    assert str(model_file) in [str(Path(p)) for p in window.settings.recent("models")]
    with qtbot.waitSignal(window.controller.modelLoaded, timeout=TIMEOUT) as blocker:
        panel.buttons["use"].click()
    assert blocker.args[0].path == model_file and window.session.model is blocker.args[0]


def test_a_failed_start_says_what_the_dataset_folder_must_contain(qtbot, window, tmp_path):
    panel = window.training_panel
    flat = tmp_path / "flat"
    flat.mkdir()
    for n in range(3):
        write_image(flat / f"{n}.png", seed=n)
    configure(panel, tmp_path / "run")
    panel.form.data.setText(str(flat))
    assert _run_to_end(qtbot, panel) == "failed"
    assert panel.notice.isVisible() and "one sub-folder of images per person" in panel.notice.text()
    assert panel.speed.text().startswith("Failed at step 0")


def test_status_text_right_after_start_and_while_paused(qtbot, window, tmp_path):
    panel = window.training_panel
    configure(panel, tmp_path / "run")
    assert panel.start()
    assert panel.speed.text().startswith("Starting:")
    wait_event(qtbot, panel, ev.StepDone)
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.Paused)):
        panel.pause()
    assert panel.speed.text().startswith("Paused at step") and "it/s" not in panel.speed.text()
    with qtbot.waitSignal(panel.eventShown, timeout=TIMEOUT, check_params_cb=lambda e: isinstance(e, ev.StepDone)):
        panel.worker.engine.single_step()
    assert panel.speed.text().startswith("Paused at step") and "ETA" not in panel.speed.text()
    with qtbot.waitSignal(panel.runEnded, timeout=TIMEOUT):
        panel.stop()


def test_a_funit_file_to_resume_sets_the_form_from_it(qtbot, window, tmp_path):
    from g2g_desktop.core.funit import FunitGenerator
    from g2g_desktop.core.funit_files import save_funit_generators
    from tests.ui.factories import TINY

    gen = tmp_path / "gen_00005000.pt"
    save_funit_generators(gen, FunitGenerator(TINY), FunitGenerator(TINY))
    form = window.training_panel.form
    form.approach.setCurrentIndex(form.approach.findData("naive"))
    form.resume.setText(str(gen))  # typed, and Start pressed without leaving the field
    config = form.build_config(window.training_panel.weights)
    assert form.approach_key() == "funit2funit" and form.image_size.currentData() == 128
    assert form.steps.value() == 7000 and not form.size.isEnabled()
    assert (config.model, config.dis, config.image_size, config.steps) == ({}, {}, 128, 7000)
    form.steps.setValue(9000)  # the user's own edit after the form was filled stays
    assert form.build_config(window.training_panel.weights).steps == 9000
    form.resume.setText("")
    form.apply_resume_source()
    assert form.size.isEnabled() and form.size.currentData() == "tiny"


def test_notes_and_failures_show_under_the_buttons(qtbot, window):
    panel = window.training_panel
    panel.show_event(ev.Noted(10, "gen_00000010.pt: discriminator FRESH, no dis_00000010.pt beside it"))
    assert panel.notice.isVisible() and "discriminator FRESH" in panel.notice.text()
    assert "color" not in panel.notice.styleSheet()
    panel.show_event(ev.Failed("faces: found 1 identity"))
    assert panel.notice.text() == "Training failed: faces: found 1 identity" and "color" in panel.notice.styleSheet()
    assert "Training failed: faces: found 1 identity" in panel.log_view.toPlainText()


def test_a_recipe_sets_the_approach_options_and_weights_and_none_gives_them_back(qtbot, window, tmp_path):
    from trainer.loss_weights import LossWeights
    from trainer.presets import RECIPES

    panel, form = window.training_panel, window.training_panel.form
    form.approach.setCurrentIndex(form.approach.findData("naive"))
    form.recipe.setCurrentIndex(form.recipe.findData("identity"))
    assert form.approach_key() == "funit2funit"
    shown = panel.table.weights()
    assert shown["lambda_critic"] == 10.0 and shown["lambda_same"] == 1.0 and shown["gan_delay_steps"] == 1e6
    assert shown["lambda_long"] == shown["lambda_R"] == shown["lambda_L"] == 0.0
    form.out.setText(str(tmp_path / "run"))
    config = form.build_config(LossWeights.from_dict(shown))
    assert config.optimizer == "adam" and config.model["norm"] == "ln" and config.model["nf"] == 8  # under Tiny
    assert config.lr_gen == 1e-3
    changes = RECIPES["identity"].changes["weights"]
    assert {name: getattr(config.weights, name) for name in changes} == changes
    form.recipe.setCurrentIndex(form.recipe.findData(None))
    assert panel.table.weights() == LossWeights().to_dict()
    plain = form.build_config(LossWeights.from_dict(panel.table.weights()))
    assert plain.optimizer == "auto" and "norm" not in plain.model
