"""The mixing view-model without a window: pair choice, fade clamping, the swap-matrix cap."""

from __future__ import annotations

from PIL import Image

from g2g_desktop.services.inputs import InputImage, new_id
from g2g_desktop.services.renderer import Renderer
from g2g_desktop.ui.session import MAX_MATRIX_IMAGES, MixSession


def _images(n: int) -> list[InputImage]:
    return [InputImage(new_id(), f"im{i}.png", None, Image.new("RGB", (8, 8), (i, i, i))) for i in range(n)]


def test_pair_follows_images_and_requests_need_a_model(qtbot):
    session = MixSession(Renderer())
    first = _images(3)
    session.add_images(first[:1])
    assert session.pair is None
    session.add_images(first[1:])
    assert session.pair == (first[0].id, first[1].id)
    assert session.request("grid", 1) is None  # no model yet
    session.model_id = 7
    assert session.request("grid", 1).image_ids == session.pair
    session.remove_image(first[0].id)
    assert session.pair == (first[1].id, first[2].id)
    session.set_pair(("nope", first[1].id))  # unknown ids are ignored
    assert session.pair == (first[1].id, first[2].id)


def test_fade_values_are_clamped_to_the_slider_range(qtbot):
    session = MixSession(Renderer())
    session.set_alphas((-3.0, 9.0))
    assert session.alphas == (-0.5, 1.5)


def test_swap_matrix_is_capped(qtbot):
    session = MixSession(Renderer())
    images = _images(MAX_MATRIX_IMAGES + 3)
    session.add_images(images)
    session.model_id = 1
    request = session.request("matrix", 1)
    assert request.image_ids == tuple(im.id for im in images[:MAX_MATRIX_IMAGES])


def test_same_person_groups_follow_removal_replacement_and_clearing(qtbot):
    session = MixSession(Renderer())
    images = _images(4)
    ids = [im.id for im in images]
    session.add_images(images)
    session.set_same_person(ids[1:])
    assert session.groups == [tuple(ids[1:])] and session.person_of(ids[3]) == tuple(ids[1:])
    session.remove_image(ids[3])
    assert session.groups == [(ids[1], ids[2])] and session.person_of(ids[3]) == (ids[3],)
    variant = InputImage(new_id(), "im2.png", None, images[2].source)
    session.replace_image(ids[2], variant)
    assert session.groups == [(ids[1], variant.id)]
    session.remove_image(ids[1])  # one image left is no group
    assert session.groups == []
    session.set_same_person([ids[0], variant.id])
    session.clear_images()
    assert session.groups == [] and session.person_of(ids[0]) == (ids[0],)
