"""The mixing window end to end, offscreen: drops, the grid, fade sliders, undo, faces, models, exports."""

from __future__ import annotations

import time

import numpy as np
import torch
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from g2g_desktop.core.face_align import Face, template_points
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.funit_files import save_funit_generators
from g2g_desktop.core.images import tensor_to_uint8
from g2g_desktop.ui import app as app_module
from g2g_desktop.ui.app import create_window
from g2g_desktop.ui.main_window import EMPTY_NO_MODEL
from g2g_desktop.ui.qt_images import array_to_qimage
from g2g_desktop.ui.settings import AppSettings
from tests.ui.factories import TIMEOUT, TINY, drop, drop_and_render, grid_with, load_model, write_image


def pair_tensors(win):
    first, second = win.session.pair_images()
    size = win.session.model.image_size
    return first.tensor(size, win.session.align), second.tensor(size, win.session.align)


def test_dropping_two_images_shows_the_grid(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    assert "tiny.safetensors" in window.model_label.text() and "CPU" in window.model_label.text()
    result = drop_and_render(qtbot, window, image_files[:2])
    assert not window.grid_view.is_empty()
    for row in ("original", "mixed", "reconstructed"):
        assert window.grid_view.images[row].shape == (2, 32, 32, 3)
    x1, x2 = pair_tensors(window)
    expected = tensor_to_uint8(window.session.model.pipeline.run(x1, x2).mixed)
    assert np.abs(result.images["mixed"].astype(int) - expected).max() <= 1
    assert window.grid_view.column_titles[0].text() == "person0.png"


def test_dropping_a_non_image_and_a_corrupt_file_names_them(qtbot, window, tiny_model, image_files, tmp_path):
    load_model(qtbot, window, tiny_model)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(Image.open(image_files[0]).tobytes()[:10] + b"\x89PNG garbage")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(image_files[0].read_bytes()[:60])
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        drop(window, [text, corrupt, truncated])
    assert window.session.images == []
    notice = window.notice_bar.label.text()
    for name in ("notes.txt", "broken.png", "cut.png"):
        assert name in notice
    assert window.notice_bar.isVisible()
    assert window.grid_view.is_empty()
    drop_and_render(qtbot, window, image_files[:2])  # the window still works afterwards


def test_dropping_a_symlink_loop_names_it(qtbot, window, tmp_path):
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT) as blocker:
        drop(window, [loop])
    assert any("loop.png" in line for line in blocker.args[0].errors)
    assert window.actions.settings.recent("files")[0].endswith("loop.png")


def test_fade_slider_changes_the_mix_and_its_ends_match_the_plain_decodes(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    plain = drop_and_render(qtbot, window, image_files[:2]).images["mixed"]
    pipeline = window.session.model.pipeline
    x1, _ = pair_tensors(window)
    slider = window.sliders.sliders[0]
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with((0.5, 1.0))):
        slider.setValue(50)
    half = window.grid_view.images["mixed"]
    assert np.abs(half[0].astype(int) - plain[0]).max() > 2  # m1 changed
    assert np.array_equal(half[1], plain[1])  # m2 did not
    assert "α = 0.50" in window.grid_view.row_titles["mixed"].text()
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with((0.0, 1.0))):
        slider.setValue(0)
    own = tensor_to_uint8(pipeline.reconstruct(x1))  # α=0: G(E_A(x1), E_B(x1))
    assert np.abs(window.grid_view.images["mixed"][0].astype(int) - own).max() <= 1
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with((0.0, 1.5))):
        window.sliders.sliders[1].setValue(150)
    assert "(extrapolated)" in window.sliders.value_labels[1].text()
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with((1.0, 1.5))):
        slider.setValue(100)
    assert np.abs(window.grid_view.images["mixed"][0].astype(int) - plain[0]).max() <= 1  # α=1: the plain mix


