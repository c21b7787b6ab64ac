"""Face alignment maths and the MTCNN wrapper, on synthetic images (no face photos ship with the tests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from g2g_desktop.core.face_align import (
    Face,
    MtcnnDetector,
    align_face,
    prepare_image,
    similarity_transform,
    sort_faces,
    template_points,
)


def _rotate(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return scale * points @ np.array([[c, s], [-s, c]]) + np.array(shift)


def test_similarity_transform_recovers_rotation_scale_shift():
    src = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 7.0], [2.0, 12.0], [8.0, 12.0]])
    dst = _rotate(src, 0.4, 2.5, (30.0, -4.0))
    m = similarity_transform(src, dst)
    mapped = src @ m[:, :2].T + m[:, 2]
    np.testing.assert_allclose(mapped, dst, atol=1e-9)
    assert math.isclose(np.linalg.det(m[:, :2]), 2.5**2, rel_tol=1e-9)


def test_similarity_transform_rejects_degenerate_landmarks():
    with pytest.raises(ValueError, match="degenerate"):
        similarity_transform(np.ones((5, 2)), template_points(32))


def _face_image(landmarks: np.ndarray, size=(200, 160)) -> Image.Image:
    """Grey image with a distinct colour dot at each landmark."""
    image = Image.new("RGB", size, (90, 90, 90))
    draw = ImageDraw.Draw(image)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    for (x, y), colour in zip(landmarks, colours):
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=colour)
    return image


def test_align_face_moves_landmarks_onto_the_template():
    size = 64
    landmarks = _rotate(template_points(40), -0.3, 1.6, (70.0, 20.0))  # a rotated, scaled face
    image = _face_image(landmarks)
    face = Face(box=(0, 0, 200, 160), landmarks=tuple(map(tuple, landmarks)), score=0.99)
    crop = np.asarray(align_face(image, face, size)).astype(int)
    assert crop.shape == (size, size, 3)
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    for (x, y), colour in zip(template_points(size), colours):
        pixel = crop[round(y), round(x)]
        assert np.abs(pixel - np.array(colour)).max() < 60, (x, y, pixel, colour)


def test_sort_faces_puts_the_largest_first():
    small = Face((0, 0, 10, 10), ((0, 0),) * 5, 0.99)
    big = Face((0, 0, 50, 40), ((0, 0),) * 5, 0.9)
    assert sort_faces([small, big]) == [big, small]


def test_prepare_image_without_detector_uses_the_centre_square():
    image = Image.new("RGB", (100, 60), (10, 20, 30))
    result = prepare_image(image, 32, detector=None)
    assert result.face_index is None and result.faces == ()
    assert result.crop.size == (32, 32)


def test_prepare_image_picks_the_requested_face_and_can_fall_back_to_the_whole_image():
    landmarks = template_points(40) + 20
    image = _face_image(landmarks)
    faces = [
        Face((10, 10, 90, 90), tuple(map(tuple, landmarks)), 0.99),
        Face((100, 10, 120, 30), tuple(map(tuple, landmarks / 4 + 100)), 0.95),
    ]
    calls = []

    def detector(img):
        calls.append(img)
        return faces

    second = prepare_image(image, 32, detector=detector, face_index=1)
    assert second.face_index == 1 and len(second.faces) == 2 and len(calls) == 1
    whole = prepare_image(image, 32, detector=None, faces=faces, face_index=None)
    assert whole.face_index is None and len(whole.faces) == 2 and len(calls) == 1
    clamped = prepare_image(image, 32, detector=None, faces=faces, face_index=7)
    assert clamped.face_index == 1


def test_mtcnn_finds_no_face_in_a_flat_image():
    detector = MtcnnDetector()
    assert detector(Image.new("RGB", (120, 120), (128, 128, 128))) == []
    result = prepare_image(Image.new("RGB", (80, 80), (0, 0, 0)), 16, detector=detector)
    assert result.face_index is None and result.crop.size == (16, 16)
