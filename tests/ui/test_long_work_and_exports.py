"""Long work shows progress, fills in as it goes and can be cancelled; exports have options; grid cells
open a zoom view (issue 13, items 14, 15 and 21)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QFileDialog

from g2g_desktop.services.export import ExportOptions, Label
from g2g_desktop.ui.qt_text import QtTextPainter
from g2g_desktop.ui.settings import AppSettings
from tests.ui.factories import TIMEOUT, drop_and_render, load_model


@pytest.fixture
def mixing(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files)
    return window


class Gate:
    """Wraps a pipeline method so each call made on the thread of the work under test (its name starts with
    `thread`) waits for `release()`: the test steps through the work. Calls from other threads pass (the
    identity meter's fade curve also decodes, and once took a release meant for a matrix row)."""

    def __init__(self, obj, name: str, thread: str):
        self.semaphore, self.calls = threading.Semaphore(0), 0
        self.real = getattr(obj, name)
        self.thread = thread
        self.opened = False
        setattr(obj, name, self)

    def __call__(self, *args, **kwargs):
        if not threading.current_thread().name.startswith(self.thread):
            return self.real(*args, **kwargs)
        self.calls += 1
        if not self.opened:
            assert self.semaphore.acquire(timeout=30)
        return self.real(*args, **kwargs)

    def release(self, n: int = 1) -> None:
        self.semaphore.release(n)

    def open(self) -> None:
        self.opened = True
        self.semaphore.release(100)


def final_matrix(result) -> bool:
    return result.request.kind == "matrix" and result.final


# ------------------------------------------------------------------ item 14: progress, rows, cancel
def test_swap_matrix_fills_in_row_by_row_and_can_be_cancelled(qtbot, mixing):
    win, c = mixing, mixing.controller
    gate = Gate(win.session.model.pipeline, "_decode", "g2g-render")  # one decode per matrix row
    view = win.matrix_view
    win.tabs.setCurrentWidget(view)
    assert view.progress.isVisible() and view.progress.bar.value() == 0 and view.progress.bar.maximum() == 3
    with qtbot.waitSignal(c.renderProgress, timeout=TIMEOUT):
        gate.release()
    assert view.rows_shown == 1 and view.progress.bar.value() == 1
    assert view.canvas is None  # not exportable while partial
    shown = view.cell.source_pixmap().toImage()
    assert shown.width() == 4 * 32 + 5 * 2  # the whole frame, blank rows below
    view.progress.cancel_button.click()
    with qtbot.waitSignal(c.rendered, timeout=TIMEOUT, check_params_cb=lambda r: r.cancelled):
        gate.release()
    assert gate.calls <= 2  # stopped after the row in progress: row 3 was never decoded
    assert view.progress.isHidden() and view.compute_button.isVisible()
    assert f"Cancelled after {view.rows_shown} row(s)" in view.note.text() and view.rows_shown <= 2
    gate.open()
    with qtbot.waitSignal(c.rendered, timeout=TIMEOUT, check_params_cb=final_matrix):
        view.compute_button.click()
    assert view.canvas is not None and view.progress.isHidden()


def test_changing_the_pair_does_not_restart_the_matrix(qtbot, mixing):
    win, c = mixing, mixing.controller
    rows: list[int] = []
    c.renderProgress.connect(lambda r: rows.append(len(r.images["matrix"])))
    gate = Gate(win.session.model.pipeline, "_decode", "g2g-render")
    win.tabs.setCurrentWidget(win.matrix_view)
    with qtbot.waitSignal(c.renderProgress, timeout=TIMEOUT):
        gate.release()
    images = win.session.images
    c.request_pair((images[2].id, images[0].id))  # the pickers stay usable while the matrix computes
    with qtbot.waitSignal(c.rendered, timeout=TIMEOUT, check_params_cb=final_matrix):
        gate.open()
    assert rows == [1, 2]  # rows 1, 2 then the whole matrix: never back to row 1


def test_fade_export_shows_progress_and_cancel_writes_nothing(qtbot, mixing, tmp_path):
    win, c = mixing, mixing.controller
    gate = Gate(win.session.model.pipeline, "fade_frames", "g2g-task-export")
    target = tmp_path / "fade.gif"
    with qtbot.waitSignal(c.exports.progress, timeout=TIMEOUT):
        assert win.actions.export_fade(target, ExportOptions(frames=12, both_mixes=False))
        gate.release()
    assert win.export_progress.isVisible() and win.export_progress.bar.value() == 4
    assert win.export_progress.bar.maximum() == 12
    win.export_progress.cancel_button.click()
    with qtbot.waitSignal(c.exports.cancelled, timeout=TIMEOUT):
        gate.release()
    assert not target.exists() and win.export_progress.isHidden()
    assert "cancelled" in win.statusBar().currentMessage()
    gate.open()
    with qtbot.waitSignal(c.exports.done, timeout=TIMEOUT):
        win.actions.export_fade(target, ExportOptions(frames=12, both_mixes=False))
    assert Image.open(target).n_frames == 2 * 12 - 2  # forward and back


# ------------------------------------------------------------------ item 15: export options
def test_grid_export_scale_resampling_and_labels(mixing, tmp_path):
    actions = mixing.actions
    plain = np.asarray(Image.open(actions.export_grid(tmp_path / "g1.png", ExportOptions(scale=1, labels=False))))
    assert plain.shape == (3 * 32 + 8, 2 * 32 + 6, 3)
    big = np.asarray(Image.open(actions.export_grid(tmp_path / "g4.png", ExportOptions(scale=4, labels=False))))
    assert big.shape == (3 * 128 + 8, 2 * 128 + 6, 3)
    assert np.array_equal(big[2:130:4, 2:130:4], plain[2:34, 2:34])  # nearest: every model pixel kept
    assert np.array_equal(big[2:6, 2:6], np.broadcast_to(plain[2, 2], (4, 4, 3)))
    smooth = np.asarray(Image.open(actions.export_grid(tmp_path / "gs.png", ExportOptions(scale=4, smooth=True,
                                                                                       labels=False))))
    assert smooth.shape == big.shape and not np.array_equal(smooth, big)
    labelled = np.asarray(Image.open(actions.export_grid(tmp_path / "gl.png", ExportOptions(scale=4, labels=True))))
    assert labelled.shape[0] > big.shape[0] and labelled.shape[1] > big.shape[1]
    margin = labelled[: labelled.shape[0] - big.shape[0]]  # the column titles
    assert (margin < 128).any()  # text was drawn


def test_gif_export_holds_both_mixes_and_the_folder_is_remembered(qtbot, mixing, tmp_path, monkeypatch):
    win = mixing
    out = tmp_path / "exports"
    out.mkdir()
    asked: list[str] = []

    def save_dialog(parent, title, start, file_filter):
        asked.append(start)
        return str(out / "fade.gif"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    monkeypatch.setattr(win.actions, "ask_options", lambda *a, **k: ExportOptions(scale=2, labels=False, frames=5))
    with qtbot.waitSignal(win.controller.exports.done, timeout=TIMEOUT):
        win.actions.ask_export_fade(gif=True)
    gif = Image.open(out / "fade.gif")
    assert gif.size == (2 * 64 + 3 * 2, 64 + 2 * 2)  # mix 1 | mix 2, at 2×
    gif.seek(0)
    first = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first[2:66, 2:66], first[2:66, 68:132])
    win.actions.ask_export_grid()
    assert asked[1].startswith(str(out))  # the second dialog opens where the first saved
    assert AppSettings().last_folder("export") == str(out)


def test_export_dialog_choices_are_remembered(qtbot, window):
    from g2g_desktop.ui.widgets.export_dialog import ExportDialog

    def accept(dialog):
        dialog.scale.setCurrentIndex(dialog.scale.findData(8))
        dialog.resampling.setCurrentIndex(1)
        dialog.labels.setChecked(False)
        return 1

    real_exec = ExportDialog.exec
    ExportDialog.exec = accept
    try:
        chosen = window.actions.ask_options("Export grid", fade=False)
    finally:
        ExportDialog.exec = real_exec
    assert chosen.scale == 8 and chosen.smooth and not chosen.labels
    dialog = ExportDialog("again", __import__("g2g_desktop.ui.widgets.export_dialog", fromlist=["x"]).options_from(
        AppSettings().export_choices()), fade=False)
    assert dialog.options().scale == 8 and dialog.options().smooth and not dialog.options().labels


def test_exporting_the_matrix_before_its_tab_was_opened_computes_it(qtbot, mixing, tmp_path):
    win = mixing
    assert win.matrix_view.canvas is None
    target = tmp_path / "matrix.png"
    with qtbot.waitSignal(win.controller.rendered, timeout=TIMEOUT, check_params_cb=final_matrix):
        assert win.actions.export_matrix(target, ExportOptions(scale=1, labels=False)) is None
    qtbot.waitUntil(target.exists, timeout=TIMEOUT)
    assert Image.open(target).size == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2)