def test_undo_restores_slider_and_pair(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files)
    first_pair = window.session.pair
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with((0.25, 1.0))):
        window.sliders.sliders[0].setValue(25)
    assert window.controller.undo_stack.count() == 1
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with()):
        window.controller.undo_stack.undo()
    assert window.session.alphas == (1.0, 1.0)
    assert window.sliders.sliders[0].value() == 100
    window.controller.undo_stack.redo()
    assert window.session.alphas == (0.25, 1.0)
    third = window.session.images[2].id
    window.gallery.pickers[1].setCurrentIndex(2)
    window.gallery.pickers[1].activated.emit(2)
    assert window.session.pair == (first_pair[0], third)
    window.controller.undo_stack.undo()
    assert window.session.pair == first_pair
    assert window.gallery.pickers[1].currentData() == first_pair[1]


def test_no_face_found_offers_whole_image_or_removal(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model, align=True)
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        drop(window, image_files[:1])
    assert window.controller.detector.calls == 1
    assert "No face found in person0.png" in window.notice_bar.label.text()
    assert window.session.images[0].face_index is None
    assert "no face found" in window.face_panel.status.text()
    window.notice_bar.button("Remove").click()
    assert window.session.images == []


def test_several_faces_use_the_largest_and_another_can_be_picked(qtbot, window, tiny_model, tmp_path):
    small = Face((5, 5, 25, 25), tuple(map(tuple, template_points(20) + 5)), 0.97)
    big = Face((30, 10, 90, 70), tuple(map(tuple, template_points(60) + np.array([30, 10]))), 0.99)
    window.controller.detector.faces = [big, small]
    load_model(qtbot, window, tiny_model, align=True)
    paths = [write_image(tmp_path / f"group{i}.png", seed=10 + i, size=(100, 80)) for i in range(2)]
    drop_and_render(qtbot, window, paths)
    image = window.session.images[0]
    assert image.uses_face and image.face_index == 0
    window.gallery.select(image.id)
    assert window.face_panel.picker.count() == 3  # two faces + whole image
    assert window.face_panel.picker.isEnabled()
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=grid_with()):
        window.face_panel.picker.setCurrentIndex(1)
        window.face_panel.picker.activated.emit(1)
    chosen = window.session.images[0]
    assert chosen.face_index == 1 and chosen.id != image.id and window.session.pair[0] == chosen.id
    window.controller.undo_stack.undo()
    assert window.session.images[0].id == image.id


def test_alignment_switch_is_remembered_per_model(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model, align=True)
    window.align_box.setChecked(False)
    assert AppSettings().alignment(tiny_model, default=True) is False
    load_model(qtbot, window, tiny_model, align=False)
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        drop(window, image_files[:1])
    assert window.controller.detector.calls == 0  # alignment off: no detection
    with qtbot.waitSignal(window.session.imagesChanged, timeout=TIMEOUT):
        window.align_box.setChecked(True)  # switching on detects the images not yet seen
    assert window.controller.detector.calls == 1 and window.session.images[0].detected


def test_an_official_funit_checkpoint_opens_with_its_ema_weights(qtbot, window, tmp_path, image_files):
    torch.manual_seed(1)
    path = tmp_path / "gen_00012345.pt"
    save_funit_generators(path, FunitGenerator(TINY), FunitGenerator(TINY))
    load_model(qtbot, window, path)
    model = window.session.model
    assert model.info.source == "funit" and model.details()["Weights"] == "gen_test (EMA)"
    assert model.details()["Step"] == "12,345" and "gen_00012345.pt" in window.model_label.text()
    drop_and_render(qtbot, window, image_files[:2])


def test_a_broken_model_file_gives_a_dialog_naming_it(qtbot, window, tmp_path):
    broken = tmp_path / "gen_00001000.pt"
    broken.write_bytes(b"this is not a checkpoint")
    with qtbot.waitSignal(window.controller.modelFailed, timeout=TIMEOUT) as blocker:
        window.actions.open_model(str(broken))
    assert "gen_00001000.pt" in blocker.args[0]
    assert window.actions.error_box.isVisible() and "gen_00001000.pt" in window.actions.error_box.text()
    window.actions.error_box.close()
    assert window.session.model is None and window.grid_view.empty_label.text() == EMPTY_NO_MODEL


