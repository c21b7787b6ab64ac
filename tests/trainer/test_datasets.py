"""Datasets on disk and the pair sampler: formats, skipped files, pairs of different identities, resume, shards."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.trainer.factories import TinyDataset, write_image
from trainer.datasets import (
    CelebADataset,
    DatasetError,
    DatasetWarning,
    FolderDataset,
    FunitListDataset,
    open_dataset,
)
from trainer.sampler import PairSampler


def test_folder_dataset_labels_by_subfolder(image_tree):
    ds = FolderDataset(image_tree)
    assert ds.class_names == ["alice", "bob", "carol"]
    assert ds.labels == [0, 0, 1, 1, 2, 2]
    assert ds.get_image(2).mode == "RGB" and ds.get_image(2).size == (20, 24)
    assert ds.describe(0).endswith("alice/0.png")


def test_folder_dataset_skips_unreadable_files_with_a_warning(image_tree):
    (image_tree / "bob" / "broken.png").write_bytes(b"not a png at all")
    (image_tree / "bob" / "empty.jpg").write_bytes(b"")
    with pytest.warns(DatasetWarning, match=r"skipped 2 unreadable.*broken\.png.*empty\.jpg"):
        ds = FolderDataset(image_tree)
    assert len(ds) == 6


def test_a_file_pillow_fails_on_with_a_type_error_is_named_not_raised(image_tree, monkeypatch):
    """The fuzz test's hostile TIFF (a strip offset that became a rational) made Pillow raise TypeError on decoding;
    a header Pillow fails on that way is skipped like any unreadable file."""
    import random

    from g2g_desktop.core.images import ImageLoadError
    from tests.core.test_fuzz import SEED_IMAGES, mutate

    hostile = image_tree / "bob" / "hostile.tif"
    hostile.write_bytes(mutate(SEED_IMAGES[6], random.Random(2536), 2))
    ds = FolderDataset(image_tree)  # its header reads: the failure comes when it is decoded
    with pytest.raises(ImageLoadError, match=r"hostile\.tif: corrupt or truncated image \(.*IFDRational"):
        ds.get_image(ds.paths.index(hostile))
    real_open = Image.open

    def header_fails(path, *args, **kwargs):
        if str(path).endswith("hostile.tif"):
            raise TypeError("'IFDRational' object cannot be interpreted as an integer")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("trainer.datasets.Image.open", header_fails)
    with pytest.warns(DatasetWarning, match=r"skipped 1 unreadable.*hostile\.tif \('IFDRational'"):
        assert len(FolderDataset(image_tree)) == 6


def test_folder_dataset_needs_two_identities(tmp_path):
    write_image(tmp_path / "only" / "a.png", (1, 2, 3))
    with pytest.raises(DatasetError, match=r"found 1 identity.*at least 2"):
        FolderDataset(tmp_path)
    with pytest.raises(DatasetError, match="not a folder"):
        FolderDataset(tmp_path / "missing")


def test_celeba_layout(tmp_path):
    for n, colour in enumerate([(1, 1, 1), (2, 2, 2), (3, 3, 3)], start=1):
        write_image(tmp_path / "img_align_celeba" / f"{n:06d}.jpg", colour)
    (tmp_path / "identity_CelebA.txt").write_text("000001.jpg 2880\n000002.jpg 17\n000003.jpg 2880\n000009.jpg 5\n")
    with pytest.warns(DatasetWarning, match=r"000009\.jpg \(missing\)"):
        ds = open_dataset(str(tmp_path), 32)
    assert isinstance(ds, CelebADataset)
    assert ds.class_names == ["17", "2880"] and ds.labels == [1, 0, 1]
    (tmp_path / "identity_CelebA.txt").write_text("000001.jpg\n")
    with pytest.raises(DatasetError, match=r"identity_CelebA.txt:1: expected 'IMAGE IDENTITY'"):
        CelebADataset(tmp_path)


def test_funit_list_file_with_and_without_root(tmp_path):
    images = tmp_path / "animals"
    for cls in ("n02085620", "n02085782"):
        for n in range(2):
            write_image(images / cls / f"{n}.jpg", (n, 50, 90))
    listing = tmp_path / "animals_list_train.txt"
    listing.write_text("n02085620/0.jpg\nn02085620/1.jpg\nn02085782/0.jpg\nn02085782/1.jpg\n")
    ds = open_dataset(f"{listing}::{images}", 32)
    assert isinstance(ds, FunitListDataset) and ds.labels == [0, 0, 1, 1]
    assert ds.class_names == ["n02085620", "n02085782"]
    inside = images / "list.txt"
    inside.write_text(listing.read_text())
    assert len(open_dataset(str(inside), 32)) == 4
    listing.write_text("../escape.jpg\n")
    with pytest.raises(DatasetError, match=r"animals_list_train.txt:1: expected 'class/image.jpg'"):
        FunitListDataset(listing, images)


def test_open_dataset_picks_folders_and_procedural(image_tree, tmp_path):
    assert isinstance(open_dataset(str(image_tree), 32), FolderDataset)
    faces = open_dataset("procedural:3:2", 32)
    assert faces.num_classes == 3 and len(faces) == 6 and faces.get_image(0).size == (32, 32)
    with pytest.raises(DatasetError, match="procedural:x"):
        open_dataset("procedural:x", 32)
    with pytest.raises(DatasetError, match="dataset not found"):
        open_dataset(str(tmp_path / "nowhere"), 32)


# --------------------------------------------------------------------------- sampler


def _sampler(**kwargs) -> PairSampler:
    options = {"batch_size": 3, "image_size": 16, "seed": 5}
    return PairSampler(kwargs.pop("dataset", TinyDataset()), **{**options, **kwargs})


def test_pairs_have_different_identities_and_the_right_shape():
    sampler = _sampler()
    for _ in range(8):
        batch = next(sampler)
        assert batch.x1.shape == batch.x2.shape == (3, 3, 16, 16)
        assert batch.label1.dtype == torch.int64
        assert (batch.label1 != batch.label2).all()
        assert batch.x1.min() >= -1 and batch.x1.max() <= 1


def test_sampler_is_seeded_and_the_seed_matters():
    a, b, c = _sampler(), _sampler(), _sampler(seed=6)
    first = [next(a) for _ in range(3)]
    again = [next(b) for _ in range(3)]
    assert all(torch.equal(x.x1, y.x1) and torch.equal(x.label2, y.label2) for x, y in zip(first, again))
    assert not all(torch.equal(x.x1, next(c).x1) for x in first)


def test_sampler_resumes_mid_epoch():
    straight = _sampler()
    batches = [next(straight) for _ in range(7)]  # 21 pairs: crosses the 12-item epoch boundary
    first = _sampler()
    for _ in range(4):
        next(first)
    state = first.state_dict()
    resumed = _sampler()
    resumed.load_state_dict(state)
    for expected in batches[4:]:
        got = next(resumed)
        assert torch.equal(got.x1, expected.x1) and torch.equal(got.x2, expected.x2)
        assert torch.equal(got.label1, expected.label1)
    with pytest.raises(ValueError, match="seed"):
        _sampler(seed=1).load_state_dict(state)


def test_shards_are_disjoint_within_an_epoch():
    ranks = [_sampler(rank=r, world_size=2, batch_size=2) for r in range(2)]
    anchors = [[ranks[r].pair_indices(g)[0] for b in range(3) for g in ranks[r].stream_indices(b)] for r in range(2)]
    assert not set(anchors[0]) & set(anchors[1])
    assert sorted(anchors[0] + anchors[1]) == list(range(12))


def test_augmentation_flips_and_crops_while_eval_only_resizes():
    dataset = TinyDataset(size=(40, 20))
    image = dataset.get_image(0)
    train = _sampler(dataset=dataset)
    # FUNIT: shorter side 20 -> 16·140/128 = 17.5 -> 18, so 36×18, then a random 16×16 crop (and flips)
    resized = np.asarray(image.resize((36, 18), Image.Resampling.BILINEAR), dtype=np.float32) / 127.5 - 1
    seen_flip, crops = set(), set()
    for k in range(40):
        x = train._transform(image, np.random.default_rng(k)).permute(1, 2, 0).numpy()
        assert x.shape == (16, 16, 3)
        for flip, source in ((False, resized), (True, resized[:, ::-1])):
            matches = [(t, left) for t in range(3) for left in range(21)
                       if np.allclose(source[t:t + 16, left:left + 16], x, atol=1e-6)]
            if matches:
                seen_flip.add(flip)
                crops.add(matches[0])
    assert seen_flip == {False, True} and len(crops) > 5
    evaluation = _sampler(dataset=dataset, train=False)
    index = evaluation.pair_indices(0)[0]
    expected = np.asarray(dataset.get_image(index).resize((16, 16), Image.Resampling.BILINEAR), dtype=np.float32)
    assert torch.allclose(evaluation.load_pair(0)["x1"], torch.from_numpy(expected).permute(2, 0, 1) / 127.5 - 1)


def test_worker_processes_produce_the_same_batches():
    plain, workers = _sampler(), _sampler(num_workers=1)
    try:
        for _ in range(2):
            a, b = next(plain), next(workers)
            assert torch.equal(a.x1, b.x1) and torch.equal(a.label2, b.label2)
        assert workers.state_dict() == plain.state_dict()
    finally:
        workers.close()


def test_sampler_refuses_single_identity_data():
    with pytest.raises(DatasetError, match="at least 2"):
        _sampler(dataset=TinyDataset(classes=1))


def test_image_that_fails_to_decode_is_replaced_by_its_identity_with_a_warning(image_tree):
    good = (image_tree / "bob" / "0.png").read_bytes()
    (image_tree / "bob" / "0.png").write_bytes(good[: len(good) // 2])  # header intact, pixels truncated
    dataset = FolderDataset(image_tree)
    sampler = _sampler(dataset=dataset, batch_size=2)
    broken = dataset.paths.index(image_tree / "bob" / "0.png")
    with pytest.warns(DatasetWarning, match=r"bob/0\.png.*another image of the same identity"):
        image = sampler._image(broken)
    assert image.size == dataset.get_image(broken + 1).size
    (image_tree / "bob" / "1.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match="no image of identity 'bob'"), pytest.warns(DatasetWarning):
        _sampler(dataset=dataset)._image(broken)
