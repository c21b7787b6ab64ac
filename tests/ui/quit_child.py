"""Child process of test_quit_midwork.py: the real app (`ui.app.main`) that closes its window while one
kind of long work runs, made slow by patching the step it spends its time in, or (KIND "idle") with
nothing running: it closes once the start-up's own tasks (the face detector's first import) have ended.

argv: KIND MODEL IMAGE1 IMAGE2 RUN_DIR. Prints "CLOSING" just before closing; the parent times the exit.
KIND "training" trains two quick steps, then makes each step take STEP_S and quits during the third,
answering the quit question with *Save and quit*, as a user would.
It also prints "ATEXIT" from an atexit handler and "TEARDOWN" if the interpreter begins its own exit.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("G2G_DEVICE", "cpu")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from g2g_desktop.core.pipeline import G2GPipeline
from g2g_desktop.ui import app as app_module
from g2g_desktop.ui import mix_controller, photo_tools
from g2g_desktop.ui.main_window import MainWindow
from g2g_desktop.ui.threads import running_workers
from tests.ui.factories import answer_box
from trainer.engine import TrainingEngine

KIND, MODEL, IMAGES, RUN_DIR = sys.argv[1], sys.argv[2], sys.argv[3:5], sys.argv[5]
SLOW_S = 30.0  # far longer than the 2 s the window may take to close
STEP_S = 4.0  # a slow training step: longer than the window's grace, short enough to wait for
busy = threading.Event()  # set once the slow work is under way


def slow(fn, when=lambda *a, **k: True):
    def wrapper(*args, **kwargs):
        if when(*args, **kwargs):
            busy.set()
            time.sleep(SLOW_S)
        return fn(*args, **kwargs)

    return wrapper


class SlowDetector:
    def __call__(self, image):
        busy.set()
        time.sleep(SLOW_S)
        return []


armed = threading.Event()  # renders are slowed only once the window is set up
if KIND in ("render", "matrix", "export"):
    G2GPipeline._decode = slow(G2GPipeline._decode, when=lambda *a, **k: armed.is_set())
if KIND == "model":
    mix_controller.load_model_file = slow(mix_controller.load_model_file, when=lambda *a: armed.is_set())
if KIND == "training":
    real_step = TrainingEngine.step

    def slow_step(engine):
        if engine.current_step >= 2:
            busy.set()
            time.sleep(STEP_S)
        return real_step(engine)

    TrainingEngine.step = slow_step
if KIND == "detect":
    mix_controller.MtcnnDetector = SlowDetector
if KIND == "photos":
    photo_tools.paste_pair = slow(photo_tools.paste_pair)
app_module.sample_paths = lambda: IMAGES

app = QApplication(["g2g-desktop"])


def interpreter_exit(shutdown=threading._shutdown):
    """The first step of the interpreter's own exit (Py_FinalizeEx joins the threads), which os._exit skips."""
    print("TEARDOWN", flush=True)
    shutdown()


threading._shutdown = interpreter_exit
atexit.register(lambda: print("ATEXIT", flush=True))


def window() -> MainWindow:
    return next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))


def ready() -> bool:
    try:
        return "grid" in window().controller.last
    except StopIteration:
        return False


def start_work() -> None:
    win = window()
    c = win.controller
    armed.set()
    if KIND == "idle":
        busy.set()
    elif KIND == "render":
        c.session.set_alphas((0.3, 0.7))
    elif KIND == "matrix":
        win.tabs.setCurrentWidget(win.matrix_view)
    elif KIND == "export":
        win.actions.export_fade(os.path.join(RUN_DIR, "fade.gif"))
    elif KIND == "detect":
        win.align_box.setChecked(True)
    elif KIND == "photos":
        win.tabs.setCurrentWidget(win.photo_view)  # pastes the grid's mixes into the full photos
    elif KIND == "model":
        c.open_model(MODEL)
    elif KIND == "training":
        form = win.training_panel.form
        form.approach.setCurrentIndex(form.approach.findData("naive"))
        form.data.setText("procedural:4:3")
        form.size.setCurrentIndex(0)
        form.image_size.setCurrentIndex(form.image_size.findData(32))
        form.steps.setValue(1000)
        form.batch.setValue(2)
        form.out.setText(RUN_DIR)
        assert win.training_panel.start()
    close_when_busy()


def close_when_busy() -> None:
    if not busy.is_set() or (KIND == "idle" and any(name.startswith("g2g-task") for name in running_workers())):
        QTimer.singleShot(20, close_when_busy)
        return
    print("CLOSING", flush=True)
    if KIND == "training":
        answer_box("Save and quit")
    window().close()


def wait_ready() -> None:
    if ready():
        start_work()
    else:
        QTimer.singleShot(20, wait_ready)


QTimer.singleShot(0, wait_ready)
sys.exit(app_module.main([], model_path=MODEL))