def test_a_huge_matrix_export_is_scaled_down_with_a_message(qtbot, mixing, tmp_path, monkeypatch):
    from g2g_desktop.services import export
    from g2g_desktop.ui import window_actions

    monkeypatch.setattr(export, "MAX_EXPORT_SIDE", 300)
    monkeypatch.setattr(window_actions, "MAX_EXPORT_SIDE", 300)
    with qtbot.waitSignal(mixing.controller.rendered, timeout=TIMEOUT, check_params_cb=final_matrix):
        mixing.tabs.setCurrentWidget(mixing.matrix_view)
    path = mixing.actions.export_matrix(tmp_path / "m.png", ExportOptions(scale=8, labels=False))
    assert Image.open(path).size == (4 * 64 + 5 * 2, 4 * 64 + 5 * 2)  # 2×: 8× and 4× would pass 300 px
    assert "at 2× instead of 8×" in mixing.statusBar().currentMessage()


# ------------------------------------------------------------------ item 21: zoom and compare
def test_double_click_or_wheel_on_a_cell_opens_the_zoom_view(qtbot, mixing):
    win = mixing
    cell = win.grid_view.cells[("mixed", 1)]
    qtbot.mouseDClick(cell, Qt.MouseButton.LeftButton)
    zoom = win.zoom_view
    assert zoom.isVisible() and (zoom.row, zoom.col) == ("mixed", 1)
    factor = zoom.factor()
    side = 32 * factor
    assert zoom.shown.shape == (side + 2 * 2, 2 * side + 3 * 2, 3)  # original | mix, side by side
    original, mixed = win.grid_view.images["original"][1], win.grid_view.images["mixed"][1]
    assert np.array_equal(zoom.shown[2 : 2 + side : factor, 2 : 2 + side : factor], original)
    right = 2 + side + 2
    assert np.array_equal(zoom.shown[2 : 2 + side : factor, right : right + side : factor], mixed)
    nearest = zoom.shown.copy()
    zoom.smooth.setChecked(True)
    assert zoom.shown.shape == nearest.shape and not np.array_equal(zoom.shown, nearest)
    zoom.compare.setChecked(False)
    assert zoom.shown.shape == (32 * factor, 32 * factor, 3)
    zoom.close()
    other = win.grid_view.cells[("reconstructed", 0)]
    wheel = QWheelEvent(QPointF(10, 10), QPointF(other.mapToGlobal(QPoint(10, 10))), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    other.wheelEvent(wheel)
    assert zoom.isVisible() and (zoom.row, zoom.col) == ("reconstructed", 0)
    with qtbot.waitSignal(win.controller.rendered, timeout=TIMEOUT):
        win.sliders.sliders[0].setValue(30)  # the zoom follows the grid
    qtbot.waitUntil(lambda: np.array_equal(zoom.images["reconstructed"], win.grid_view.images["reconstructed"]),
                    timeout=TIMEOUT)


# ------------------------------------------------------------------ issue 21 item 12: titles with α, GIF frame count
def _spy_titles(monkeypatch) -> list[tuple[Label, int]]:
    drawn: list[tuple[Label, int]] = []
    real = QtTextPainter.draw

    def spy(self, canvas, labels, size):
        drawn.extend((label, size) for label in labels)
        return real(self, canvas, labels, size)

    monkeypatch.setattr(QtTextPainter, "draw", spy)
    return drawn


def _whole(label: Label, size: int) -> bool:
    return QtTextPainter().width(label.text, size) <= label.box[2]


def test_grid_export_titles_the_mix_with_its_alphas_in_greek_and_whole(qtbot, mixing, tmp_path, monkeypatch):
    drawn = _spy_titles(monkeypatch)
    with qtbot.waitSignal(mixing.controller.rendered, timeout=TIMEOUT):
        mixing.controller.preview_alphas(-0.01, 1.0)
    path = mixing.actions.export_grid(tmp_path / "g.png", ExportOptions(scale=1, labels=True))
    title, size = next((label, size) for label, size in drawn if label.text.startswith("Mixed"))
    assert title.text == "Mixed α = -0.01 / 1.00" and _whole(title, size)  # was "Mixed a=-0.01/1…"
    picture = np.asarray(Image.open(path))
    x, y, w, h = title.box
    assert (picture[y : y + h, x : x + w] < 128).any()  # the title is on the picture


def test_fade_export_titles_each_frame_with_its_alpha_and_counts_the_gif_frames(qtbot, mixing, tmp_path,
                                                                                 monkeypatch):
    from g2g_desktop.ui.widgets.export_dialog import ExportDialog

    drawn = _spy_titles(monkeypatch)
    target = tmp_path / "fade.gif"
    with qtbot.waitSignal(mixing.controller.exports.done, timeout=TIMEOUT):
        mixing.actions.export_fade(target, ExportOptions(frames=3, labels=True, bounce=False))
    with Image.open(target) as gif:
        assert gif.n_frames == 3  # no bounce: exactly the frames asked for
    alphas = [label for label, _ in drawn if label.text.startswith("α")]
    assert [label.text for label in alphas] == ["α = -0.50", "α = +0.50", "α = +1.50"]
    assert all(_whole(label, size) for label, size in drawn if label.text.startswith("α"))
    assert len({label.box for label in alphas}) == 1  # one margin for every frame: the GIF keeps one size
    dialog = ExportDialog("Export fade", ExportOptions(frames=21), fade=True, gif=True)
    assert dialog.count.text().startswith("The GIF holds 40 frames: 21 forward")
    dialog.bounce.setChecked(False)
    assert dialog.count.text().startswith("The GIF holds 21 frames")
    assert not dialog.options().bounce
