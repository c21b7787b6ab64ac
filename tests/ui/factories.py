"""Factories of the UI tests (imported by tests and tests/ui/conftest.py): the tiny generator sizes, small
noisy image files, a stand-in face detector, and the drop / load-model steps that drive the main window."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from g2g_desktop.core.config import FunitGeneratorConfig
from trainer.presets import preset_sizes

TINY = FunitGeneratorConfig(**preset_sizes("tiny", "funit2funit")[0], image_size=32)


def write_image(path, seed: int, size=(48, 40)):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (1, 1, 3))
    ramp = np.linspace(0, 1, size[0])[None, :, None]
    pixels = (base * ramp + rng.integers(0, 60, (size[1], size[0], 3))).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


TIMEOUT = 60_000


class FakeDetector:
    """Stands in for MTCNN (no face photos ship with the tests): returns the faces it is given."""

    def __init__(self, faces=()):
        self.faces = list(faces)
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return list(self.faces)


def load_model(qtbot, win, path, align=False):
    with qtbot.waitSignal(win.controller.modelLoaded, timeout=TIMEOUT):
        win.controller.open_model(path)
    win.session.set_align(align)


def drop(win, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():  # Qt 6 marks the only QDragEnterEvent constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier)
    win.dragEnterEvent(enter)
    assert enter.isAccepted()
    win.dropEvent(event)
    assert event.isAccepted()
    return event


def grid_with(alphas=(1.0, 1.0)):
    return lambda r: r.request.kind == "grid" and r.error is None and r.request.alphas == alphas


def drop_and_render(qtbot, win, paths):
    with qtbot.waitSignal(win.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with()) as blocker:
        drop(win, paths)
    return blocker.args[0]


def answer_box(button: str, seen: list[str] | None = None) -> None:
    """Click the button titled `button` on the next message box that opens (its `exec()` blocks the caller, so
    this polls from the event loop), after adding the box's text to `seen`."""

    def poll() -> None:
        box = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
                    and any(b.text() == button for b in w.buttons())), None)
        if box is None:  # not open yet (or only another test's leftover box is): look again
            QTimer.singleShot(20, poll)
            return
        if seen is not None:
            seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button).click()

    QTimer.singleShot(0, poll)
