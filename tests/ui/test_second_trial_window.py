"""The window as a new user met it in the second trial (issue 21 items 4, 7 and 9): the Training dock's
shortcut, a small screen, and what the next start restores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.services.models import model_from_snapshot
from g2g_desktop.ui.app import Launch, create_window
from g2g_desktop.ui.settings import AppSettings
from g2g_desktop.ui.startup import place_window
from tests.ui.factories import TINY
from trainer.events import ModelSnapshot
from trainer.state import state_to_cpu

TIMEOUT = 60_000
REPO = Path(__file__).resolve().parents[2]


def _shortcut(window, keys: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence(keys))


# ------------------------------------------------------------------------------------------ item 4
def test_ctrl_shift_t_brings_the_training_dock_to_the_front_from_behind_model(qtbot, window):
    dock, action = window.training_dock, _shortcut(window, "Ctrl+Shift+T")
    qtbot.waitUntil(lambda: not window.model_dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert dock.visibleRegion().isEmpty()  # on the first screen it is a tab behind Model
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked() and not dock.isHidden()
    window.model_dock.raise_()
    qtbot.waitUntil(lambda: dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked()  # open, behind a tab: still ticked
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    action.trigger()  # in front: the shortcut closes it
    assert dock.isHidden() and not action.isChecked()
    action.trigger()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=TIMEOUT)
    assert action.isChecked()
    qtbot.waitUntil(lambda: window.training.panel is not None, timeout=TIMEOUT)


# ------------------------------------------------------------------------------------------ item 7
SMALL_SCREEN = (1024, 700)
LARGE_SCREEN = (1600, 1000)
PROBE = """
import json, sys
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.settings import AppSettings
from g2g_desktop.ui.startup import place_window
w = MainWindow(AppSettings()); w.show(); app.processEvents()
screen = app.primaryScreen().availableGeometry()
out = {"screen": [screen.width(), screen.height()], "frame": list(w.frameGeometry().getRect()),
       "size": [w.width(), w.height()], "images_dock": w.images_dock.width(),
       "right_dock": max(w.model_dock.width(), w.training_dock.width())}
if sys.argv[1] == "small":
    w.notice_bar.show_notice("Face alignment is off for this model, so the centre square of person_a_1.jpg, "
                             "person_b_1.jpg is mixed, not the face. Photos need their faces detected and aligned.",
                             [("Align faces", lambda: None)])
    w.purpose_bar.show_text("This model was trained on procedural (synthetic) faces; person_a_1.jpg, person_b_1.jpg "
                            "look like real photos, which need a model trained on photos.")
    w.grid_view.show_images({row: __import__("numpy").zeros((2, 64, 64, 3), "uint8")
                             for row in ("original", "mixed", "reconstructed")})
    w.training_dock.raise_(); w.training_panel
    for _ in range(20):
        app.processEvents()
    scroll = w.training_dock.widget()
    out.update(frame_after=list(w.frameGeometry().getRect()), panel_needs=w.training_panel.minimumSizeHint().width(),
               panel_gets=scroll.viewport().width(), grid_needs=w.grid_view.minimumSizeHint().height(),
               grid_gets=w.grid_view.height(), cells=[c.width() for c in w.grid_view.cells.values()])
