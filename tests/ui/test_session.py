"""The mixing view-model without a window: pair choice, fade clamping, the swap-matrix cap."""

from __future__ import annotations

from PIL import Image

from g2g_desktop.ui.inputs import InputImage, new_id
from g2g_desktop.ui.renderer import Renderer
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
