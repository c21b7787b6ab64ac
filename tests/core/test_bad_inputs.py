"""Every file of the generated bad-input corpus through the image loader.

The contract (DESIGN.md, reliability): a file either loads as a valid picture (finite tensor in [-1, 1]
of the requested shape, EXIF rotation applied) or raises `ImageLoadError` with a one-line, printable
message naming the file and the cause. Never another exception, never a hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest
import torch

from g2g_desktop.core.images import ImageLoadError, display_name, list_images, load_image_tensor, open_image
from tests.factories import ROOT, load_script

CORPUS = load_script("make_bad_inputs")
CASES = [case for case, _ in CORPUS.corpus_cases()]
SIZE = 32


def assert_clear_message(error: ImageLoadError, case) -> None:
    message = str(error)
    assert "\n" not in message and "\r" not in message, f"multi-line message: {message!r}"
    message.encode("utf-8")  # printable in a UTF-8 console: no lone surrogates
    assert display_name(case.name) in message, f"message does not name the file: {message!r}"
    assert any(word.lower() in message.lower() for word in case.cause), f"{message!r} lacks any of {case.cause}"


def check_case(case, root, load):
    """Run `load(path)`; return the result or None when it failed the allowed way."""
    try:
        result = load(case.path(root))
    except ImageLoadError as error:
        assert case.expect in ("error", "either"), f"{case.name!r} should load, got: {error}"
        assert_clear_message(error, case)
        return None
    assert case.expect in ("ok", "either"), f"{case.name!r} should be refused, it loaded"
    return result


@pytest.mark.timeout(20)
@pytest.mark.parametrize("case", CASES, ids=[display_name(c.name) for c in CASES])
def test_open_image(bad_inputs, case):
    root, _ = bad_inputs
    image = check_case(case, root, open_image)
    if image is not None:
        assert image.mode == "RGB"
        assert image.size == tuple(case.size)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("case", CASES, ids=[display_name(c.name) for c in CASES])
def test_load_image_tensor(bad_inputs, case):
    root, _ = bad_inputs
    x = check_case(case, root, lambda path: load_image_tensor(path, SIZE))
    if x is not None:
        assert x.shape == (3, SIZE, SIZE) and x.dtype == torch.float32
        assert torch.isfinite(x).all()
        assert x.min() >= -1.0 and x.max() <= 1.0


def test_exif_orientation_is_applied(bad_inputs):
    """Stored 40×20 with red left / blue right and orientation 6 (rotate 90° clockwise to display):
    upright it is 20×40 with red on top and blue at the bottom."""
    root, _ = bad_inputs
    image = open_image(os.path.join(os.fsencode(root), b"exif_rotated.jpg"))
    assert image.size == (20, 40)
    top, bottom = image.getpixel((10, 3)), image.getpixel((10, 36))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_float_image_with_nan_and_inf_keeps_its_contrast(bad_inputs):
    """Mode-F pixels that are NaN/±Inf must not wipe out the picture (they used to overflow the
    normalisation and turn the whole image black with RuntimeWarnings)."""
    root, _ = bad_inputs
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        x = load_image_tensor(os.path.join(os.fsencode(root), b"float_nan.tif"), 8)
    assert x.std() > 0.2


def test_sixteen_bit_images_are_scaled_not_clipped(bad_inputs):
    root, _ = bad_inputs
    gray = open_image(os.path.join(os.fsencode(root), b"gray16.png"))
    assert 150 <= gray.getpixel((0, 0))[0] <= 160  # 40000 / 65535 of full scale, not clipped to 255


def test_list_images_skips_folders_loops_and_pipes(bad_inputs):
    root, _ = bad_inputs
    listed = {p.name for p in list_images(root)}
    for name in ("folder.png", "loop.png", "dangling.jpg", "fifo.png"):
        assert name not in listed
    assert "rgba.png" in listed


def test_messages_of_hostile_names_stay_on_one_line():
    error = ImageLoadError(b"/photos/a\nb\xff.png", "corrupt or truncated image (line one\nline two)")
    assert str(error) == "/photos/a\\nb\\xff.png: corrupt or truncated image (line one line two)"


@pytest.mark.timeout(60)
def test_generator_script_runs_from_the_command_line(tmp_path):
    out = tmp_path / "corpus"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_bad_inputs.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    manifest = CORPUS.load_manifest(out)
    assert [c.name for c in manifest] == [c.name for c in CASES]
    os.chmod(os.path.join(os.fsencode(out), b"unreadable.png"), 0o644)
