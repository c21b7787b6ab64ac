"""A reader of dlib's own DNN files (`dlib::serialize(net)`), returning plain layer records; runs nothing.

dlib writes a network from the loss layer down to the input layer: every `add_layer` writes its version and
then its sub-network, so the file holds the wrappers' versions top-down, the input layer, and then each layer's
fields bottom-up (dlib/dnn/core.h). The encodings (dlib/serialize.h, dlib/dnn/tensor.h):

* integer: a control byte (bit 7 = negative, low 4 bits = number of value bytes), then the bytes
  little-endian (`01 01` = 1; 0 is `01 00`);
* string: its length as an integer, then the characters; bool: the character '0' or '1';
* float: two integers, a mantissa and a 16-bit exponent, value = mantissa·2^exponent;
* tensor: version, then num_samples, k, nr, nc and the values (version 2: 4-byte little-endian IEEE floats,
  version 1: floats as above); an alias tensor (a view into a layer's parameters) writes only its shape.

Tag and skip layers write only their version (1), so which tag a skip or add_prev refers to is not in the
file: the network that reads the records (`trainer.dlib_face_net`) knows it from dlib's model definition.
Every problem is a `CheckpointError` naming the file; sizes are checked against the bytes left before
anything is allocated, so a hostile or truncated file cannot make the reader allocate or loop without end.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from g2g_desktop.core.safe_io import CheckpointError, check_readable

MAX_FILE_BYTES = 1 << 30  # dlib's largest released networks are ~100 MB
TAG_OR_SKIP = "tag_or_skip"  # a tag or skip wrapper: no fields of its own


@dataclass(frozen=True)
class DlibLayer:
    """One layer of a dlib network: dlib's serialization name, its integer/float fields and its tensors."""

    kind: str  # e.g. "con_4", "affine_", "relu_", TAG_OR_SKIP
    values: dict[str, float] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class DlibNet:
    """A parsed file: the loss layer's name and fields, and the layers from the input layer up."""

    loss: DlibLayer
    layers: tuple[DlibLayer, ...]  # layers[0] is the input layer