print(json.dumps(out))
w.close()
"""


def _probe(tmp_path, size, which):
    config = tmp_path / f"screen{size[0]}.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": size[0], "height": size[1], "logicalDpi": 96,
              "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "G2G_DEVICE": "cpu",
           "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "G2G_SETTINGS_FILE": str(tmp_path / "settings.ini")}
    done = subprocess.run([sys.executable, "-c", PROBE, which], env=env, capture_output=True, text=True, timeout=240,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_1024x700_screen_gets_the_whole_screen_uncut_docks_and_whole_cells(tmp_path):
    small = _probe(tmp_path, SMALL_SCREEN, "small")
    assert small["frame"] == [0, 0, *SMALL_SCREEN]  # not 942×644 in the middle
    assert small["frame_after"] == small["frame"]  # the Training dock fits without widening the window
    assert small["panel_gets"] >= small["panel_needs"]  # no half-hidden "Save no…" button
    assert small["grid_gets"] >= small["grid_needs"] and min(small["cells"]) >= 64  # both bars shown
    large = _probe(tmp_path, LARGE_SCREEN, "large")  # the same settings file, now on a larger screen
    assert large["size"] == [1400, 900]
    assert large["images_dock"] >= 280 and large["right_dock"] >= 400  # not the narrow 1024 px widths


def test_the_photo_tab_with_long_captions_leaves_the_docks_their_width(qtbot, window):
    window.showNormal()
    window.resize(1400, 900)
    window.resizeDocks([window.images_dock, window.model_dock], [300, 430], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: window.images_dock.width() >= 280, timeout=TIMEOUT)
    before = window.images_dock.width(), window.model_dock.width()
    photo = Image.new("RGB", (910, 1137), (90, 120, 150))
    captions = [f"a_rather_long_photo_name_{i}.jpg with the identity of another_long_photo_name_{i}.jpg"
                for i in range(2)]
    window.photo_view.show_photos([photo, photo], captions)
    window.tabs.setCurrentWidget(window.photo_view)
    qtbot.wait(100)
    window.tabs.setCurrentIndex(0)
    qtbot.wait(100)
    assert (window.images_dock.width(), window.model_dock.width()) == before


# ------------------------------------------------------------------------------------------ items 8 and 9
def _launch(qtbot, images=None):
    launch = Launch(QApplication.instance(), AppSettings(), None, images)
    launch.start()
    qtbot.waitUntil(lambda: launch.window is not None, timeout=TIMEOUT)
    qtbot.addWidget(launch.window)
    return launch.window


@pytest.fixture
def last_session(qtbot, tiny_model, image_files):
    """A closed window that mixed the tiny model (alignment off: no MTCNN) with three images, two of them marked
    as the same person, and then a copy of a model being trained."""
    settings = AppSettings()
    settings.set_alignment(tiny_model, False)
    win = create_window(tiny_model, settings, images=image_files)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: len(win.session.images) == 3 and "grid" in win.controller.last, timeout=TIMEOUT)
    ids = [im.id for im in win.session.images]
    win.session.set_same_person(ids[1:])
    generator = FunitGenerator(TINY)
    snapshot = ModelSnapshot(7, state_to_cpu(generator.state_dict()), TINY, "funit2funit", "gen_test",
                             {"data": "procedural:8:4", "aligned": False})
    with qtbot.waitSignal(win.controller.modelLoaded, timeout=TIMEOUT):
        win.training_panel.show_event(snapshot)  # what "Use for mixing" does with the copy the engine sends
    qtbot.waitUntil(lambda: "grid" in win.controller.last, timeout=TIMEOUT)
    win.close()
    return image_files


def test_the_next_start_reopens_the_training_copy_and_the_same_person_groups(qtbot, last_session):
    win = _launch(qtbot)
    qtbot.waitUntil(lambda: win.session.model is not None and len(win.session.images) == 3, timeout=TIMEOUT)
    info = win.session.model.info
    assert info is not None and info.step == 7 and info.trained_on == "procedural" and info.weights == "gen_test"
    qtbot.waitUntil(lambda: win.session.groups != [], timeout=TIMEOUT)
    names = {im.id: im.name for im in win.session.images}
    assert [[names[i] for i in group] for group in win.session.groups] == [[p.name for p in last_session[1:]]]
    win.close()


def test_a_start_whose_images_all_fail_reopens_the_last_sessions_images(qtbot, last_session, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    win = _launch(qtbot, [bad, tmp_path / "nope"])
    qtbot.waitUntil(lambda: len(win.session.images) == 3, timeout=TIMEOUT)
    assert [im.name for im in win.session.images] == [p.name for p in last_session]
    assert "None of the images given could be opened" in win.notice_bar.label.text()
    assert "bad.png" in win.notice_bar.label.text()
    qtbot.waitUntil(lambda: win.session.groups != [], timeout=TIMEOUT)  # with their groups
    win.close()


def test_a_kept_training_copy_remembers_the_alignment_it_is_mixed_with(qtbot, window, tmp_path):
    window.session.set_align(True)
    snapshot = ModelSnapshot(3, state_to_cpu(FunitGenerator(TINY).state_dict()), TINY, "naive", "gen",
                             {"data": "procedural:8:4", "aligned": False})
    model = model_from_snapshot(snapshot, keep=tmp_path / "copy.safetensors")
    window.controller.use_model(model)
    assert model.path == tmp_path / "copy.safetensors" and window.session.align
    assert window.settings.alignment(model.path, False)  # what the next start opens it with



def test_a_window_saved_maximized_comes_back_over_the_whole_screen(qtbot):
    available = QApplication.primaryScreen().availableGeometry()
    first = QWidget()
    qtbot.addWidget(first)
    first.setGeometry(QRect(10, 10, 300, 200))
    first.showMaximized()
    qtbot.waitUntil(first.isMaximized, timeout=TIMEOUT)
    saved = first.saveGeometry()
    again = QWidget()
    qtbot.addWidget(again)
    place_window(again, saved)
    assert again.isMaximized() and again.geometry() == available


def test_a_kept_notice_stays_above_a_later_one_until_dismissed(qtbot):
    """The start's "reopened the last session" note was wiped out when the model's alignment offer came later."""
    from g2g_desktop.ui.widgets.notice_bar import NoticeBar

    bar = NoticeBar()
    qtbot.addWidget(bar)
    bar.show_notice("first the load", [("Act", lambda: None)])
    bar.show_notice("kept", keep=True)
    assert bar.label.text() == "kept\nfirst the load" and bar.button("Act")  # shown under it, buttons kept
    bar.show_notice("later offer", [("Align faces", lambda: None)])
    assert bar.label.text() == "kept\nlater offer" and bar.button("Align faces")
    bar.button("Dismiss").click()
    assert bar.isHidden() and not bar.kept
    bar.show_notice("next")
    assert bar.label.text() == "next"
