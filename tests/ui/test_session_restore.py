"""Session restore (issue 13 item 20): the next start reopens the last model, images and training form."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from g2g_desktop.ui.app import Launch, create_window
from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.session_store import restore_session, save_session
from g2g_desktop.ui.settings import AppSettings

TIMEOUT = 30_000


def _run_until_mixed(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: "grid" in win.controller.last, timeout=TIMEOUT)


@pytest.fixture
def closed_session(qtbot, tiny_model, image_files):
    """A window that showed the tiny model and three images, with the pair (image 2, image 0), then closed."""
    win = create_window(tiny_model, AppSettings(), images=image_files)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(win.session.images) == 3 and win.session.model is not None, timeout=TIMEOUT)
    ids = [im.id for im in win.session.images]
    win.controller.request_pair((ids[2], ids[0]))
    _run_until_mixed(qtbot, win)
    win.close()
    return tiny_model, image_files


def test_closing_saves_the_model_and_the_images_pair_first(closed_session):
    model, images = closed_session
    restored = restore_session(AppSettings().qsettings)
    assert restored.model == model
    assert restored.images == [images[2], images[0], images[1]]
    assert restored.note() == ""


def test_the_next_start_reopens_them_and_names_what_is_gone(qtbot, closed_session):
    model, images = closed_session
    images[1].unlink()
    launch = Launch(QApplication.instance(), AppSettings(), None, None)
    launch.start()
    qtbot.waitUntil(lambda: launch.window is not None, timeout=TIMEOUT)
    win = launch.window
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(win.session.images) == 2 and win.session.model is not None, timeout=TIMEOUT)
    assert win.session.model.path == model
    assert [im.name for im in win.session.images] == [images[2].name, images[0].name]
    assert [im.name for im in win.session.pair_images()] == [images[2].name, images[0].name]
    assert "1 file(s) no longer exist" in win.notice_bar.label.text() and images[1].name in win.notice_bar.label.text()
    assert not launch.startup.isVisible()
    _run_until_mixed(qtbot, win)
    win.close()


def test_the_command_line_wins_over_the_last_session(qtbot, closed_session, tmp_path):
    model, images = closed_session
    launch = Launch(QApplication.instance(), AppSettings(), None, [images[1]])
    assert launch.model_path == model and launch.images == [images[1]]
    assert launch.note == ""
    launch.startup.close()


def test_a_missing_model_is_skipped_with_a_note(tmp_path, image_files):
    settings = AppSettings()
    save_session(settings.qsettings, tmp_path / "gone.safetensors", image_files[:1])
    restored = restore_session(settings.qsettings)
    assert restored.model is None and restored.images == image_files[:1]
    assert "gone.safetensors" in restored.note() and restored.note(model=False) == ""


def test_a_model_snapshot_keeps_the_file_saved_before(tmp_path, image_files, tiny_model):
    settings = AppSettings()
    save_session(settings.qsettings, tiny_model, image_files)
    save_session(settings.qsettings, None, image_files[:1])  # the active model had no file
    assert restore_session(settings.qsettings).model == tiny_model


def test_the_training_form_is_restored(qtbot):
    win = MainWindow(AppSettings())
    qtbot.addWidget(win)
    form = win.training_panel.form
    form.steps.setValue(1234)
    form.approach.setCurrentIndex(form.approach.findData("naive"))
    form.image_size.setCurrentIndex(form.image_size.findData(32))
    form.data.setText("/data/faces")
    win.close()

    again = MainWindow(AppSettings())
    qtbot.addWidget(again)
    form = again.training_panel.form
    assert form.steps.value() == 1234
    assert form.approach.currentData() == "naive" and form.image_size.currentData() == 32
    assert form.data.text() == "/data/faces"
    again.close()


def test_settings_kinds_are_stored_under_their_plain_names(tmp_path):
    """Theme and Recent are enums in the code; the settings file keeps the plain strings it always held."""
    from g2g_desktop.ui.settings import Recent, Theme

    settings = AppSettings()
    settings.set_theme(Theme.LIGHT)
    settings.add_recent(Recent.MODELS, tmp_path / "a.safetensors")
    raw = settings.qsettings
    assert raw.value("appearance/theme") == "light" and AppSettings().theme() is Theme.LIGHT
    assert raw.value("recent/models") == [str(tmp_path / "a.safetensors")]
    assert settings.recent("models") == settings.recent(Recent.MODELS) == [str(tmp_path / "a.safetensors")]
    raw.setValue("appearance/theme", "purple")  # a value this version does not know falls back to dark
    assert AppSettings().theme() is Theme.DARK
