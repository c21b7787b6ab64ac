"""g2g-eval's dlib judge on a folder of real photos (issue 14), with generators whose answer is known:
one that copies its identity input must be verified as the identity person, one that copies its content
input as the content person. Needs ../shared/photos and dlib; skips cleanly without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.test_metrics import CopyGenerator
from trainer.photo_eval import format_judge, judge_photo_folder

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"
pytestmark = pytest.mark.skipif(not PHOTOS.is_dir(), reason="../shared/photos is absent")


@pytest.fixture
def people(tmp_path):
    root = tmp_path / "people"
    for person, files in (("a", ["person_a_1.jpg", "person_a_2.jpg"]), ("b", ["person_b_1.jpg"])):
        (root / person).mkdir(parents=True)
        for name in files:
            (root / person / name).symlink_to(PHOTOS / name)  # linked, never copied
    return root


@pytest.mark.parametrize("copy", ["identity", "content"])
def test_the_judge_verifies_what_a_copying_generator_copies(people, tmp_path, copy):
    pytest.importorskip("dlib")
    gen = CopyGenerator("class" if copy == "identity" else "content", image_size=128)
    result = judge_photo_folder(gen, people, align=True, cache_dir=tmp_path / "cache",
                                log=lambda _: None)
    m = result["metrics"]
    assert m["judge/mixes"] == 4 and m["judge/mix/no_face"] == 0  # a→b: 2×1 mixes, b→a: 1×2
    verified, other = ("identity", "content") if copy == "identity" else ("content", "identity")
    assert m[f"judge/mix/{verified}_verified"] == 1.0 and m[f"judge/mix/{other}_verified"] == 0.0
    assert m["judge/copy_content/content_verified"] == 1.0 and m["judge/copy_identity/identity_verified"] == 1.0
    assert [(p["content"], p["identity"]) for p in result["pairs"]] == [("a", "b"), ("b", "a")]
    assert "copy content (baseline)" in format_judge(result)