def test_start_without_default_model_or_samples_shows_the_empty_state(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "sample_paths", lambda: [])
    win = create_window(tmp_path / "missing.safetensors")
    qtbot.addWidget(win)
    assert "missing.safetensors" in win.statusBar().currentMessage()
    assert win.grid_view.is_empty() and "missing.safetensors" in win.grid_view.empty_label.text()
    assert "Open a model" in win.grid_view.empty_label.text()
    win.close()


def test_start_opens_the_model_and_the_first_two_samples(qtbot, tiny_model, tmp_path, monkeypatch):
    samples = [write_image(tmp_path / f"sample{i}.png", seed=20 + i) for i in range(3)]
    monkeypatch.setattr(app_module, "sample_paths", lambda: samples)
    win = create_window(tiny_model)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: "grid" in win.controller.last, timeout=TIMEOUT)
    assert [im.name for im in win.session.images] == ["sample0.png", "sample1.png"]
    assert win.session.model.path == tiny_model
    win.close()


def test_swap_matrix_and_exports(qtbot, window, tiny_model, image_files, tmp_path):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, [image_files[0].parent])  # a folder: all three images
    assert len(window.session.images) == 3
    matrix = lambda r: r.request.kind == "matrix" and r.error is None  # noqa: E731
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT, check_params_cb=matrix) as blocker:
        window.tabs.setCurrentWidget(window.matrix_view)
    assert blocker.args[0].images["matrix"].shape == (3, 3, 32, 32, 3)
    assert window.matrix_view.canvas.shape == (4 * 32 + 5 * 2, 4 * 32 + 5 * 2, 3)
    assert Image.open(window.actions.export_matrix(tmp_path / "m.png")).size == (138, 138)
    assert Image.open(window.actions.export_grid(tmp_path / "g.png")).size == (2 * 32 + 6, 3 * 32 + 8)
    with qtbot.waitSignal(window.controller.exports.done, timeout=TIMEOUT):
        assert window.actions.export_fade(tmp_path / "fade.gif")
    assert Image.open(tmp_path / "fade.gif").n_frames > 2
    with qtbot.waitSignal(window.controller.exports.done, timeout=TIMEOUT):
        window.actions.export_fade(tmp_path / "frames")
    assert len(list((tmp_path / "frames").glob("fade_*.png"))) == 21
    window.actions.copy_grid()
    assert QGuiApplication.clipboard().image().width() == 2 * 32 + 6


def test_paste_from_clipboard_adds_an_image(qtbot, window, tiny_model):
    load_model(qtbot, window, tiny_model)
    QGuiApplication.clipboard().setImage(array_to_qimage(np.full((40, 50, 3), 200, np.uint8)))
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.actions.paste()
    assert [im.name for im in window.session.images] == ["clipboard 1"]
    assert window.session.images[0].source.size == (50, 40)


def test_theme_recent_files_and_about(qtbot, window, image_files):
    window.actions.dark_action.trigger()  # dark → light
    assert AppSettings().theme() == "light"
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths([str(image_files[0])])
    assert AppSettings().recent("files")[0].endswith("person0.png")
    assert torch.__version__ in window.actions.about_text() and "Qt " in window.actions.about_text()


def test_gui_never_stalls_while_a_slider_is_dragged(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files[:2])
    gaps, last = [0.0], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    slider = window.sliders.sliders[0]
    slider.setSliderDown(True)  # a mouse drag: live renders, one undo entry at the end
    for value in range(100, -50, -3):
        slider.setValue(value)
        qtbot.wait(8)
    final = window.sliders.alphas()
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: window.controller.last["grid"].request.alphas == final, timeout=TIMEOUT)
    timer.stop()
    assert max(gaps) < 0.1, f"GUI stalled for {max(gaps) * 1000:.0f} ms"
    assert window.controller.undo_stack.count() == 1


def test_a_project_model_says_which_weights_it_holds(qtbot, window, tiny_model):
    load_model(qtbot, window, tiny_model)  # saved by save_model with its default, the raw generator
    details = window.session.model.details()
    assert details["Weights"] == "raw generator" and details["Approach"] == "funit2funit" and details["Step"] == "3"
