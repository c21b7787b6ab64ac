"""The mixing view as a new user met it in the second trial (issue 21 items 3, 5, 6 and 8): what counts as a
real photo, a swap-matrix Cancel that sticks, photos with alignment off, and Remove all."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from g2g_desktop.core.face_align import Face
from g2g_desktop.core.resources import sample_paths
from g2g_desktop.services.render_queue import RenderKind
from g2g_desktop.ui.widgets.swap_matrix import matrix_note
from tests.ui.factories import TIMEOUT, FakeDetector, drop_and_render, load_model, write_image

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
needs_photos = pytest.mark.skipif(not (PHOTOS / "person_a_1.jpg").is_file(), reason="../shared/photos is absent")
ANY_FACE = Face((4.0, 4.0, 60.0, 60.0), ((20.0, 25.0), (44.0, 25.0), (32.0, 36.0), (22.0, 48.0), (42.0, 48.0)), 0.98)


# ------------------------------------------------------------------------------------------ item 3
def test_the_bundled_samples_are_not_called_photos_even_where_a_face_is_found(qtbot, window, procedural_model):
    """MTCNN finds a face in a drawn face too (98 % in sample 1): a face is no evidence of a photo."""
    window.controller.detector.faces = [ANY_FACE]
    load_model(qtbot, window, procedural_model, align=True)
    drop_and_render(qtbot, window, sample_paths()[:2])
    qtbot.waitUntil(lambda: all(im.detected for im in window.session.images), timeout=TIMEOUT)
    window.photo_tools.update_purpose()
    assert all(im.uses_face for im in window.session.images)
    assert not window.purpose_bar.isVisible(), window.purpose_bar.label.text()


@needs_photos
def test_a_real_photo_is_still_called_a_photo(qtbot, window, procedural_model):
    load_model(qtbot, window, procedural_model)
    drop_and_render(qtbot, window, [sample_paths()[0], PHOTOS / "person_b_1.jpg"])
    qtbot.waitUntil(window.purpose_bar.isVisible, timeout=TIMEOUT)
    text = window.purpose_bar.label.text()
    assert "person_b_1.jpg" in text and sample_paths()[0].name not in text


def test_long_column_titles_are_elided_inside_their_column(qtbot, window, tiny_model, tmp_path):
    load_model(qtbot, window, tiny_model)
    names = [tmp_path / f"{i:02d}_a_rather_long_file_name_of_person_{i}.png" for i in range(2)]
    for source, target in zip(sample_paths(), names):
        target.write_bytes(source.read_bytes())
    window.resize(1024, 700)
    drop_and_render(qtbot, window, names)
    qtbot.wait(50)
    first, second = window.grid_view.column_titles
    for label in (first, second):
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert first.geometry().right() < second.geometry().left()
    assert window.controller.shown_grid().names == (names[0].name, names[1].name)  # exports and zoom: whole names


# ------------------------------------------------------------------------------------------ item 5
class SlowDetector(FakeDetector):
    def __call__(self, image):
        time.sleep(0.15)
        return super().__call__(image)


def test_a_cancelled_swap_matrix_stays_cancelled_while_faces_are_detected(qtbot, window, tiny_model, image_files):
    window.controller.detector = SlowDetector([ANY_FACE])
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files)
    window.align_box.setChecked(True)  # detection runs for ~0.5 s
    started = []
    with qtbot.waitSignal(window.controller.matrixStarted, timeout=TIMEOUT):
        window.tabs.setCurrentWidget(window.matrix_view)
    window.controller.matrixStarted.connect(started.append)
    window.matrix_view.progress.cancel_button.click()
    qtbot.waitUntil(lambda: all(im.detected for im in window.session.images), timeout=TIMEOUT)
    qtbot.wait(300)
    assert started == [] and window.matrix_view.progress.isHidden()
    assert not window.matrix_view.compute_button.isHidden()
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=_final_matrix):
        window.matrix_view.compute_button.click()
    assert started == [3]


def _final_matrix(result) -> bool:
    return result.request.kind == RenderKind.MATRIX and result.final and not result.cancelled


def test_the_swap_matrix_shows_all_24_images_and_scrolls(qtbot, window, tiny_model, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    paths = [write_image(folder / f"p{i:02d}.png", seed=i) for i in range(24)]
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, paths)
    window.resize(1024, 700)
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=_final_matrix) as blocker:
        window.tabs.setCurrentWidget(window.matrix_view)
    assert len(blocker.args[0].request.image_ids) == 24
    view = window.matrix_view
    qtbot.waitUntil(lambda: view.canvas is not None, timeout=TIMEOUT)
    cell = view.cell.contentsRect().size()
    assert cell.width() >= view.canvas.shape[1] and cell.height() >= view.canvas.shape[0]  # ≥ 1 px per model pixel
    qtbot.waitUntil(lambda: view.scroll.verticalScrollBar().maximum() > 0, timeout=TIMEOUT)
    assert view.note.isHidden()


def test_the_matrix_says_why_it_leaves_images_out():
    assert matrix_note(32, 32) == ""
    assert "first 32 of 40" in matrix_note(32, 40) and "1,024" in matrix_note(32, 40)


# ------------------------------------------------------------------------------------------ item 6
def test_photos_with_alignment_off_are_named_on_the_bar_with_an_offer_to_align(qtbot, window, procedural_model,
                                                                              tmp_path):
    load_model(qtbot, window, procedural_model)
    assert not window.session.align  # off by default for a model trained on drawn faces
    photos = [write_image(tmp_path / f"photo{i}.jpg", seed=i, size=(640, 480)) for i in range(2)]
    drop_and_render(qtbot, window, photos)
    qtbot.waitUntil(window.notice_bar.isVisible, timeout=TIMEOUT)
    assert "alignment is off" in window.notice_bar.label.text() and "photo0.jpg" in window.notice_bar.label.text()
    window.notice_bar.button("Align faces").click()
    assert window.session.align and window.align_box.isChecked()
    qtbot.waitUntil(lambda: all(im.detected for im in window.session.images), timeout=TIMEOUT)


def test_drawn_faces_with_alignment_off_get_no_such_offer(qtbot, window, procedural_model):
    load_model(qtbot, window, procedural_model)
    drop_and_render(qtbot, window, sample_paths()[:2])
    assert not window.notice_bar.isVisible()


# ------------------------------------------------------------------------------------------ item 8
def test_remove_all_is_one_undo_step_and_keeps_the_history(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files)
    s, c = window.session, window.controller
    ids = [im.id for im in s.images]
    c.request_pair((ids[2], ids[0]))
    s.set_same_person(ids[1:])
    c.commit_alpha(0, 1.0, 0.5)
    window.gallery.removeAllRequested.emit()
    assert s.images == []
    assert "Ctrl+Z" in window.statusBar().currentMessage()
    with qtbot.waitSignal(c.rendered, timeout=TIMEOUT, check_params_cb=lambda r: r.request.kind == RenderKind.GRID):
        c.undo_stack.undo()
    assert [im.id for im in s.images] == ids and s.pair == (ids[2], ids[0]) and s.groups == [tuple(ids[1:])]
    assert not window.grid_view.is_empty()
    c.undo_stack.undo()  # the step before Remove all is still there
    assert s.alphas == (1.0, 1.0)
    c.undo_stack.redo()
    c.undo_stack.redo()
    assert s.images == []
