"""The mixing workflow (issue 13): stale loads dropped, removed images freed, opened images become the
pair, the gallery (duplicates, same names, reorder, remove all, scrolling), undo per view."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent, QGuiApplication

from g2g_desktop.core.face_align import Face, template_points
from g2g_desktop.ui import mix_controller
from g2g_desktop.ui.qt_images import array_to_qimage
from tests.ui.factories import TIMEOUT, drop, drop_and_render, load_model, write_image


def faces_for(size: int):
    big = Face((4, 4, size - 4, size - 4), tuple(map(tuple, template_points(size - 8) + 4)), 0.99)
    small = Face((2, 2, 14, 14), tuple(map(tuple, template_points(12) + 2)), 0.9)
    return [big, small]


# ------------------------------------------------------------------ item 4: stale loads are dropped
def test_a_slow_model_finishing_after_a_newer_one_is_dropped(qtbot, window, tiny_model, tmp_path, monkeypatch):
    slow_path = tmp_path / "slow.safetensors"
    slow_path.write_bytes(tiny_model.read_bytes())
    gate, real = threading.Event(), mix_controller.load_model_file

    def load(path, *args):
        if path.endswith("slow.safetensors"):
            assert gate.wait(30)
        return real(path, *args)

    monkeypatch.setattr(mix_controller, "load_model_file", load)
    window.controller.open_model(slow_path)  # model A, slow
    with qtbot.waitSignal(window.controller.modelLoaded, timeout=TIMEOUT):
        window.controller.open_model(tiny_model)  # model B, asked for later, loads first
    gate.set()
    qtbot.waitUntil(lambda: not window.controller.model_loads.running(), timeout=TIMEOUT)
    qtbot.wait(50)  # let A's finished signal arrive
    assert window.session.model.path == tiny_model
    assert window.settings.recent("models")[0].endswith("tiny.safetensors")


def test_a_slow_broken_model_failing_after_a_newer_one_loaded_is_dropped(qtbot, window, tiny_model, tmp_path,
                                                                         monkeypatch):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a model at all")
    gate, real = threading.Event(), mix_controller.load_model_file

    def load(path, *args):
        if path.endswith("broken.safetensors"):
            assert gate.wait(30)
        return real(path, *args)

    monkeypatch.setattr(mix_controller, "load_model_file", load)
    failures: list[str] = []
    window.controller.modelFailed.connect(failures.append)
    window.controller.open_model(broken)
    with qtbot.waitSignal(window.controller.modelLoaded, timeout=TIMEOUT):
        window.controller.open_model(tiny_model)
    gate.set()
    qtbot.waitUntil(lambda: not window.controller.model_loads.running(), timeout=TIMEOUT)
    qtbot.wait(50)
    assert failures == [] and window.actions.error_box is None  # no dialog about a file no longer wanted
    assert window.session.model.path == tiny_model


def test_a_slow_image_load_does_not_take_the_pair_from_a_newer_one(qtbot, window, tiny_model, image_files, monkeypatch):
    load_model(qtbot, window, tiny_model)
    gate, real = threading.Event(), mix_controller.load_inputs

    def load(paths, detector):
        if any("person0" in p for p in paths):
            assert gate.wait(30)
        return real(paths, detector)

    monkeypatch.setattr(mix_controller, "load_inputs", load)
    window.controller.open_paths([image_files[0]])  # slow
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths(image_files[1:])
    newer = tuple(im.id for im in window.session.images)
    assert window.session.pair == newer
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        gate.set()
    assert len(window.session.images) == 3 and window.session.pair == newer


# ------------------------------------------------------------------ item 5: removed images are freed
def test_removed_images_and_replaced_faces_are_freed(qtbot, window, tiny_model, tmp_path):
    window.controller.detector.faces = faces_for(60)
    load_model(qtbot, window, tiny_model, align=True)
    paths = [write_image(tmp_path / f"group{i}.png", seed=30 + i, size=(64, 64)) for i in range(3)]
    drop_and_render(qtbot, window, paths)
    renderer = window.controller.renderer
    assert renderer.image_count() == 3
    first = window.session.images[0].id
    for k in range(8):  # every face choice makes a new image; the one it replaces must go
        window.controller.choose_face(window.session.images[0].id, k % 2)
    assert renderer.image_count() == 3 and window.gallery.thumbnail_count() == 3
    qtbot.waitUntil(lambda: window.controller.last["grid"].request.image_ids[0] == window.session.pair[0],
                    timeout=TIMEOUT)
    window.controller.remove_images([window.session.images[2].id])
    assert renderer.image_count() == 2 and window.gallery.thumbnail_count() == 2
    assert first not in renderer._images
    assert all(key[1][0] in {im.id for im in window.session.images} for key in renderer._runs)


# ------------------------------------------------------------------ item 13: opened images become the pair
def test_opened_and_dropped_images_become_the_pair(qtbot, window, tiny_model, image_files, tmp_path):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files[:2])  # like the bundled samples at start-up
    more = [write_image(tmp_path / f"mine{i}.png", seed=40 + i) for i in range(3)]
    result = drop_and_render(qtbot, window, more[:2])
    names = [window.session.image(i).name for i in result.request.image_ids]
    assert names == ["mine0.png", "mine1.png"]
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths([str(more[2])])  # one image: it joins the last one opened
    assert [window.session.image(i).name for i in window.session.pair] == ["mine1.png", "mine2.png"]
    QGuiApplication.clipboard().setImage(array_to_qimage(np.full((40, 50, 3), 90, np.uint8)))
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.actions.paste()
    assert [window.session.image(i).name for i in window.session.pair] == ["mine2.png", "clipboard 1"]


# ------------------------------------------------------------------ item 18: the gallery
def test_the_same_file_opened_twice_is_listed_once(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files[:2])
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        drop(window, [image_files[0], image_files[2], image_files[2]])
    assert [im.name for im in window.session.images] == ["person0.png", "person1.png", "person2.png"]
    assert window.gallery.list.count() == 3
    assert [window.session.image(i).name for i in window.session.pair] == ["person0.png", "person2.png"]


def test_same_named_files_from_two_folders_show_their_folder(qtbot, window, tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    paths = [write_image(tmp_path / who / "face.png", seed=i) for i, who in enumerate(("alice", "bob"))]
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths(paths)
    picker = window.gallery.pickers[0]
    labels = [picker.itemText(i) for i in range(picker.count())]
    assert labels == ["face.png — alice", "face.png — bob"]
    assert [window.gallery.list.item(i).text() for i in range(2)] == labels


def test_drag_to_reorder_and_remove_all(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files)
    ids = [im.id for im in window.session.images]
    listing = window.gallery.list
    listing.setCurrentRow(2)  # drag the third thumbnail onto the first
    listing.item(2).setSelected(True)
    mime = listing.mimeData([listing.item(2)])
    target = listing.visualItemRect(listing.item(0)).center()
    event = QDropEvent(QPointF(target), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    listing.dropEvent(event)
    assert [im.id for im in window.session.images] == [ids[2], ids[0], ids[1]]
    assert listing.ids() == [ids[2], ids[0], ids[1]]
    window.gallery.remove_all_button.click()
    assert window.session.images == [] and listing.count() == 0
    assert window.controller.renderer.image_count() == 0
    assert window.grid_view.is_empty()


def test_a_pasted_image_is_scrolled_into_view(qtbot, window, tmp_path):
    paths = [write_image(tmp_path / f"many{i}.png", seed=i) for i in range(30)]
    window.images_dock.resize(240, 300)
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths(paths)
    listing = window.gallery.list
    listing.scrollToTop()
    QGuiApplication.clipboard().setImage(array_to_qimage(np.full((40, 50, 3), 90, np.uint8)))
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.actions.paste()
    qtbot.wait(50)
    last = listing.item(listing.count() - 1)
    assert last.text() == "clipboard 1"
    assert listing.viewport().rect().intersects(listing.visualItemRect(last))


# ------------------------------------------------------------------ item 12: undo per view, undo after alignment
def test_ctrl_z_undoes_in_the_view_that_has_focus(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files[:2])
    window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is not None, timeout=TIMEOUT)
    window.training_dock.show()
    window.training_dock.raise_()
    window.training_panel.tabs.setCurrentWidget(window.training_panel.table)
    spin = next(s for s in window.training_panel.table.spins.values() if s.isEnabled())
    start_gamma = spin.value()
    slider = window.sliders.sliders[0]
    slider.setFocus()
    slider.setValue(40)  # the mix view: a slider edit ...
    spin.setFocus()
    spin.setValue(start_gamma + 0.5)  # ... then, in the training dock, a loss weight
    qtbot.waitUntil(lambda: window.undo_group.activeStack() is window.training_undo, timeout=3000)
    slider.setFocus()
    qtbot.waitUntil(lambda: window.undo_group.activeStack() is window.controller.undo_stack, timeout=3000)
    qtbot.keyClick(slider, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z over the mix view
    assert window.session.alphas == (1.0, 1.0) and slider.value() == 100
    assert spin.value() == start_gamma + 0.5  # the running weight is untouched
    window.training_panel.buttons["start"].setFocus()
    qtbot.waitUntil(lambda: window.undo_group.activeStack() is window.training_undo, timeout=3000)
    window.actions.undo_action.trigger()
    assert spin.value() == start_gamma and window.session.alphas == (1.0, 1.0)


def test_undo_right_after_switching_alignment_on(qtbot, window, tiny_model, image_files):
    window.controller.detector.faces = faces_for(40)
    load_model(qtbot, window, tiny_model, align=False)
    drop_and_render(qtbot, window, image_files)
    names = lambda: [window.session.image(i).name for i in window.session.pair]  # noqa: E731
    assert names() == ["person0.png", "person1.png"]
    window.controller.request_pair((window.session.images[0].id, window.session.images[2].id))
    with qtbot.waitSignal(window.session.imagesChanged, timeout=TIMEOUT):
        window.align_box.setChecked(True)  # detection replaces every image (new ids)
    qtbot.waitUntil(lambda: all(im.detected for im in window.session.images), timeout=TIMEOUT)
    stack = window.controller.undo_stack
    stack.undo()  # the last thing done: alignment on
    assert not window.session.align and not window.align_box.isChecked()
    stack.undo()  # then the pair choice, although its images have new ids now
    assert names() == ["person0.png", "person1.png"]
    stack.redo()
    assert names() == ["person0.png", "person2.png"]
