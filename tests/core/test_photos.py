"""Real photos end to end (issue 14): border padding, the crop cache, paste-back and the identity judge.

Synthetic images test the maths; the judge's verdicts use ../shared/photos and skip when it is absent.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from g2g_desktop.core.face_align import Face, alignment_matrix, detect_faces, prepare_image, template_points
from g2g_desktop.core.face_cache import AlignedCropCache
from g2g_desktop.core.paste_back import lab_to_rgb, paste_back, paste_region, rgb_to_lab

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


def _smooth_photo(w: int = 300, h: int = 260) -> Image.Image:
    """A photo-sized image with only low frequencies, so resampling to a crop and back loses almost nothing."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 120 + 80 * np.sin(x / 37.0) * np.cos(y / 41.0)
    g = 90 + 60 * np.cos((x + y) / 53.0)
    b = 60 + 0.4 * x + 0.2 * y
    return Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8))


def _face_at(offset: tuple[float, float], size: int, angle: float = 0.2, scale: float = 1.15) -> Face:
    c, s = math.cos(angle), math.sin(angle)
    points = scale * (template_points(size) - size / 2) @ np.array([[c, s], [-s, c]]) + np.array(offset)
    return Face((0.0, 0.0, 1.0, 1.0), tuple(map(tuple, points)), 0.99)


class CountingDetector:
    """Returns `faces` for every image and counts the calls (the cache must spare the second run)."""

    def __init__(self, faces: list[Face]):
        self.faces, self.calls = faces, 0

    def __call__(self, image: Image.Image) -> list[Face]:
        self.calls += 1
        return list(self.faces)


def test_prepare_image_records_the_transform_that_maps_landmarks_onto_the_template():
    face = _face_at((150.0, 130.0), 64)
    aligned = prepare_image(_smooth_photo(), 64, detector=None, faces=[face])
    points = np.array(face.landmarks) @ aligned.matrix[:, :2].T + aligned.matrix[:, 2]
    np.testing.assert_allclose(points, template_points(64), atol=1e-6)


def test_a_face_at_the_border_is_padded_by_reflection_not_black():
    photo = Image.new("RGB", (200, 200), (120, 150, 90))
    face = _face_at((8.0, 100.0), 64, angle=0.0, scale=1.0)  # the crop reaches ~24 px past the left edge
    crop = np.asarray(prepare_image(photo, 64, detector=None, faces=[face]).crop).astype(int)
    assert np.abs(crop - np.array([120, 150, 90])).max() <= 2  # old code: a black wedge on the left


def test_detection_runs_on_a_shrunk_copy_and_scales_landmarks_back():
    seen = []

    def detector(image):
        seen.append(image.size)
        return [Face((10.0, 10.0, 20.0, 20.0), ((10.0, 10.0),) * 5, 0.9)]

    (face,) = detect_faces(Image.new("RGB", (4000, 3000)), detector, max_side=1000)
    assert seen == [(1000, 750)]
    assert face.box == (40.0, 40.0, 80.0, 80.0) and face.landmarks[0] == (40.0, 40.0)


def test_crop_cache_hits_on_the_second_run_by_content_and_remembers_photos_without_a_face(tmp_path):
    photo = _smooth_photo()
    first, renamed, blank = tmp_path / "a.png", tmp_path / "renamed.png", tmp_path / "blank.png"
    photo.save(first)
    photo.save(renamed)  # same bytes, other name: a hit
    Image.new("RGB", (50, 50), (0, 0, 0)).save(blank)
    face = _face_at((150.0, 130.0), 32)
    detector = CountingDetector([face])

    def no_face_for_black(image):
        return [] if max(image.getextrema()[0]) == 0 else detector(image)

    cache = AlignedCropCache(32, tmp_path / "cache", detector=no_face_for_black)
    crop = cache.crop(first)
    assert crop.size == (32, 32) and cache.crop(blank) is None
    again = AlignedCropCache(32, tmp_path / "cache", detector=no_face_for_black)  # a second run
    assert np.array_equal(np.asarray(again.crop(renamed)), np.asarray(crop))
    assert again.crop(blank) is None
    assert (again.stats.hits, again.stats.misses, again.stats.no_face) == (2, 0, 1)
    assert detector.calls == 1
    other_size = AlignedCropCache(48, tmp_path / "cache", detector=no_face_for_black)
    assert other_size.crop(first).size == (48, 48) and other_size.stats.misses == 1  # size is in the key
    other_zoom = AlignedCropCache(32, tmp_path / "cache", zoom=0.9, detector=no_face_for_black)
    assert other_zoom.key(b"x") != cache.key(b"x")  # and so is the template


def test_paste_back_with_an_identity_generator_returns_the_original_photo():
    """G(x, x) = x: the pasted photo equals the original within 1/255 outside the blend band, and within a
    few levels inside it (two bicubic resamplings)."""
    photo = _smooth_photo()
    face = _face_at((150.0, 130.0), 64)
    aligned = prepare_image(photo, 64, detector=None, faces=[face])
    mix = aligned.crop  # the identity generator's output
    pasted = np.asarray(paste_back(photo, mix, aligned.matrix)).astype(int)
    original = np.asarray(photo).astype(int)
    region = paste_region(photo.size, aligned.matrix, 64)
    weight = np.zeros(original.shape[:2], np.float32)
    left, top, right, bottom = region.box
    weight[top:bottom, left:right] = region.mask
    diff = np.abs(pasted - original).max(-1)
    assert (weight > 0).sum() > 1000 and (weight == 0).sum() > 1000
    assert diff[weight == 0].max() <= 1
    assert diff[weight > 0].max() <= 6


