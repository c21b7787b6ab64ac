"""Procedural faces: determinism, factor independence, the data set's split, ground truth and export."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from trainer.datasets import IdentityDataset
from trainer.face_factors import HAIR_STYLES, IdentityFactors, RestFactors, factor_vector
from trainer.procedural_dataset import ProceduralFaceDataset, main
from trainer.procedural_faces import render, render_with_masks


def _ident(seed: int) -> IdentityFactors:
    return IdentityFactors.sample(np.random.default_rng(seed))


def _rest(seed: int) -> RestFactors:
    return RestFactors.sample(np.random.default_rng(1000 + seed))


@pytest.mark.parametrize("size", [64, 128])
def test_render_is_deterministic_rgb_of_the_requested_size(size):
    a = render(_ident(1), _rest(1), size)
    b = render(_ident(1), _rest(1), size)
    assert a.mode == "RGB" and a.size == (size, size)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_sampling_is_deterministic_and_varied():
    assert _ident(3) == _ident(3) and _rest(3) == _rest(3)
    styles = {_ident(s).hair_style for s in range(60)}
    assert styles == set(range(len(HAIR_STYLES)))
    assert len({_rest(s).yaw for s in range(20)}) == 20


def test_edges_are_anti_aliased():
    # Drawing at 4x and box-downsampling leaves intermediate values along edges: many distinct colours.
    image = np.asarray(render(_ident(2), RestFactors(pattern=0), 64)).reshape(-1, 3)
    assert len(np.unique(image, axis=0)) > 200


def _skin_mean(identity, rest) -> np.ndarray:
    r = render_with_masks(identity, rest, 64)
    assert r.skin.sum() > 150, "the face must show some bare skin"
    return np.asarray(r.image, float)[r.skin].mean(axis=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rest_factors_leave_identity_statistics_unchanged(seed):
    """Pose, expression, framing, background and light move pixels but keep the mean skin colour."""
    identity = _ident(seed)
    base = RestFactors(light_strength=0.3, light_angle=0.0)
    reference = _skin_mean(identity, base)
    changes = [
        dict(yaw=0.45),
        dict(roll=-0.25),
        dict(dx=0.05, dy=-0.04, scale=0.9),
        dict(smile=-0.7, mouth_open=0.8, eye_open=0.3, brow_raise=0.9),
        dict(bg_hue=0.1, bg_value=0.4, pattern=1),
        dict(light_angle=2.0),  # the light turns; its strength is a brightness change by design
    ]
    for change in changes:
        rest = dataclasses.replace(base, **change)
        assert not np.array_equal(np.asarray(render(identity, rest)), np.asarray(render(identity, base)))
        assert np.abs(_skin_mean(identity, rest) - reference).max() < 4.0, change


def test_identity_factors_change_the_face_but_not_rest_statistics():
    """A different person under the same rest: same background, same face centre; different skin."""
    rest = dataclasses.replace(_rest(5), pattern=0, dx=0.0, dy=0.0)
    a, b = render_with_masks(_ident(10), rest, 64), render_with_masks(_ident(11), rest, 64)
    img_a, img_b = np.asarray(a.image, float), np.asarray(b.image, float)
    corners = (slice(0, 4), slice(0, 4))
    assert np.abs(img_a[corners] - img_b[corners]).max() <= 1.0
    background = ~a.head & ~b.head
    assert np.abs(img_a[background].mean(0) - img_b[background].mean(0)).max() <= 1.0

    def centre(mask):
        ys, xs = np.nonzero(mask)
        return np.array([xs.mean(), ys.mean()])

    assert np.abs(centre(a.skin) - centre(b.skin)).max() < 4.0
    skin_a, skin_b = img_a[a.skin].mean(0), img_b[b.skin].mean(0)
    assert np.abs(skin_a - skin_b).max() > 5 or _ident(10).skin_tone == _ident(11).skin_tone


def test_yaw_moves_features_geometrically_not_by_rotating_the_image():
    identity = dataclasses.replace(_ident(4), hair_style=HAIR_STYLES.index("bald"))
    left = render_with_masks(identity, RestFactors(yaw=-0.5, pattern=0), 64)
    right = render_with_masks(identity, RestFactors(yaw=0.5, pattern=0), 64)
    # The face outline (head mask) barely moves, while the features (non-skin inside the face) shift.
    features_l = left.head & ~left.skin
    features_r = right.head & ~right.skin
    head_shift = abs(np.nonzero(left.head)[1].mean() - np.nonzero(right.head)[1].mean())
    feat_shift = np.nonzero(features_r[20:45])[1].mean() - np.nonzero(features_l[20:45])[1].mean()
    assert feat_shift > 3 * max(head_shift, 1.0)


def test_factor_vector_splits_continuous_and_categorical():
    cont_names, cont, cat_names, cat = factor_vector(_ident(0))
    assert "hair_style" in cat_names and "ear_style" in cat_names
    assert "eye_colour.r" in cont_names and len(cont_names) == len(cont)
    assert cat.dtype.kind == "i" and len(cat) == len(cat_names)


def test_dataset_labels_split_and_ground_truth():
    train = ProceduralFaceDataset(num_identities=4, samples_per_identity=3, image_size=64, seed=7)
    held = ProceduralFaceDataset(num_identities=4, samples_per_identity=3, image_size=64, seed=7, split="heldout")
    assert isinstance(train, IdentityDataset)
    assert len(train) == 12 and train.num_classes == 4 and train.labels[:4] == [0, 0, 0, 1]
    assert not set(train.identities) & set(held.identities)
    assert train.get_image(5).size == (64, 64) and train.get_image(5).mode == "RGB"
    assert "identity 1" in train.describe(5)
    # Ground truth of (content 0, class 5) = identity of item 5 rendered with the rest of item 0.
    truth = train.ground_truth(0, 5)
    expected = render(train.identities[train.labels[5]], train.rests[0], 64)
    assert np.array_equal(np.asarray(truth), np.asarray(expected))
    assert np.array_equal(np.asarray(train.ground_truth(0, 1)), np.asarray(train.get_image(0)))
    again = ProceduralFaceDataset(num_identities=4, samples_per_identity=3, image_size=64, seed=7)
    assert np.array_equal(np.asarray(again.get_image(7)), np.asarray(train.get_image(7)))


def test_dataset_rejects_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        ProceduralFaceDataset(2, 2, split="test")
    with pytest.raises(ValueError, match="image_size"):
        ProceduralFaceDataset(2, 2, image_size=50)
    with pytest.raises(ValueError, match="positive"):
        ProceduralFaceDataset(0, 2)


def test_export_writes_an_identity_folder_tree(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "faces"), "--identities", "3", "--samples", "2", "--size", "32"]) == 0
    folders = sorted(p.name for p in (tmp_path / "faces").iterdir())
    assert folders == ["train_0000", "train_0001", "train_0002"]
    assert len(list((tmp_path / "faces" / "train_0001").glob("*.png"))) == 2
    assert "wrote 6 images" in capsys.readouterr().out


def test_contact_sheet_cli(tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert main(["--sheet", str(out), "--identities", "2", "--samples", "3", "--size", "32"]) == 0
    assert Image.open(out).size == (3 * 32, 2 * 32)
    with pytest.raises(SystemExit):
        main(["--identities", "2"])  # neither --out nor --sheet