class _Reader:
    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def fail(self, problem: str) -> CheckpointError:
        return CheckpointError(self.path, f"not a readable dlib network: {problem} (at byte {self.pos})")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.fail(f"truncated: {n} more bytes expected, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        control = self.take(1)[0]
        size = control & 0x0F
        if control & 0x70 or size == 0 or size > 8:
            raise self.fail(f"bad integer control byte 0x{control:02x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def count(self, what: str, limit: int) -> int:
        value = self.int()
        if not 0 <= value <= limit:
            raise self.fail(f"{what} {value} is out of range")
        return value

    def float(self) -> float:
        mantissa, exponent = self.int(), self.int()
        try:
            value = math.ldexp(mantissa, exponent)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise self.fail("a number in the file is not finite")
        return value

    def string(self) -> str:
        raw = self.take(self.count("string length", 256))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail("a layer name is not text") from None

    def bool(self) -> bool:
        char = self.take(1)
        if char not in (b"0", b"1"):
            raise self.fail(f"bad bool byte {char!r}")
        return char == b"1"

    def shape(self, kind: str) -> tuple[int, int, int, int]:
        version = self.int()
        if version != 1:
            raise self.fail(f"{kind}: alias tensor version {version} (known: 1)")
        return tuple(self.count("tensor dimension", len(self.data)) for _ in range(4))

    def tensor(self) -> torch.Tensor:
        version = self.int()
        if version not in (1, 2):
            raise self.fail(f"tensor version {version} (known: 1, 2)")
        dims = [self.count("tensor dimension", len(self.data)) for _ in range(4)]
        size = math.prod(dims)
        if size > (len(self.data) - self.pos) // 4:  # a float takes 4 bytes or more in either version
            raise self.fail(f"truncated: a tensor of shape {tuple(dims)} does not fit in the bytes left")
        if version == 2:
            values = np.frombuffer(self.take(4 * size), dtype="<f4").astype(np.float32)
        else:
            values = np.array([self.float() for _ in range(size)], dtype=np.float32)
        if not np.isfinite(values).all():
            raise self.fail("a tensor holds values that are not finite")
        return torch.from_numpy(values).reshape(dims)


def _params(r: _Reader, kind: str, params: torch.Tensor, parts: dict[str, tuple[int, ...]]) -> dict:
    """Split a layer's flat parameter tensor into its alias views (dlib stores them back to back)."""
    flat, out, offset = params.reshape(-1), {}, 0
    for name, shape in parts.items():
        n = math.prod(shape)
        if offset + n > flat.numel():
            raise r.fail(f"{kind}: {name} of shape {shape} does not fit its {flat.numel()} parameters")
        out[name] = flat[offset:offset + n].reshape(shape).clone()
        offset += n
    if offset != flat.numel():
        raise r.fail(f"{kind}: {flat.numel()} parameters for {offset} values")
    return out


def _layer(r: _Reader, kind: str) -> DlibLayer:
    """The fields of one layer after its name, as each layer's `serialize` in dlib/dnn/layers.h writes them."""
    if kind == "con_4":
        params = r.tensor()
        names = ("num_filters", "nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
        values = {name: r.count(name, 1 << 16) for name in names}
        filters, biases = r.shape(kind), r.shape(kind)
        values.update((name, r.float()) for name in ("lr_mult", "wd_mult", "bias_lr_mult", "bias_wd_mult"))
        return DlibLayer(kind, values, _params(r, kind, params, {"weight": filters, "bias": biases}))
    if kind == "affine_":
        params = r.tensor()
        gamma, beta = r.shape(kind), r.shape(kind)
        mode = r.int()
        if mode not in (0, 1):
            raise r.fail(f"affine_: unknown mode {mode}")
        return DlibLayer(kind, {"mode": mode}, _params(r, kind, params, {"gamma": gamma, "beta": beta}))
    if kind == "fc_2":
        outputs, inputs, params = r.count("num_outputs", 1 << 20), r.count("num_inputs", 1 << 24), r.tensor()
        weights, biases = r.shape(kind), r.shape(kind)
        values = {"num_outputs": outputs, "num_inputs": inputs, "bias_mode": r.int()}
        values.update((name, r.float()) for name in ("lr_mult", "wd_mult", "bias_lr_mult", "bias_wd_mult"))
        parts = {"weight": weights, "bias": biases} if math.prod(biases) else {"weight": weights}
        return DlibLayer(kind, values, _params(r, kind, params, parts))
    if kind in ("max_pool_2", "avg_pool_2"):
        names = ("nr", "nc", "stride_y", "stride_x", "padding_y", "padding_x")
        return DlibLayer(kind, {name: r.count(name, 1 << 16) for name in names})
    if kind in ("relu_", "add_prev_"):
        return DlibLayer(kind)
    if kind == "input_rgb_image_sized":
        means = {name: r.float() for name in ("avg_red", "avg_green", "avg_blue")}
        return DlibLayer(kind, {**means, "nr": r.count("rows", 1 << 16), "nc": r.count("columns", 1 << 16)})
    if kind == "loss_metric_2":
        return DlibLayer(kind, {"margin": r.float(), "distance_threshold": r.float()})
    raise r.fail(f"unsupported dlib layer {kind!r}")


def _wrapper_state(r: _Reader, input_wrapper: bool) -> None:
    """An add_layer's bookkeeping after its layer: three bools and three (empty) tensors, plus, for the
    layer on the input (add_layer version 3), the sample expansion factor."""
    for _ in range(3):
        r.bool()
    for _ in range(3):
        r.tensor()
    if input_wrapper:
        r.int()


def read_dlib_net(path: str | os.PathLike) -> DlibNet:
    """Parse a dlib DNN file (e.g. dlib_face_recognition_resnet_model_v1.dat) into layer records."""
    path = Path(path)
    check_readable(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CheckpointError(path, f"not a dlib network: larger than {MAX_FILE_BYTES >> 20} MB")
    r = _Reader(path.read_bytes(), path)
    if r.int() != 1:
        raise r.fail("it does not start with a loss layer (add_loss_layer version 1)")
    loss = _layer(r, r.string())
    wrappers: list[int] = []  # versions top-down: 2 = add_layer, 1 = tag or skip, 3 = add_layer on the input
    while not wrappers or wrappers[-1] != 3:
        version = r.int()
        if version not in (1, 2, 3):
            raise r.fail(f"unknown layer wrapper version {version}")
        wrappers.append(version)
    layers = [_layer(r, r.string())]
    for version in reversed(wrappers):
        if version == 1:
            layers.append(DlibLayer(TAG_OR_SKIP))
            continue
        layers.append(_layer(r, r.string()))
        _wrapper_state(r, input_wrapper=version == 3)
    if r.pos != len(r.data):
        raise r.fail(f"{len(r.data) - r.pos} unexpected bytes after the network")
    return DlibNet(loss, tuple(layers))