def test_paste_back_blends_the_mix_in_and_matches_its_colour_to_the_photo():
    photo = _smooth_photo()
    aligned = prepare_image(photo, 64, detector=None, faces=[_face_at((150.0, 130.0), 64)])
    blue = Image.new("RGB", (64, 64), (0, 0, 255))
    raw = np.asarray(paste_back(photo, blue, aligned.matrix, colour=False)).astype(int)
    corrected = np.asarray(paste_back(photo, blue, aligned.matrix)).astype(int)
    centre = tuple(np.round(np.array(_face_at((150.0, 130.0), 64).landmarks).mean(0)).astype(int))[::-1]
    assert raw[centre][2] > 240 and raw[centre][0] < 15  # the mix is in
    assert abs(corrected[centre] - np.asarray(photo).astype(int)[centre]).max() < 60  # colour of the face region
    zero = np.zeros((64, 64), np.float32)
    assert np.array_equal(np.asarray(paste_back(photo, blue, aligned.matrix, mask=zero)), np.asarray(photo))


def test_lab_round_trip_is_exact_enough():
    rgb = np.random.default_rng(0).random((50, 3))
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)  # float32: ≪ 1/255


def test_paste_back_keeps_a_12_megapixel_photo_at_full_resolution():
    photo = Image.new("RGB", (4000, 3000), (100, 110, 120))
    face = _face_at((2000.0, 1500.0), 64, scale=12.0)
    aligned = prepare_image(photo, 64, detector=None, faces=[face])
    out = paste_back(photo, Image.new("RGB", (64, 64), (200, 90, 80)), aligned.matrix)
    assert out.size == (4000, 3000)
    assert alignment_matrix(face, 64).shape == (2, 3)


needs_photos = pytest.mark.skipif(not PHOTOS.is_dir(), reason="../shared/photos is absent")


@needs_photos
@pytest.mark.parametrize("size", [64, 128])
def test_judge_tells_the_same_person_from_another_on_aligned_crops(size):
    pytest.importorskip("dlib")
    from g2g_desktop.core.face_align import MtcnnDetector
    from g2g_desktop.core.judge import SAME_PERSON_THRESHOLD, IdentityJudge

    judge, detector = IdentityJudge(), MtcnnDetector()
    crops = {
        name: prepare_image(Image.open(PHOTOS / f"{name}.jpg"), size, detector=detector).crop
        for name in ("person_a_1", "person_a_2", "person_b_1")
    }
    d = {name: judge.descriptor(crop) for name, crop in crops.items()}
    assert all(v is not None and v.shape == (128,) for v in d.values())
    assert judge.distance(d["person_a_1"], d["person_a_2"]) < SAME_PERSON_THRESHOLD
    assert judge.distance(d["person_a_1"], d["person_b_1"]) > SAME_PERSON_THRESHOLD
    assert judge.distance(d["person_a_2"], d["person_b_1"]) > SAME_PERSON_THRESHOLD
    verdict = judge.verdict(crops["person_a_2"], d["person_a_1"], d["person_b_1"])
    assert verdict.found and verdict.closer == 1


def test_judge_says_no_face_instead_of_a_number():
    pytest.importorskip("dlib")
    from g2g_desktop.core.judge import IdentityJudge

    judge = IdentityJudge()
    assert judge.descriptor(_smooth_photo(64, 64)) is None
    verdict = judge.verdict(_smooth_photo(64, 64), np.zeros(128), np.ones(128))
    assert not verdict.found and verdict.to_first is None and verdict.closer is None


def test_meter_reference_of_a_k_shot_person_is_the_mean_of_their_images():
    import torch

    from g2g_desktop.core.identity_meter import read_meter
    from g2g_desktop.core.images import tensor_to_uint8
    from g2g_desktop.core.judge import IdentityJudge

    class MeanColour(IdentityJudge):
        def descriptor(self, image):
            return np.asarray(image, dtype=np.float64).mean((0, 1)) / 255.0

    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
    originals, mixed = tensor_to_uint8(x[:2]), tensor_to_uint8(x[2:])
    judge = MeanColour()
    alone = read_meter(judge, originals, mixed)
    group = read_meter(judge, originals, mixed, people=(None, x[[1, 3]]))
    d = [judge.descriptor(Image.fromarray(a)) for a in (*originals, *mixed)]
    assert alone.mixes[0].to_second == pytest.approx(np.linalg.norm(d[2] - d[1]))
    assert group.mixes[0].to_second == pytest.approx(np.linalg.norm(d[2] - (d[1] + d[3]) / 2), abs=1e-3)
    assert group.mixes[0].to_first == pytest.approx(alone.mixes[0].to_first)
