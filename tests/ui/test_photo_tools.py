"""The window's real-photo features (issue 14), offscreen: the identity meter, the Photo view at full
resolution, the "what the model is for" bar and the File-menu batch with progress and cancel.

A stand-in detector and a stand-in judge keep these tests fast and independent of the photos; the real
judge's verdicts are tested in tests/core/test_photos.py."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent

from g2g_desktop.core.face_align import Face, template_points
from g2g_desktop.core.funit import FunitGenerator
from g2g_desktop.core.judge import IdentityJudge
from g2g_desktop.core.model_file import save_model
from g2g_desktop.core.photo_mix import paste_into_original
from g2g_desktop.core.resources import sample_paths
from g2g_desktop.services.render_queue import RenderKind
from g2g_desktop.services.renderer import _run_images
from g2g_desktop.ui.photo_tools import SETTLE_MS
from g2g_desktop.ui.widgets.identity_meter import NO_FACE, WAITING
from tests.ui.factories import TIMEOUT, TINY, drop_and_render, load_model, write_image
from trainer.loss_weights import LossWeights
from trainer.presets import RECIPES


class FakeJudge(IdentityJudge):
    """Descriptor = the mean colour (scaled), or no face for near-uniform images."""

    def __init__(self, finds_faces: bool = True):
        super().__init__()
        self.finds_faces = finds_faces
        self.calls = 0

    def descriptor(self, image):
        self.calls += 1
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
        return pixels.mean((0, 1)) * 3.0 if self.finds_faces else None


def _face_for(size):
    w, h = size
    side = min(w, h)
    points = template_points(side) + np.array([(w - side) / 2, (h - side) / 2])
    return Face((0.0, 0.0, float(w), float(h)), tuple(map(tuple, points)), 0.99)


@pytest.fixture
def photo_model(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "photos.safetensors"
    save_model(path, FunitGenerator(TINY), approach="funit2funit", provenance={"data": "faces/", "aligned": True})
    return path


@pytest.fixture
def photo_files(tmp_path):
    """Photo-sized images (the meter is for photos: `looks_like_photo`)."""
    return [write_image(tmp_path / f"photo{i}.jpg", seed=i, size=(320, 240)) for i in range(2)]


def test_meter_shows_both_distances_and_which_person_is_closer(qtbot, window, tiny_model, photo_files):
    window.photo_tools.judge = FakeJudge()
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, photo_files)
    assert not window.identity_meter.isHidden()
    qtbot.waitUntil(lambda: "distance to person 1" in window.identity_meter.texts()[0], timeout=TIMEOUT)
    first, second = window.identity_meter.texts()
    assert "to person 2" in first and "closer to person" in first and second.startswith("Mix 2:")
    qtbot.waitUntil(lambda: len(window.identity_meter.rows[0][1].alphas) == 9, timeout=TIMEOUT)
    curve = window.identity_meter.rows[0][1]
    assert curve.alphas[0] == -0.5 and curve.alphas[-1] == 1.5 and all(v.found for v in curve.verdicts)
    window.identity_meter.grab()  # paints the curve


def test_meter_says_no_face_instead_of_a_number(qtbot, window, tiny_model, photo_files):
    window.photo_tools.judge = FakeJudge(finds_faces=False)
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, photo_files)
    qtbot.waitUntil(lambda: "no face found by the judge" in window.identity_meter.texts()[0], timeout=TIMEOUT)
    assert not any(ch.isdigit() for ch in window.identity_meter.texts()[0].split(":", 1)[1])


def test_meter_is_hidden_on_the_bundled_procedural_samples(qtbot, window, procedural_model, photo_files):
    """The judge reads photos; on the drawn sample faces it would only ever say "no face found"."""
    judge = window.photo_tools.judge = FakeJudge(finds_faces=False)
    load_model(qtbot, window, procedural_model)
    drop_and_render(qtbot, window, sample_paths()[:2])
    qtbot.wait(SETTLE_MS + 300)
    assert window.identity_meter.isHidden() and judge.calls == 0
    assert not any(NO_FACE in text for text in window.identity_meter.texts())
    drop_and_render(qtbot, window, photo_files)  # a photo pair brings the meter back
    assert not window.identity_meter.isHidden()
    qtbot.waitUntil(lambda: NO_FACE in window.identity_meter.texts()[0], timeout=TIMEOUT)


def test_photo_view_pastes_both_mixes_into_the_full_resolution_photos(qtbot, window, photo_model, tmp_path):
    sizes = [(1600, 1200), (900, 1300)]  # the first is larger than the app's 1024 px working copy
    paths = [write_image(tmp_path / f"big{i}.jpg", seed=i, size=s) for i, s in enumerate(sizes)]

    def detector(image):
        return [_face_for(image.size)]

    window.controller.detector = detector
    load_model(qtbot, window, photo_model, align=True)
    assert window.session.align  # a model trained on aligned faces aligns by default
    drop_and_render(qtbot, window, paths)
    assert max(window.session.images[0].source.size) == 1024
    window.tabs.setCurrentWidget(window.photo_view)
    qtbot.waitUntil(lambda: all(p is not None for p in window.photo_view.photos), timeout=TIMEOUT)
    assert [p.size for p in window.photo_view.photos] == sizes
    assert "1600×1200" in window.photo_view.captions[0].text()
    view = window.photo_view.views[0]
    before = view.scale_factor
    view.zoom(2.0)
    assert view.scale_factor == pytest.approx(2 * before) and not view.fitted
    written = window.photo_tools.save_photos(tmp_path)
    assert sorted(p.name for p in written) == ["big0_with_big1.jpg", "big1_with_big0.jpg"]


def test_photo_view_explains_when_there_is_no_aligned_face(qtbot, window, tiny_model, image_files):
    load_model(qtbot, window, tiny_model, align=False)
    window.tabs.setCurrentWidget(window.photo_view)
    drop_and_render(qtbot, window, image_files[:2])
    qtbot.waitUntil(lambda: "no aligned face" in window.photo_view.note.text(), timeout=TIMEOUT)
    assert window.photo_view.photos == [None, None]


def test_purpose_bar_when_a_procedural_model_meets_photos(qtbot, window, procedural_model, tmp_path,
                                                          image_files, monkeypatch):
    load_model(qtbot, window, procedural_model)
    drop_and_render(qtbot, window, sample_paths()[:2])  # the bundled (drawn) samples: no bar
    assert not window.purpose_bar.isVisible()
    photo = write_image(tmp_path / "photo.jpg", seed=7, size=(640, 480))
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths([photo])
    qtbot.waitUntil(window.purpose_bar.isVisible, timeout=TIMEOUT)
    assert "procedural" in window.purpose_bar.label.text() and "photo.jpg" in window.purpose_bar.label.text()
    form = window.training_panel.form
    for cuda, preset in ((True, "small"), (False, "tiny")):  # both branches, whatever this machine has
        with monkeypatch.context() as patch:
            patch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
            window.photo_tools.prefill_training(tmp_path)
        assert form.size.currentData() == preset, f"CUDA {cuda}: {form.size.currentText()}"
    assert form.data.text() == str(tmp_path) and form.align.isChecked()
    config = form.build_config(LossWeights.from_dict(window.training_panel.table.weights()))
    assert config.align is True
    # the identity recipe: photos have no true swaps, the frozen critic moves identity without them
    assert form.recipe.currentText() == RECIPES["identity"].title
    assert (config.approach, config.optimizer, config.model["norm"]) == ("funit2funit", "adam", "ln")
    weights = RECIPES["identity"].changes["weights"]
    assert {name: getattr(config.weights, name) for name in weights} == weights
    assert config.weights.lambda_critic == 10.0 and config.weights.lambda_long == 0.0 and config.lr_gen == 1e-3
    window.purpose_bar.dismiss_button.click()
    window.photo_tools.update_purpose()
    assert not window.purpose_bar.isVisible()  # a dismissed line stays away


def test_purpose_bar_when_a_photo_model_meets_a_faceless_image(qtbot, window, photo_model, image_files):
    load_model(qtbot, window, photo_model, align=True)  # the fake detector finds no face
    with qtbot.waitSignal(window.controller.imagesLoaded, timeout=TIMEOUT):
        window.controller.open_paths(image_files[:1])
    qtbot.waitUntil(window.purpose_bar.isVisible, timeout=TIMEOUT)
    assert "trained on photos" in window.purpose_bar.label.text()


def test_batch_from_the_file_menu_lists_faceless_files_and_can_be_cancelled(qtbot, window, photo_model,
                                                                            tmp_path, image_files):
    source = tmp_path / "batch"
    source.mkdir()
    for i in range(4):
        write_image(source / f"p{i}.png", seed=20 + i, size=(60, 50))
    write_image(source / "noface.png", seed=30, size=(60, 50))

    def detector(image):
        return [] if image.size == (60, 50) and image.getpixel((0, 0)) == _noface_pixel else [_face_for(image.size)]

    from PIL import Image

    _noface_pixel = Image.open(source / "noface.png").convert("RGB").getpixel((0, 0))
    window.controller.detector = detector
    load_model(qtbot, window, photo_model, align=True)
    drop_and_render(qtbot, window, image_files[:2])
    assert any(a.text().startswith("Mix a &folder") for a in window.menuBar().actions()[0].menu().actions())
    out = tmp_path / "out"
    out.mkdir()
    tools = window.photo_tools
    assert tools.run_batch(source, out)
    qtbot.waitUntil(lambda: tools.batch_report is not None, timeout=TIMEOUT)
    assert len(tools.batch_report.written) == 4 and tools.batch_report.no_face == ["noface.png"]
    assert "noface.png" in window.notice_bar.label.text()
    tools.batch_report = None
    tools.batchProgress.connect(lambda done, total: tools._cancel.set() if done >= 1 else None)
    cancelled = tmp_path / "cancelled"
    cancelled.mkdir()
    assert tools.run_batch(source, cancelled)
    qtbot.waitUntil(lambda: tools.batch_report is not None, timeout=TIMEOUT)
    assert tools.batch_report.cancelled and len(tools.batch_report.written) < 4



def _with_copy(image_files, tmp_path):
    """The three images and a copy of image 2 in another folder (one file opened twice is listed once)."""
    (tmp_path / "again").mkdir()
    again = tmp_path / "again" / image_files[1].name
    shutil.copyfile(image_files[1], again)
    return [image_files[0], image_files[1], again, image_files[2]]


def test_same_person_group_in_the_gallery_gives_the_mean_identity(qtbot, window, tiny_model, image_files, tmp_path):
    load_model(qtbot, window, tiny_model)
    first = drop_and_render(qtbot, window, _with_copy(image_files, tmp_path))
    a, b, b_again, c = (im.id for im in window.session.images)
    plain = first.images["mixed"].copy()

    def regroup(ids):
        with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT,
                              check_params_cb=lambda r: r.request.kind == "grid" and r.request.people is not None):
            window.gallery.samePersonRequested.emit(ids)
        return window.controller.last["grid"]

    copies = regroup([b, b_again])  # K copies of one image: the 1-shot mix
    assert copies.request.people == ((a,), (b, b_again))
    np.testing.assert_array_equal(copies.images["mixed"], plain)
    assert "· person 1" in window.gallery.list.item(1).text()
    window.session.set_same_person([b])
    mixed = regroup([b, c])
    assert not np.array_equal(mixed.images["mixed"][0], plain[0])  # the mean of two people's codes
    np.testing.assert_array_equal(mixed.images["mixed"][1], plain[1])


def test_groups_follow_multi_select_drag_removal_and_remove_all(qtbot, window, tiny_model, image_files, tmp_path):
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, _with_copy(image_files, tmp_path))
    a, b, b_again, c = (im.id for im in window.session.images)
    assert window.session.pair == (a, b)
    with qtbot.waitSignal(window.controller.rendered, timeout=TIMEOUT,
                          check_params_cb=lambda r: r.request.kind == "grid" and r.request.people is not None):
        window.gallery.samePersonRequested.emit([b, c])
    renderer, listing = window.controller.renderer, window.gallery.list
    assert any(c in _run_images(key) for key in renderer._runs)

    listing.clearSelection()  # drag two selected thumbnails (image 2's copy and c) onto the first
    for row in (2, 3):
        listing.item(row).setSelected(True)
    mime = listing.mimeData([listing.item(2), listing.item(3)])
    target = listing.visualItemRect(listing.item(0)).center()
    listing.dropEvent(QDropEvent(QPointF(target), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                                 Qt.KeyboardModifier.NoModifier))
    assert [im.id for im in window.session.images] == [b_again, c, a, b] == listing.ids()
    labels = [listing.item(row).text() for row in range(4)]
    assert [" · person 1" in text for text in labels] == [False, True, False, True]
    assert window.session.groups == [(b, c)] and window.session.pair == (a, b)

    window.controller.remove_images([c])  # the group of two loses c: no group is left
    assert window.session.groups == [] and not any(" · person " in listing.item(r).text() for r in range(3))
    assert not any(c in _run_images(key) for key in renderer._runs)
    qtbot.waitUntil(lambda: window.controller.last["grid"].request.people is None, timeout=TIMEOUT)

    window.session.set_same_person([a, b_again])
    window.gallery.remove_all_button.click()
    assert window.session.groups == [] and listing.count() == 0


def test_purpose_text_for_each_kind_of_model():
    from g2g_desktop.ui.widgets.purpose_bar import purpose_text

    assert "procedural" in purpose_text("procedural", ["a.jpg"], [])
    assert "animal faces" in purpose_text("animals", ["a.jpg", "b.jpg", "c.jpg"], [])
    assert "and 1 more" in purpose_text("animals", ["a.jpg", "b.jpg", "c.jpg"], [])
    assert "trained on photos" in purpose_text("photos", [], ["x.png"])
    assert purpose_text("photos", ["a.jpg"], []) is None and purpose_text("unknown", ["a.jpg"], ["x"]) is None


def test_remove_all_clears_the_judge_and_the_fade_weights(qtbot, window, tiny_model, image_files):
    window.photo_tools.judge = FakeJudge()
    load_model(qtbot, window, tiny_model)
    drop_and_render(qtbot, window, image_files[:2])
    window.controller.preview_alphas(0.3, 0.7)
    qtbot.waitUntil(lambda: "distance to person 1" in window.identity_meter.texts()[0], timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(window.identity_meter.rows[0][1].alphas) == 9, timeout=TIMEOUT)
    window.gallery.removeAllRequested.emit()
    qtbot.wait(SETTLE_MS * 2)  # a reading of the removed pair that was still on its way stays away too
    assert window.identity_meter.texts() == [WAITING, ""]
    assert all(curve.alphas == () for _, curve in window.identity_meter.rows)
    assert window.session.alphas == (1.0, 1.0) and window.sliders.alphas() == (1.0, 1.0)
    assert [curve.alpha for _, curve in window.identity_meter.rows] == [1.0, 1.0]


def test_the_photo_view_pastes_with_a_mask_heads_own_mask(qtbot, window, tmp_path):
    """As `mix --paste-back` and the batch paste do: the model's mask, not the feathered face ellipse."""
    torch.manual_seed(0)
    model = tmp_path / "masked.safetensors"
    save_model(model, FunitGenerator(dataclasses.replace(TINY, mask_head=True)), approach="funit2funit",
               provenance={"data": "faces/", "aligned": True})
    paths = [write_image(tmp_path / f"p{i}.jpg", seed=i, size=(300, 240)) for i in range(2)]
    window.controller.detector = lambda image: [_face_for(image.size)]
    load_model(qtbot, window, model, align=True)
    drop_and_render(qtbot, window, paths)
    window.tabs.setCurrentWidget(window.photo_view)
    qtbot.waitUntil(lambda: all(p is not None for p in window.photo_view.photos), timeout=TIMEOUT)
    request = window.controller.last[RenderKind.GRID].request
    masks = window.controller.renderer.masks(request)
    assert all(m is not None for m in masks)
    mixed = window.controller.last[RenderKind.GRID].images["mixed"]
    for image, mix, mask, shown in zip(window.session.images, mixed, masks, window.photo_view.photos):
        face = image.faces[image.face_index]
        with_mask = np.asarray(paste_into_original(image.path, image.source, face, mix, mask))
        assert np.array_equal(np.asarray(shown), with_mask)
        assert not np.array_equal(with_mask, np.asarray(paste_into_original(image.path, image.source, face, mix)))
