"""Start-up (issue 13 items 17, 19 and 22): the command line, the display check, the loading window,
the Training dock built on demand and the first window's size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QApplication, QWidget

from g2g_desktop import __main__ as entry
from g2g_desktop.ui import app as app_module
from g2g_desktop.ui.app import create_window
from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.settings import AppSettings
from g2g_desktop.ui.startup import display_problem, first_window_rect, fit_rect, place_window
from tests.ui.factories import drop

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30_000


def _env(**changes: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "G2G_DEVICE": "cpu"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


# ------------------------------------------------------------------------------------------ item 17
def test_help_lists_the_model_and_the_images(capsys):
    with pytest.raises(SystemExit) as exit_info:
        entry.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--model PATH" in out and "IMAGE" in out and "mix" in out


@pytest.mark.parametrize("model_args", [["--model=m.safetensors"], ["--model", "m.safetensors"]])
def test_images_and_model_on_the_command_line_reach_the_app(monkeypatch, model_args):
    seen = {}
    monkeypatch.setattr(app_module, "main", lambda argv, **kw: seen.update(kw) or 0)
    assert entry.main([*model_args, "a.jpg", "b.jpg"]) == 0
    assert seen == {"model_path": Path("m.safetensors"), "images": [Path("a.jpg"), Path("b.jpg")]}


def test_a_sub_command_still_goes_to_the_headless_cli(monkeypatch):
    from g2g_desktop import cli

    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    assert entry.main(["info", "x.safetensors"]) == 0
    assert seen == [["info", "x.safetensors"]]


def test_display_problem_only_without_any_display():
    assert display_problem({}, "linux") is not None
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "win32") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays are a Linux matter")
@pytest.mark.parametrize("display", [None, ":987"], ids=["unset", "no-server"])
def test_without_a_display_one_line_and_exit_2(display):
    env = _env(QT_QPA_PLATFORM=None, WAYLAND_DISPLAY=None, DISPLAY=display)
    done = subprocess.run(
        [sys.executable, "-m", "g2g_desktop"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("g2g-desktop: error:") and "g2g-desktop mix" in lines[0]


# ------------------------------------------------------------------------------------------ item 22
def test_the_first_window_is_up_before_torch_and_the_trainer_stay_unloaded(tmp_path, tiny_model, image_files):
    """The real start (`ui.app.main`) through the benchmark's probe, which doubles as its smoke test."""
    env = _env(QT_QPA_PLATFORM="offscreen", G2G_SETTINGS_FILE=str(tmp_path / "s.ini"), G2G_BENCH_T0=repr(time.time()))
    args = ["app", "--model", str(tiny_model), *map(str, image_files[:2])]
    done = subprocess.run(
        [sys.executable, "-m", "bench.startup_probe", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["torch_at_first_window"] is False
    assert 0 < result["first_window_s"] < result["first_mixed_image_s"]
    loaded = result["loaded_at_idle"]
    assert loaded["torch"] and not loaded["trainer"]  # facenet-pytorch loads only to align photos (on here)
    assert result["rss_idle_mb"] is None or result["rss_idle_mb"] > 0


def test_create_window_says_the_model_is_loading_then_mixes(qtbot, tiny_model, image_files):
    win = create_window(tiny_model, images=image_files[:2])
    qtbot.addWidget(win)
    assert win.grid_view.empty_label.text() == "Loading the model tiny.safetensors…"
    assert win.no_pair_text == "Loading 2 image(s)…"
    qtbot.waitUntil(lambda: "grid" in win.controller.last, timeout=TIMEOUT)
    assert [im.name for im in win.session.images] == ["person0.png", "person1.png"]
    assert "Drop two or more images" in win.no_pair_text
    win.close()


def test_the_images_loading_state_is_shown_until_they_arrive(qtbot, tiny_model, image_files):
    win = create_window(tiny_model, images=[])
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.session.model is not None, timeout=TIMEOUT)
    win.controller.open_paths([str(image_files[0])])
    assert win.grid_view.empty_label.text() == "Loading 1 image(s)…"
    qtbot.waitUntil(lambda: "Drop two or more images" in win.grid_view.empty_label.text(), timeout=TIMEOUT)
    win.close()


def test_a_drop_and_start_up_open_images_the_same_way(qtbot, tiny_model, image_files):
    """Issue 22 item 4: start-up and a drop used two paths, one saying "Loading…", the other keeping the
    recent files; both now go through `MixController.open_paths` and do both."""
    win = create_window(tiny_model, images=image_files[:1])
    qtbot.addWidget(win)
    assert win.no_pair_text == "Loading 1 image(s)…"
    qtbot.waitUntil(lambda: len(win.session.images) == 1, timeout=TIMEOUT)
    assert win.settings.recent("files")[0].endswith(image_files[0].name)
    drop(win, [image_files[1]])
    assert win.no_pair_text == "Loading 1 image(s)…"
    assert win.settings.recent("files")[0].endswith(image_files[1].name)
    qtbot.waitUntil(lambda: "grid" in win.controller.last, timeout=TIMEOUT)
    win.close()


def test_a_failed_model_load_leaves_no_loading_text(qtbot, tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    win = create_window(junk, images=[])
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.actions.error_box is not None, timeout=TIMEOUT)
    win.actions.error_box.close()
    assert "Loading" not in win.grid_view.empty_label.text()
    win.close()


def test_the_training_panel_is_built_when_its_dock_is_shown(qtbot):
    win = MainWindow(AppSettings())
    qtbot.addWidget(win)
    win.show()
    assert win.training.panel is None
    win.training_dock.raise_()
    qtbot.waitUntil(lambda: win.training.panel is not None, timeout=TIMEOUT)
    assert win.training_dock.isAncestorOf(win.training_panel)
    win.close()


def test_the_training_dock_needs_no_horizontal_scroll_bar_in_a_1400_px_window(qtbot):
    """The chart controls side by side made the panel wider than its dock (the form, status and chart were cut)."""
    from PySide6.QtWidgets import QScrollArea

    win = MainWindow(AppSettings())
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    win.training_dock.raise_()
    qtbot.waitUntil(lambda: win.training.panel is not None, timeout=TIMEOUT)
    scroll = win.training_dock.widget()
    assert isinstance(scroll, QScrollArea)
    qtbot.waitUntil(lambda: scroll.viewport().width() > 0, timeout=TIMEOUT)
    assert win.training_panel.minimumSizeHint().width() <= scroll.viewport().width()
    assert not scroll.horizontalScrollBar().isVisible()
    win.close()


def test_closing_before_the_training_dock_was_opened_builds_nothing(qtbot):
    win = MainWindow(AppSettings())
    qtbot.addWidget(win)
    win.show()
    win.close()
    assert win.training.panel is None


# ------------------------------------------------------------------------------------------ item 19
@pytest.mark.parametrize("available", [QRect(0, 0, 1024, 700), QRect(0, 0, 1280, 720), QRect(0, 0, 800, 600)], ids=str)
def test_the_first_window_rect_fits_the_screen(available):
    rect = first_window_rect(available)
    assert available.contains(rect) and rect.width() <= 1400 and rect.height() <= 900


def test_a_large_screen_gets_the_preferred_size_centred():
    rect = first_window_rect(QRect(0, 0, 2560, 1440))
    assert rect.size() == QSize(1400, 900) and rect.center() == QRect(0, 0, 2560, 1440).center()


def test_a_restored_geometry_from_a_bigger_screen_is_pulled_on_screen():
    available = QRect(0, 0, 1024, 700)
    fitted = fit_rect(QRect(1800, 900, 2400, 1500), available)
    assert available.contains(fitted)


SCREEN_PROBE = (
    "from PySide6.QtWidgets import QApplication\n"
    "app = QApplication([])\n"
    "from g2g_desktop.ui.main_window import MainWindow\n"
    "from g2g_desktop.ui.settings import AppSettings\n"
    "w = MainWindow(AppSettings()); w.show(); app.processEvents()\n"
    "w.training_dock.raise_(); w.training_panel; app.processEvents()\n"
    "a, f = app.primaryScreen().availableGeometry(), w.frameGeometry()\n"
    "print(a.contains(f), a, f)\n"
    "w.close()\n"
)


@pytest.mark.parametrize(("width", "height", "scale"), [(1024, 700, "1"), (2560, 1440, "2")], ids=["1024x700", "x2"])
def test_the_main_window_fits_small_and_scaled_screens(tmp_path, width, height, scale):
    config = tmp_path / "screen.json"
    screen = {
        "name": "s",
        "x": 0,
        "y": 0,
        "width": width,
        "height": height,
        "logicalDpi": 96,
        "logicalBaseDpi": 96,
        "dpr": 1,
    }
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    env = _env(
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        QT_SCALE_FACTOR=scale,
        G2G_SETTINGS_FILE=str(tmp_path / "s.ini"),
    )
    done = subprocess.run(
        [sys.executable, "-c", SCREEN_PROBE], env=env, capture_output=True, text=True, timeout=240, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("True"), done.stdout


def test_a_saved_geometry_larger_than_the_screen_is_fitted_on_restore(qtbot):
    available = QApplication.primaryScreen().availableGeometry()
    big = QWidget()
    qtbot.addWidget(big)
    big.setGeometry(
        QRect(available.right() - 100, available.bottom() - 100, 2 * available.width(), 2 * available.height())
    )
    saved = big.saveGeometry()
    window = QWidget()
    qtbot.addWidget(window)
    place_window(window, saved)
    assert available.contains(window.geometry()), (window.geometry(), available)
