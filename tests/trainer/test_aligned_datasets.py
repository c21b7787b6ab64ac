"""Photo datasets through the mixer's aligner (issue 14): cached crops, no-face photos skipped and counted,
the sampler's crop framed as the mixer's, and the model file recording that it was trained on aligned faces."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from g2g_desktop.core.checkpoint import load_generator_with_info
from g2g_desktop.core.face_align import DEFAULT_ZOOM, Face, template_id, template_points
from g2g_desktop.core.model_file import save_model
from tests.trainer.factories import write_image
from trainer import sampler
from trainer.config import TrainConfig, TrainConfigError, validate_config
from trainer.datasets import ALIGNED_RESIZE_RATIO, AlignedDataset, DatasetWarning, faces_provenance, open_dataset


class FakeMtcnn:
    """A face in the middle of every image that is not black; counts its calls across instances."""

    calls = 0

    def __call__(self, image: Image.Image) -> list[Face]:
        FakeMtcnn.calls += 1
        if max(hi for _, hi in image.getextrema()) == 0:
            return []
        side = min(image.size)
        points = template_points(side) + np.array([(image.width - side) / 2, (image.height - side) / 2])
        return [Face((0.0, 0.0, float(image.width), float(image.height)), tuple(map(tuple, points)), 0.99)]


@pytest.fixture
def photo_tree(tmp_path, monkeypatch):
    monkeypatch.setattr("g2g_desktop.core.face_cache.MtcnnDetector", FakeMtcnn)
    FakeMtcnn.calls = 0
    root = tmp_path / "people"
    for person, colour in (("ann", (200, 40, 40)), ("ben", (40, 200, 40)), ("cat", (40, 40, 200))):
        for i in range(2):
            write_image(root / person / f"{i}.png", tuple(c + 10 * i for c in colour), size=(90, 120))
    write_image(root / "ben" / "dark.png", (0, 0, 0), size=(90, 120))
    return root


def test_aligned_folder_skips_faceless_photos_and_a_second_run_detects_nothing(photo_tree, tmp_path):
    cache = tmp_path / "cache"
    with pytest.warns(DatasetWarning, match=r"skipped 1 image\(s\) without a face: dark\.png"):
        first = open_dataset(str(photo_tree), 64, align=True, cache_dir=cache)
    assert isinstance(first, AlignedDataset) and len(first) == 6 and first.no_face == ["dark.png"]
    assert first.class_names == ["ann", "ben", "cat"]
    side = round(64 * ALIGNED_RESIZE_RATIO)
    assert first.get_image(0).size == (side, side)
    assert FakeMtcnn.calls == 7 and first.cache.stats.misses == 7
    with pytest.warns(DatasetWarning, match="without a face"):
        second = open_dataset(str(photo_tree), 64, align=True, cache_dir=cache)
    assert FakeMtcnn.calls == 7  # nothing detected again
    assert second.cache.stats.hits == 7 and second.cache.stats.hit_rate == 1.0
    assert [np.asarray(second.get_image(i)).tolist() for i in range(6)] == [
        np.asarray(first.get_image(i)).tolist() for i in range(6)
    ]


def test_without_align_the_folder_is_read_as_before(photo_tree):
    data = open_dataset(str(photo_tree), 64)
    assert not isinstance(data, AlignedDataset) and len(data) == 7 and FakeMtcnn.calls == 0


def test_the_samplers_centre_crop_of_an_aligned_crop_is_the_mixers_crop():
    assert ALIGNED_RESIZE_RATIO == sampler.RESIZE_RATIO
    size = 64
    big = round(size * ALIGNED_RESIZE_RATIO)
    in_training = template_points(big, DEFAULT_ZOOM * size / big) - (big - size) / 2
    np.testing.assert_allclose(in_training, template_points(size), atol=1e-9)


def test_align_is_refused_for_procedural_data():
    with pytest.raises(TrainConfigError, match="align"):
        validate_config(TrainConfig(data="procedural", align=True))


def test_model_file_records_aligned_training_and_the_template(tmp_path):
    from g2g_desktop.core.config import NaiveConfig
    from g2g_desktop.core.naive import NaiveGenerator

    tiny_generator = NaiveGenerator(NaiveConfig(image_size=32, nf=8, max_nf=32, n_downs=3, content_dim=16,
                                                class_dim=8, nf_mlp=16))
    aligned, plain = tmp_path / "aligned.safetensors", tmp_path / "plain.safetensors"
    save_model(aligned, tiny_generator, provenance={"data": "faces/", **faces_provenance(True)})
    save_model(plain, tiny_generator, provenance={"data": "procedural:8:4", **faces_provenance(False)})
    info = load_generator_with_info(aligned)[1]
    assert info.aligned and info.provenance["template"] == template_id() and info.trained_on == "photos"
    info = load_generator_with_info(plain)[1]
    assert not info.aligned and info.trained_on == "procedural"


def test_train_cli_align_flag_reaches_the_config(photo_tree):
    from trainer.cli import build_parser
    from trainer.train_command import resolve_config

    args = build_parser().parse_args(["--approach", "naive", "--data", str(photo_tree), "--align", "--out", "r"])
    assert resolve_config(args).align is True
    args = build_parser().parse_args(["--approach", "naive", "--data", str(photo_tree), "--out", "r"])
    assert resolve_config(args).align is False


def test_a_run_on_aligned_photos_writes_a_model_that_says_so(photo_tree, tmp_path, monkeypatch):
    from tests.trainer.factories import Events, tiny_config
    from trainer.engine import TrainingEngine

    monkeypatch.setenv("G2G_CACHE_DIR", str(tmp_path / "cache"))
    config = tiny_config(tmp_path, data=str(photo_tree), align=True, steps=2)
    with pytest.warns(DatasetWarning, match="without a face"):
        TrainingEngine(config, Events(), "cpu").run()
    assert (tmp_path / "cache" / "faces").is_dir()
    info = load_generator_with_info(tmp_path / "run" / "model_latest.safetensors")[1]
    assert info.aligned and info.provenance["template"] == template_id() and info.trained_on == "photos"
