"""The input service without Qt: how images load and how face detection fails (`services.inputs`)."""

from __future__ import annotations

from PIL import Image

from g2g_desktop.services.inputs import detect_all, load_inputs


def test_a_failing_detector_costs_the_alignment_the_same_way_on_load_and_later(tmp_path):
    """One path for a detection failure: on load and when alignment is switched on later, the image is
    used whole (no face) with the same one-line message."""
    Image.new("RGB", (40, 40), "gray").save(tmp_path / "face.png")

    def broken(image):
        raise RuntimeError("MTCNN broke")

    on_load = load_inputs([tmp_path / "face.png"], broken)
    plain = load_inputs([tmp_path / "face.png"], None)
    later = detect_all(plain.images, broken, lambda: None)
    for report in (on_load, later):
        assert report.errors == ["face.png: face detection failed (MTCNN broke)"]
        assert report.images[0].faces == () and not report.images[0].uses_face
        assert report.no_face == report.images  # the notice offers "Use whole image" / "Remove"
