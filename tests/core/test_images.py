from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from g2g_desktop.core.export import matrix_canvas
from g2g_desktop.core.images import (
    ImageLoadError,
    fit_square,
    load_image_tensor,
    looks_like_photo,
    open_image,
    tensor_to_uint8,
    tile,
)
from g2g_desktop.core.pipeline import G2GResult
from g2g_desktop.core.resources import sample_paths

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


def _save(tmp_path, name, image, **kw):
    path = tmp_path / name
    image.save(path, **kw)
    return path


@pytest.mark.parametrize("mode", ["RGBA", "CMYK", "L", "P", "LA", "I;16"])
def test_any_mode_becomes_rgb(tmp_path, mode):
    image = Image.new("RGB", (20, 10), (200, 100, 50)).convert(mode)
    suffix = "tiff" if mode == "CMYK" else "png"
    path = _save(tmp_path, f"img.{suffix}", image)
    out = open_image(path)
    assert out.mode == "RGB" and out.size == (20, 10)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = _save(tmp_path, "rotated.jpg", image, exif=exif)
    assert open_image(path).size == (20, 40)


def test_tensor_is_normalised_to_model_size(tmp_path):
    path = _save(tmp_path, "wide.png", Image.new("RGB", (300, 100), (255, 255, 255)))
    x = load_image_tensor(path, 32)
    assert x.shape == (3, 32, 32)
    torch.testing.assert_close(x, torch.ones(3, 32, 32))
    assert fit_square(open_image(path), 64).size == (64, 64)


def test_uint8_round_trip_of_extremes():
    x = torch.tensor([-1.0, 0.0, 1.0, float("nan")]).view(1, 1, 4).expand(3, 1, 4)
    out = tensor_to_uint8(x)
    assert out.shape == (1, 4, 3)
    assert list(out[0, :, 0]) == [0, 128, 255, 128]


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"definitely not a picture" * 10, "not an image"),
    ],
)
def test_bad_files_are_named(tmp_path, content, expected):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=expected) as err:
        open_image(path)
    assert str(path) in str(err.value)


def test_truncated_png_is_reported(tmp_path):
    path = _save(tmp_path, "cut.png", Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ImageLoadError, match=r"cut.png: (corrupt|truncated|not an image)"):
        open_image(path)


def test_decompression_bomb_is_refused(tmp_path):
    path = _save(tmp_path, "bomb.png", Image.new("1", (12000, 12000)))
    with pytest.raises(ImageLoadError, match=r"(too large|bomb)"):
        open_image(path)


def test_folder_and_missing_file(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageLoadError, match="folder"):
        open_image(tmp_path / "dir.png")
    with pytest.raises(ImageLoadError, match="No such file"):
        open_image(tmp_path / "missing.png")


def _hand_tiled(images: torch.Tensor, rows: int, cols: int, pad: int, pad_value: float) -> torch.Tensor:
    """The canvas `tile` drew before it became make_grid: cell (i, j) at (pad + i·(h+pad), pad + j·(w+pad))."""
    _, c, h, w = images.shape
    canvas = images.new_full((c, rows * h + (rows + 1) * pad, cols * w + (cols + 1) * pad), pad_value)
    for i in range(rows):
        for j in range(cols):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            canvas[:, top : top + h, left : left + w] = images[i * cols + j]
    return canvas


@pytest.mark.parametrize(("rows", "cols", "pad", "pad_value"), [(3, 2, 2, 1.0), (4, 4, 0, 1.0), (1, 5, 3, -1.0),
                                                                 (1, 1, 2, 1.0), (2, 3, 1, 0.5)])
def test_tile_draws_the_same_pixels_as_before(rows, cols, pad, pad_value):
    images = torch.rand(rows * cols, 3, 5, 7, generator=torch.Generator().manual_seed(rows * cols)) * 2 - 1
    assert torch.equal(tile(images, rows, cols, pad, pad_value), _hand_tiled(images, rows, cols, pad, pad_value))


def test_grid_and_matrix_are_tiled_alike():
    x = torch.rand(3, 3, 4, 4) * 2 - 1
    result = G2GResult(original=x[:2], mixed=x[1:], reconstructed=x[[0, 2]])
    assert torch.equal(result.grid(), _hand_tiled(torch.cat([x[:2], x[1:], x[[0, 2]]]), 3, 2, 2, 1.0))
    matrix = torch.rand(3, 3, 3, 4, 4) * 2 - 1
    cells = [torch.ones(1, 3, 4, 4), x]
    for i in range(3):
        cells += [x[i : i + 1], matrix[i]]
    assert torch.equal(matrix_canvas(x, matrix), _hand_tiled(torch.cat(cells), 4, 4, 2, 1.0))


def test_tile_counts_its_cells():
    with pytest.raises(ValueError, match="need 6 images for a 3x2 grid, got 5"):
        tile(torch.zeros(5, 3, 4, 4), 3, 2)


def test_drawn_faces_do_not_look_like_photos_and_noisy_ones_do():
    """Issue 21 item 3: the bundled samples (which MTCNN finds faces in) are renderings, not photos."""
    assert not any(looks_like_photo(open_image(p)) for p in sample_paths())
    rng = np.random.default_rng(0)
    ramp = np.linspace(40, 200, 96)[None, :, None] + rng.normal(0, 6, (80, 96, 3))
    assert looks_like_photo(Image.fromarray(ramp.clip(0, 255).astype(np.uint8)))
    for photo in sorted(PHOTOS.glob("*.jpg")):  # none where ../shared/photos is absent
        assert looks_like_photo(open_image(photo)), photo.name
